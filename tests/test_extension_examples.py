"""Examples of extending Cairn by touching the files docs/architecture.md names.

An intent: a handler (act + reply) registered in ``cairn.pipeline.intents``; the pipeline's act
and answer stages find it by the command's intent. A real intent also gets its name in
``Intent`` (``command/model.py``) and a grammar rule; here a fake understanding step stands in
for those, so the example shows only the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cairn.command.model import Command
from cairn.events import Event, EventType, Stage
from cairn.knowledge import KnowledgeBase
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
