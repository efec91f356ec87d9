"""What an intent handler takes and gives: the act stage's :class:`ActResult`, the answer
stage's :class:`Reply`, and :class:`IntentHandler`, the pair of functions one intent registers
in the table (``cairn.pipeline.intents``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cairn.answer.span import SpanSource
from cairn.answer.synthesize import Synthesis
from cairn.answer.types import Citation
from cairn.answer.verify import SupportModel
from cairn.command.model import Command
from cairn.kb.types import Source
from cairn.knowledge import KnowledgeBase
from cairn.models.llm import LLM
from cairn.search.types import SearchHit


@dataclass(frozen=True)
class ActResult:
    """What acting on a command produced; ``kind`` says which fields are filled."""

    intent: str
    kind: str  # answer | hits | synthesis | sources | message | records | confirm | forgotten
    answer: Any = None  # cairn.answer.types.Answer for ask
    hits: tuple[SearchHit, ...] = ()
    synthesis: Synthesis | None = None
    sources: tuple[Source, ...] = ()
    records: tuple[dict[str, Any], ...] = ()
    message: str = ""

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"intent": self.intent, "kind": self.kind}
        if self.answer is not None:
            out["abstained"] = self.answer.abstained
            out["support"] = round(self.answer.support, 4)
        if self.hits:
            out["hits"] = len(self.hits)
            out["sources"] = len({h.chunk.source_id for h in self.hits})
        if self.synthesis is not None:
            out["counts"] = dict(self.synthesis.counts)
        if self.kind in ("sources", "confirm", "forgotten"):
            out["source_ids"] = [s.id for s in self.sources]
        if self.records:
            out["records"] = len(self.records)
        return out


@dataclass(frozen=True)
class AskOptions:
    """Knobs passed through to ``cairn.answer.ask`` (tests fix them for determinism)."""

    spans: SpanSource | None = None
    model: SupportModel | None = None
    llm: LLM | None = None


@dataclass(frozen=True)
class Reply:
    """The final answer: what to show (``text``), what to say (``spoken``), what it cites."""

    text: str
    citations: tuple[Citation, ...] = ()
    spoken: str = ""
    abstained: bool = False
    table: tuple[dict[str, Any], ...] = ()  # chartable rows, when the result is numeric
    chart_title: str = ""


@dataclass(frozen=True)
class ActContext:
    """Everything a handler's ``act`` may use. Nothing is deleted unless ``confirm``."""

    kb: KnowledgeBase
    command: Command
    confirm: bool
    options: AskOptions
    collections: list[str]  # the command's collection, as a filter list
    query: str  # the command's query, "" when it has none


#: ``reply(kb, command, result, data)``: ``data`` is the answer stage's end event, for any
#: extra outputs the handler reports (text, citations and abstained are added after it).
ReplyFn = Callable[[KnowledgeBase, Command, ActResult, dict[str, Any]], Reply]


@dataclass(frozen=True)
class IntentHandler:
    """One intent: ``act`` carries the command out, ``reply`` words what it produced."""

    act: Callable[[ActContext], ActResult]
    reply: ReplyFn


def message_reply(
    kb: KnowledgeBase, command: Command, result: ActResult, data: dict[str, Any]
) -> Reply:
    """The result's message, as it is."""
    return Reply(result.message)


def source_name(title: str | None, uri: str) -> str:
    """How a source is named to people: its title, else the last part of its URI."""
    return title or uri.rstrip("/").rsplit("/", 1)[-1]
