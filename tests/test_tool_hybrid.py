"""The hybrid: the fast path when it is sure, else the schema-constrained LLM; and its wiring."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cairn.command import understand
from cairn.command.operations import from_api_tool
from cairn.command.schema_match import OperationIndex
from cairn.command.tool_hybrid import (
    Cutoffs,
    HybridMatcher,
    fast_confidence,
    fast_is_sure,
    load_tool_llm,
    matcher_for,
    matcher_from_env,
)
from cairn.command.tool_llm import ToolCallEngine, ToolLLMError
from cairn.errors import CairnError
from cairn.models import gguf_files
from cairn.models.embed import HashingEmbedder
from cairn.models.llm import FakeLLM
from cairn.tools.openapi import parse_spec
from cairn.tools.registry import ApiTool

TODAY = date(2026, 12, 3)
ALWAYS_FAST = Cutoffs(call=0.0, none=10.0)
ALWAYS_LLM = Cutoffs(call=10.0, none=-10.0)

# A made-up garden-sensor API.
GARDEN = {
    "openapi": "3.0.3",
    "info": {"title": "Garden", "version": "1"},
    "servers": [{"url": "http://127.0.0.1:9001"}],
    "paths": {
        "/moisture": {"get": {
            "operationId": "getSoilMoisture",
            "summary": "Soil moisture readings of a garden bed",
            "parameters": [
                {"name": "bed", "in": "query", "required": True,
                 "schema": {"type": "string", "enum": ["herbs", "roses", "tomatoes"]}},
                {"name": "days", "in": "query", "schema": {"type": "integer"}},
            ],
        }},
        "/valve": {"get": {
            "operationId": "getValveState",
            "summary": "Whether the irrigation valve of a bed is open",
            "parameters": [
                {"name": "bed", "in": "query", "required": True,
                 "schema": {"type": "string", "enum": ["herbs", "roses", "tomatoes"]}},
            ],
        }},
        "/rain": {"get": {
            "operationId": "getRainfall",
            "summary": "Rain gauge totals per day",
            "parameters": [{"name": "from", "in": "query", "required": True,
                            "schema": {"type": "string", "format": "date"}}],
        }},
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def index() -> OperationIndex:
    ops = from_api_tool(ApiTool("garden", parse_spec(GARDEN), ("127.0.0.1",)))
    index = OperationIndex(ops, HashingEmbedder(256))
    index.prepare()
    return index


def _hybrid(reply: str | list[str], cutoffs: Cutoffs = ALWAYS_LLM, k: int = 2) -> HybridMatcher:
    engine = ToolCallEngine(FakeLLM(reply), max_candidates=k)
    return HybridMatcher(engine, mode="hybrid", cutoffs=cutoffs)


def _calls(m: HybridMatcher) -> list[Any]:
    assert m.engine is not None
    llm = m.engine.llm
    assert isinstance(llm, FakeLLM)
    return llm.calls


def _call(name: str, **arguments: Any) -> str:
    return json.dumps({"name": name, "arguments": arguments})


def test_a_sure_fast_path_never_asks_the_llm(index: OperationIndex) -> None:
    m = _hybrid(_call("garden.getRainfall", **{"from": "2026-01-01"}), cutoffs=ALWAYS_FAST)
    got = m.decide(index, "soil moisture of the roses bed", today=TODAY)
    assert got.route == "fast" and not _calls(m)
    assert got.command == index.match("soil moisture of the roses bed", today=TODAY).command


def test_an_unsure_fast_path_asks_the_llm_over_its_front_runners(index: OperationIndex) -> None:
    m = _hybrid(_call("garden.getValveState", bed="roses"), k=2)
    got = m.decide(index, "is the water running on the roses", today=TODAY)
    assert got.route == "llm"
    assert got.command is not None and got.command.engine == "llm"
    assert got.command.intent == "call_api" and got.command.api_operation == "garden.getValveState"
    assert got.command.api_params == {"bed": "roses"}
    _messages, schema = _calls(m)[0]
    assert schema is not None
    offered = [a["properties"]["name"]["const"] for a in schema["oneOf"]]
    front = {c.op.key for c in got.match.candidates[:2]}
    # the two front runners, in registration order (a stable prompt prefix), and "none"
    assert set(offered[:-1]) == front and offered[-1] == "none"
    order = [op.key for op in index.ops]
    assert offered[:-1] == sorted(offered[:-1], key=order.index)
    assert got.call() == (index.ops[order.index("garden.getValveState")], {"bed": "roses"})


def test_an_invalid_llm_reply_falls_back_to_the_fast_path(index: OperationIndex) -> None:
    text = "soil moisture of the roses bed"
    fast = index.match(text, today=TODAY).command
    for bad in (
        _call("garden.getSoilMoisture", bed="lawn"),  # outside the enum
        _call("garden.deleteEverything"),  # not a candidate
        "not json at all",
    ):
        got = _hybrid(bad, k=3).decide(index, text, today=TODAY)
        assert got.route == "llm-fallback" and got.command == fast
        assert got.reply is not None and got.reply.problem


def test_a_missing_required_value_becomes_a_question(index: OperationIndex) -> None:
    got = _hybrid(_call("garden.getSoilMoisture", days=3), k=3).decide(
        index, "moisture over three days", today=TODAY
    )
    assert got.command is not None and got.command.intent == "clarify"
    assert got.command.api_operation == "garden.getSoilMoisture"
    assert "bed" in (got.command.clarification or "")
    assert got.call() is None


def test_no_call_from_the_llm_lets_the_other_intents_answer(index: OperationIndex) -> None:
    m = _hybrid(json.dumps({"name": "none"}))
    assert m.decide(index, "search my notes for compost", today=TODAY).command is None
    command = understand("search my notes for compost", tools=index, tool_matcher=m)
    assert command.intent == "search" and command.query and "compost" in command.query


def test_understand_takes_the_llm_call_through_the_hook(index: OperationIndex) -> None:
    m = _hybrid(_call("garden.getRainfall", **{"from": "2026-11-01"}), k=3)
    command = understand("how wet was november", tools=index, tool_matcher=m, today=TODAY)
    assert command.intent == "call_api" and command.api_operation == "garden.getRainfall"
    assert command.api_params == {"from": "2026-11-01"} and command.engine == "llm"


def test_llm_mode_shows_every_operation_however_few_the_front_runners(
    index: OperationIndex,
) -> None:
    engine = ToolCallEngine(
        FakeLLM(_call("garden.getRainfall", **{"from": "2026-11-01"})), max_candidates=1
    )
    got = HybridMatcher(engine, mode="llm").decide(index, "soil moisture of the roses bed")
    assert got.route == "llm" and got.command is not None
    schema = engine.llm.calls[0][1]  # type: ignore[attr-defined]
    assert len(schema["oneOf"]) == len(index.ops) + 1
    bad = ToolCallEngine(FakeLLM("garbage"))
    assert HybridMatcher(bad, mode="llm").decide(index, "roses").command is None


def test_confidence_is_the_call_gates_probability(index: OperationIndex) -> None:
    match = index.match("soil moisture of the roses bed", today=TODAY)
    assert match.command is not None and match.relevance is not None
    p = match.relevance
    assert fast_confidence(match) == p
    assert fast_is_sure(match, Cutoffs(call=p, none=0.0))
    assert not fast_is_sure(match, Cutoffs(call=p + 0.001, none=0.0))
    nothing = index.match("tell me a joke about penguins", today=TODAY)
    assert nothing.command is None and nothing.relevance is not None
    q = nothing.relevance
    assert fast_is_sure(nothing, Cutoffs(call=1.0, none=q))
    assert not fast_is_sure(nothing, Cutoffs(call=1.0, none=q - 0.001))


def test_without_a_gate_confidence_is_the_best_score(index: OperationIndex) -> None:
    match = index.match("soil moisture of the roses bed", today=TODAY, threshold=0.5)
    assert match.relevance is None and match.command is not None and match.best is not None
    s = match.best.score
    assert fast_confidence(match) == s
    assert fast_is_sure(match, Cutoffs(call=s, none=0.0))
    assert not fast_is_sure(match, Cutoffs(call=s + 0.01, none=0.0))


def test_engine_choice_errors_are_clear() -> None:
    assert matcher_for("fast", None).mode == "fast"
    with pytest.raises(ToolLLMError, match="unknown engine 'smart'"):
        matcher_for("smart", None)
    with pytest.raises(ToolLLMError, match="needs --llm"):
        matcher_for("hybrid", None)
    with pytest.raises(ValueError):
        HybridMatcher(None, mode="llm")


def test_a_missing_llm_extra_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import cairn.models.llm as llm_mod

    real = llm_mod.importlib.import_module

    def no_llama(name: str, package: str | None = None) -> Any:
        if name == "llama_cpp":
            raise ImportError("No module named 'llama_cpp'")
        return real(name, package)

    monkeypatch.setattr(llm_mod.importlib, "import_module", no_llama)
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    with pytest.raises(CairnError, match=r"cairn\[llm\]"):
        load_tool_llm(str(model))
    monkeypatch.setenv("CAIRN_TOOL_ENGINE", "hybrid")
    monkeypatch.setenv("CAIRN_TOOL_LLM", str(model))
    with pytest.raises(CairnError, match=r"cairn\[llm\]"):
        matcher_from_env()
    monkeypatch.setenv("CAIRN_TOOL_ENGINE", "fast")
    assert matcher_from_env() is None


def test_model_names_resolve_to_the_models_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CAIRN_MODELS", str(tmp_path))
    assert gguf_files.resolve("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"
    with pytest.raises(CairnError, match=r"scripts/get-llm qwen0\.5b"):
        gguf_files.resolve("qwen0.5b")
    (tmp_path / gguf_files.KNOWN["qwen0.5b"][0]).write_bytes(b"GGUF")
    assert gguf_files.resolve("Qwen0.5B") == str(tmp_path / gguf_files.KNOWN["qwen0.5b"][0])
    assert gguf_files.resolve("smollm2") == "local"  # the packaged copy


def test_the_cli_refuses_an_llm_engine_without_a_model() -> None:
    from cairn.cli import app

    env = {**os.environ, "CAIRN_KB": "/nonexistent/kb.sqlite"}
    result = CliRunner().invoke(app, ["understand", "rain in may", "--engine", "hybrid",
                                      "--no-tools"], env=env)  # fmt: skip
    assert result.exit_code == 2
    assert "needs --llm" in result.output


def test_the_llm_reads_spoken_numbers_as_digits(index: OperationIndex) -> None:
    m = _hybrid(_call("garden.getRainfall", **{"from": "2005-03-01"}))
    m.decide(index, "rain since march first two thousand five", today=TODAY)
    messages, _schema = _calls(m)[0]
    request = messages[-1]["content"]
    assert "2005" in request and "two thousand" not in request
