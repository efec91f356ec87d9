"""The tool-call engine with the real SmolLM2-135M under llama.cpp: the grammar holds.

Skipped when the ``llm`` extra (llama-cpp-python) or the model file is absent (CI does not
install the extra)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cairn.command.operations import from_function_doc
from cairn.command.tool_llm import ToolCallEngine, reply_schema
from cairn.models import gguf_files
from cairn.models.llm import LlamaCppLLM, smollm2_path

pytest.importorskip("llama_cpp", reason="the llm extra (llama-cpp-python) is not installed")


def _smollm2() -> Path:
    local = gguf_files.models_dir() / gguf_files.KNOWN["smollm2"][0]
    path = local if local.is_file() else smollm2_path()
    if path is None:
        pytest.skip("SmolLM2 is absent: scripts/get-llm smollm2")
    return path


OPS = [
    from_function_doc(
        {
            "name": "get_tide_times",
            "description": "High and low tide times at a harbour on a day.",
            "parameters": {
                "type": "object",
                "properties": {
                    "harbour": {"type": "string", "enum": ["Dover", "Oban", "Whitby"]},
                    "day": {"type": "string", "description": "YYYY-MM-DD"},
                },
                "required": ["harbour", "day"],
            },
        }
    ),
    from_function_doc(
        {
            "name": "count_ferries",
            "description": "How many ferries leave a harbour in a week.",
            "parameters": {
                "type": "object",
                "properties": {"harbour": {"type": "string"}, "week": {"type": "integer"}},
                "required": ["harbour"],
            },
        }
    ),
]


def test_the_real_model_replies_within_the_schema() -> None:
    engine = ToolCallEngine(LlamaCppLLM(_smollm2(), n_ctx=2048, seed=0))
    for request in (
        "when is high tide in Oban on 2026-05-02",
        "how many ferries leave Dover in week 12",
        "sing me a song",
    ):
        reply = engine.choose(request, OPS)
        # whatever the small model picks, the grammar keeps it inside the candidates' schemas:
        # a typed call to a candidate, or no call, never a reply validation must refuse
        assert reply.problem == "", (request, reply.raw)
        assert reply.op is None or reply.op in OPS
        if reply.op is not None and reply.op.name == "get_tide_times":
            assert reply.arguments["harbour"] in ("Dover", "Oban", "Whitby")
    assert reply_schema(OPS)["oneOf"][-1]["properties"]["name"] == {"const": "none"}
