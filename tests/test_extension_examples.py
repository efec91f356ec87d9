"""Examples of extending Cairn by touching the files docs/architecture.md names.

An intent: a handler (act + reply) registered in ``cairn.pipeline.intents``; the pipeline's act
and answer stages find it by the command's intent. A real intent also gets its name in
``Intent`` (``command/model.py``) and a grammar rule; here a fake understanding step stands in
for those, so the example shows only the table.

An embedder: registered by the model name it records (``cairn.compose.register_embedder``); a
knowledge base it filled then opens with it (``cairn.open``).

A tool type: a marker in the stored catalogue entry and a call function registered for it
(``cairn.tools.registry.register_tool_type``); ``call_command`` dispatches to it.

A store backend: an in-memory run log (the ``RunLog`` protocol alone) beside SQLite documents,
passing the run log's conformance suite.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cairn
from cairn import compose
from cairn.command.model import Command
from cairn.events import Event, EventType, Stage
from cairn.graph.extract import CapitalisedExtractor
from cairn.kb.protocol import RunLog
from cairn.kb.runs import check_limit, run_from_row, run_needle, run_row
from cairn.kb.sqlite import SQLiteStore
from cairn.kb.types import Source
from cairn.knowledge import KnowledgeBase
from cairn.models import embed
from cairn.models.embed import Embedder, Vectors
from cairn.pipeline import run_pipeline, stages
from cairn.pipeline.intents import (
    ActContext,
    ActResult,
    IntentHandler,
    Reply,
    handler_for,
    register_intent,
    unregister_intent,
)
from cairn.tools import registry
from cairn.tools.registry import ApiResult, call_command, list_api_tools, store_rows
from conformance_runs import RunLogConformance
from helpers import fake_kb

DOCS = {"tides.txt": "The harbour floods at spring tides. Boats leave at high water."}


def _count_sources(ctx: ActContext) -> ActResult:
    n = len(ctx.kb.sources(ctx.command.collection))
    return ActResult(ctx.command.intent, "message", message=f"{n} sources about {ctx.query}")


def _count_reply(
    kb: KnowledgeBase, command: Command, result: ActResult, data: dict[str, Any]
) -> Reply:
    data["counted"] = True  # extra outputs go into the answer stage's end event
    return Reply(result.message.upper(), spoken=result.message)


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    base = fake_kb(tmp_path, DOCS)
    yield base
    base.close()


@pytest.fixture
def count_intent(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    register_intent("count_sources", IntentHandler(_count_sources, _count_reply))

    def understood(text: str, **_: Any) -> Command:  # stands in for the grammar rule
        return Command.model_construct(intent="count_sources", query="tides")

    monkeypatch.setattr(stages, "understand_text", understood)
    yield "count_sources"
    unregister_intent("count_sources")


def test_a_registered_intent_runs_through_the_pipeline(
    kb: KnowledgeBase, count_intent: str
) -> None:
    seen: list[Event] = []
    result = run_pipeline(kb, text="how many sources mention tides?", on_event=seen.append)
    assert result.ok, result.error
    assert result.answer == "1 SOURCES ABOUT TIDES"
    ends = {e.stage: e.data for e in seen if e.type == EventType.stage_end}
    assert tuple(ends) == tuple(Stage)
    assert ends[Stage.act]["intent"] == count_intent
    assert ends[Stage.answer]["counted"] is True
    assert ends[Stage.remember]["stored"] == "run log"  # only "remember" writes notes


def test_registering_needs_a_free_name_or_replace(count_intent: str) -> None:
    handler = handler_for(count_intent)
    with pytest.raises(ValueError, match="already has a handler"):
        register_intent(count_intent, handler)
    register_intent(count_intent, handler, replace=True)
    assert handler_for(count_intent) is handler


def test_an_unknown_intent_gets_the_fallback(kb: KnowledgeBase) -> None:
    cmd = Command.model_construct(intent="no_such_intent", clarification="Say it another way.")
    acted = stages.act(kb, cmd, lambda _: None)
    assert (acted.kind, acted.message) == ("message", "Say it another way.")
    assert stages.answer(kb, cmd, acted, lambda _: None).text == "Say it another way."


# --------------------------------------------------------------------------- an embedder


class LettersEmbedder(Embedder):
    """A made-up embedder: how often each letter a-z occurs, L2-normalised."""

    name = "letters-26"
    dim = 26

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), 26), dtype=np.float32)
        for row, text in enumerate(texts):
            for ch in text.lower():
                if "a" <= ch <= "z":
                    out[row, ord(ch) - ord("a")] += 1.0
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-9)
        return out


def test_a_registered_embedder_is_chosen_from_what_the_kb_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embed, "_EMBEDDERS", dict(embed._EMBEDDERS))  # undone after the test
    compose.register_embedder("letters-26", lambda threads: LettersEmbedder())
    (tmp_path / "zebra.txt").write_text("Zebras graze on the savanna.", encoding="utf-8")
    (tmp_path / "owls.txt").write_text("Owls hoot at night.", encoding="utf-8")
    path = tmp_path / "kb.sqlite"
    with cairn.open(path, embedder=LettersEmbedder(), extractor=CapitalisedExtractor()) as kb:
        kb.ingest([tmp_path / "zebra.txt", tmp_path / "owls.txt"])
    with cairn.open(path, extractor=CapitalisedExtractor()) as kb:  # no embedder named
        assert kb.store.embedding_model() == "letters-26"
        assert isinstance(kb.embedder, LettersEmbedder)
        hits = kb.search("zebras on a savanna", k=1, mode="dense")
        assert "Zebras" in hits[0].chunk.text


# --------------------------------------------------------------------------- a tool type

ECHO = "x-cairn-echo"


def _call_echo(
    kb: KnowledgeBase, name: str, operation: str, params: dict[str, Any], **_: Any
) -> ApiResult:
    """A made-up tool type: returns its parameters as one row, remembered as records."""
    rows = [{"operation": operation, **params}]
    request = {"method": "ECHO", "url": f"echo://{name}/{operation}"}
    at = datetime.now(UTC).isoformat()
    source = store_rows(kb, name, operation, request, rows, at)
    return ApiResult(name, operation, rows, source, request, at)


def test_a_registered_tool_type_is_called_through_call_command(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "_TOOL_TYPES", dict(registry._TOOL_TYPES))
    registry.register_tool_type(ECHO, _call_echo)
    kb.store.save_tool("echo", json.dumps({ECHO: {"operations": ["say"]}}), [], "echo:")
    command = Command(intent="call_api", api_operation="echo.say", api_params={"text": "hi"})
    result = call_command(kb, command)
    assert result.rows == [{"operation": "say", "text": "hi"}]
    assert result.source is not None and result.source.uri.startswith("api://echo/say/")
    assert kb.store.list_records("echo.say")[0]["data"] == {"operation": "say", "text": "hi"}
    assert list_api_tools(kb.store) == []  # not an OpenAPI tool


# --------------------------------------------------------------------------- a store backend


class MemoryRunLog:
    """A made-up backend for one narrow protocol: the run log, in memory (the row format and
    limits from ``cairn.kb.runs``, shared by every backend)."""

    def __init__(self) -> None:
        self._rows: dict[int, tuple[Any, ...]] = {}
        self._next = 1

    def save_run(self, run: dict[str, Any]) -> int:
        row = run_row(run)
        run_id, self._next = self._next, self._next + 1
        self._rows[run_id] = (run_id, *row)
        return run_id

    def list_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        ids = sorted(self._rows, reverse=True)[: check_limit(limit)]
        return [run_from_row(self._rows[i]) for i in ids]

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        row = self._rows.get(int(run_id))
        return run_from_row(row) if row else None

    def forget_run(self, run_id: int) -> bool:
        return self._rows.pop(int(run_id), None) is not None

    def runs_after(self, after_id: int, limit: int = 500) -> list[dict[str, Any]]:
        ids = sorted(i for i in self._rows if i > after_id)[: check_limit(limit)]
        return [run_from_row(self._rows[i]) for i in ids]

    def forget_quoting(self, uri: str) -> None:
        """Runs that quoted or cited a forgotten source hold its text: they go too."""
        needle = run_needle(uri)
        for i in [i for i, r in self._rows.items() if needle in r[5] or needle in r[6]]:
            del self._rows[i]


class DocumentsWithMemoryRuns(MemoryRunLog):
    """The suite's store: documents in SQLite, the run log in memory; forgetting a source
    forgets the runs that cite it."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._documents = SQLiteStore(path)

    def __getattr__(self, name: str) -> Any:  # the document part, from SQLite
        return getattr(self._documents, name)

    def forget_source(self, ref: str | int) -> Source:
        source = self._documents.forget_source(ref)
        self.forget_quoting(source.uri)
        return source


def test_the_memory_run_log_is_a_run_log_only() -> None:
    log = MemoryRunLog()
    assert isinstance(log, RunLog)
    assert not isinstance(log, cairn.KnowledgeBase)


class TestMemoryRunLog(RunLogConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[DocumentsWithMemoryRuns]:
        s = DocumentsWithMemoryRuns(tmp_path / "kb.sqlite")
        yield s
        s.close()
