"""The stages of one request: stt -> understand -> act -> answer -> chart -> speak -> remember.

Each stage is a pair (DESIGN habit 5): ``prepare_x()`` checks and loads its provider up front,
so that a missing model fails before any work is done, and ``x()`` runs it: it emits
``stage-start`` and ``stage-end`` events (the end carries ``seconds`` and the stage's outputs)
through the callback, returns a plain typed value, and wraps any failure as
``PipelineError(code, message, stage=...) from err``. A stage with nothing to do (no chart asked
for, a typed request instead of audio) still emits both events, with ``skipped`` saying why.
"""

from __future__ import annotations

import importlib
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cairn.answer.ask import ask as ask_question
from cairn.answer.span import SpanSource
from cairn.answer.synthesize import Synthesis
from cairn.answer.synthesize import synthesize as synthesize_claim
from cairn.answer.types import Citation
from cairn.answer.verify import SupportModel
from cairn.charts.render import render_chart
from cairn.command.model import Command
from cairn.command.schema_match import OperationIndex
from cairn.command.understand import CompletionModel
from cairn.command.understand import understand as understand_text
from cairn.errors import CairnError, NotFoundError
from cairn.events import Event, EventCallback, EventType
from cairn.forgetting import notes_dir as store_notes_dir
from cairn.kb.types import Consent, Source
from cairn.knowledge import KnowledgeBase
from cairn.models.llm import LLM
from cairn.models.stt import SpeechToText, Transcript, load_stt
from cairn.models.tts import TextToSpeech, load_tts, speakable
from cairn.search.types import SearchHit

STAGES: tuple[str, ...] = ("stt", "understand", "act", "answer", "chart", "speak", "remember")
SEARCH_K = 20  # passages fetched for a search (several may come from one source)
SHOWN_HITS = 5  # sources listed in a search answer
NOTES_COLLECTION = "notes"

NO_SPEECH = (
    "No speech was heard in the audio (silence or noise). Speak closer to the microphone, "
    "or type the request with --text."
)
HELP_TEXT = (
    "I answer from your own sources. Try: 'search for steam engines', 'who invented the "
    "telephone?', 'summarise what my sources say about packet switching', 'list my sources', "
    "'remember that the meeting is on Friday', or 'forget notes.txt'."
)
CALL_API_MISSING = (
    "Calling APIs is not available yet in this version of Cairn, so I did not call {op}."
)


class PipelineError(CairnError):
    """A stage failed: ``code`` is stable, ``message`` is for people, ``stage`` says where."""

    def __init__(self, code: str, message: str, *, stage: str) -> None:
        super().__init__(code, message)
        self.stage = stage

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "stage": self.stage}


# --------------------------------------------------------------------------- stage plumbing


@dataclass
class StageOutput:
    """What a running stage reports at its end (filled in by the stage body)."""

    data: dict[str, Any] = field(default_factory=dict)


@contextmanager
def stage(name: str, on_event: EventCallback) -> Iterator[StageOutput]:
    """Emit start/end around a stage body; wrap failures as :class:`PipelineError`."""
    on_event(Event(EventType.stage_start, name))
    out = StageOutput()
    began = time.perf_counter()
    try:
        yield out
    except PipelineError:
        raise
    except CairnError as err:
        raise PipelineError(err.code, err.message, stage=name) from err
    except Exception as err:  # a bug or an unexpected library failure: still a clean error
        raise PipelineError(
            f"{name}-failed", f"the {name} stage failed: {type(err).__name__}: {err}", stage=name
        ) from err
    seconds = time.perf_counter() - began
    on_event(Event(EventType.stage_end, name, {"seconds": round(seconds, 4), **out.data}))


def skip(name: str, reason: str, on_event: EventCallback) -> None:
    """A stage with nothing to do: start and end events, the end saying why."""
    with stage(name, on_event) as out:
        out.data["skipped"] = reason


# --------------------------------------------------------------------------- stt


def prepare_stt(model: SpeechToText | None = None, *, warm: bool = True) -> SpeechToText:
    """The speech-to-text model (default: packaged Whisper base), loaded when ``warm``."""
    try:
        stt_model = model if model is not None else load_stt()
        if warm:
            stt_model.warm_up()
    except CairnError as err:
        raise PipelineError(err.code, f"speech-to-text: {err.message}", stage="stt") from err
    return stt_model


def prime_stt(model: SpeechToText, kb: KnowledgeBase, on_event: EventCallback) -> SpeechToText:
    """``model`` primed with the names and terms of ``kb`` and its tools (see
    :mod:`cairn.models.stt_context`), unless it is primed already. A knowledge base that
    cannot be read for this leaves the model as it is, with a warning."""
    if model.context is not None:
        return model
    from cairn.models.stt_context import kb_context

    try:
        return model.with_context(kb_context(kb.store))
    except CairnError as err:
        on_event(Event(EventType.warning, "stt", {"message": f"not primed: {err.message}"}))
        return model


def stt(
    model: SpeechToText, audio: Path | bytes, on_event: EventCallback, *, language: str = "en"
) -> Transcript:
    """Transcribe ``audio``; silence is ``PipelineError('no-speech')``."""
    with stage("stt", on_event) as out:
        transcript = model.transcribe(audio, language=language, word_timestamps=False)
        out.data.update(
            {
                "text": transcript.text.strip(),
                "language": transcript.language,
                "audio_seconds": round(transcript.duration, 3),
                "model": getattr(model, "name", type(model).__name__),
                "primed": model.context is not None,
            }
        )
        if transcript.is_empty:
            raise PipelineError("no-speech", NO_SPEECH, stage="stt")
    return transcript


# --------------------------------------------------------------------------- understand


def _original_case(query: str | None, text: str) -> str | None:
    """The grammar lowercases slots; take the same words from the request as spoken."""
    if not query:
        return query
    words = [re.escape(w) for w in query.split()]
    m = re.search(r"\W+".join(words), text, flags=re.IGNORECASE)
    return m.group(0) if m else query


def prepare_tools(kb: KnowledgeBase) -> OperationIndex | None:
    """The operations of the API tools registered in ``kb`` (``None`` when there are none)."""
    from cairn.command.schema_match import tool_index

    try:
        index = tool_index(kb.store)
    except CairnError as err:
        raise PipelineError(err.code, err.message, stage="understand") from err
    return index if index.ops else None


def understand(
    text: str,
    on_event: EventCallback,
    *,
    llm: CompletionModel | None = None,
    tools: OperationIndex | None = None,
) -> Command:
    """Request text -> :class:`Command` (registered operations and the grammar, then ``llm``)."""
    with stage("understand", on_event) as out:
        command = understand_text(text, llm=llm, tools=tools)
        if command.query:
            command = command.model_copy(update={"query": _original_case(command.query, text)})
        out.data["command"] = command.model_dump(mode="json")
    return command


# --------------------------------------------------------------------------- act


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


def prepare_act(kb: KnowledgeBase) -> KnowledgeBase:
    """The knowledge base must be open and readable before anything is heard."""
    try:
        kb.stats()
    except CairnError as err:
        raise PipelineError(err.code, err.message, stage="act") from err
    return kb


def resolve_source(kb: KnowledgeBase, ref: str) -> list[Source]:
    """Sources that ``ref`` (an id, path, URL, file name or stem) names."""
    ref = ref.strip()
    direct = kb.store.get_source(ref)
    if direct is not None:
        return [direct]
    low = ref.lower()
    found = []
    for src in kb.sources():
        name = src.uri.rstrip("/").rsplit("/", 1)[-1].lower()
        if low in (name, name.rsplit(".", 1)[0]) or src.uri.lower().endswith("/" + low):
            found.append(src)
    return found


def _call_api(kb: KnowledgeBase, command: Command) -> ActResult:
    """Through ``cairn.tools.call_command`` when this install has it; else say it cannot."""
    op = command.api_operation or "an API"
    try:
        tools = importlib.import_module("cairn.tools")
    except ImportError:
        tools = None
    fn: Callable[..., Any] | None = getattr(tools, "call_command", None) if tools else None
    if fn is None:
        return ActResult("call_api", "message", message=CALL_API_MISSING.format(op=op))
    try:
        result = fn(kb, command)
    except CairnError as err:
        if isinstance(err, NotFoundError) or err.code.startswith("api-unknown"):
            # nothing set up under that name: an answer, not a failure
            return ActResult("call_api", "message", message=f"I cannot call {op}: {err.message}")
        raise
    rows = getattr(result, "rows", None)
    if isinstance(rows, list) and all(isinstance(r, dict) for r in rows):
        return ActResult(
            "call_api", "records", records=tuple(rows), message=f"{op} returned {len(rows)} rows"
        )
    return ActResult("call_api", "message", message=f"{op}: {result}")


def act(
    kb: KnowledgeBase,
    command: Command,
    on_event: EventCallback,
    *,
    confirm: bool = False,
    options: AskOptions | None = None,
) -> ActResult:
    """Carry the command out. Nothing is deleted unless ``confirm``; no tool is triggered by
    document text (only the request decides what happens)."""
    opts = options or AskOptions()
    collections = [command.collection] if command.collection else []
    with stage("act", on_event) as out:
        intent = command.intent
        query = command.query or ""
        result: ActResult
        if intent == "ask":
            answer = ask_question(
                kb,
                query,
                collections=collections,
                spans=opts.spans,
                model=opts.model,
                llm=opts.llm,
            )
            result = ActResult(intent, "answer", answer=answer)
        elif intent in ("search", "chart"):
            hits = kb.search(
                query,
                k=SEARCH_K,
                collections=collections,
                licenses=command.licenses,
                per_document=False,
            )
            result = ActResult(intent, "hits", hits=tuple(hits))
        elif intent == "synthesize":
            syn = synthesize_claim(kb, query, collections=collections)
            result = ActResult(intent, "synthesis", synthesis=syn)
        elif intent == "list_sources":
            result = ActResult(intent, "sources", sources=tuple(kb.sources(command.collection)))
        elif intent == "forget":
            result = _forget(kb, command, confirm=confirm)
        elif intent == "call_api":
            result = _call_api(kb, command)
        elif intent == "help":
            result = ActResult(intent, "message", message=HELP_TEXT)
        elif intent == "remember":
            result = ActResult(intent, "message", message=f"I will remember that {query}.")
        else:  # clarify, out_of_scope
            result = ActResult(intent, "message", message=command.clarification or HELP_TEXT)
        out.data.update(result.summary())
    return result


def _forget(kb: KnowledgeBase, command: Command, *, confirm: bool) -> ActResult:
    ref = command.source or ""
    found = resolve_source(kb, ref) if ref else []
    if not found:
        return ActResult(
            "forget",
            "message",
            message=f"I found no source called {ref!r}; say 'list my sources' to see them.",
        )
    if len(found) > 1:
        names = ", ".join(f"{s.id}: {s.uri}" for s in found)
        return ActResult(
            "forget",
            "message",
            sources=tuple(found),
            message=f"{ref!r} matches {len(found)} sources ({names}); which one?",
        )
    src = found[0]
    if not confirm:
        return ActResult(
            "forget",
            "confirm",
            sources=(src,),
            message=(
                f"Forgetting {src.uri} deletes it and everything derived from it "
                f"({src.n_chunks} passages). Confirm to go ahead (--yes, or confirm=True); "
                "nothing was deleted."
            ),
        )
    gone = kb.forget(src.id)
    return ActResult("forget", "forgotten", sources=(gone,), message=f"Forgot {gone.uri}.")


# --------------------------------------------------------------------------- answer


@dataclass(frozen=True)
class Reply:
    """The final answer: what to show (``text``), what to say (``spoken``), what it cites."""

    text: str
    citations: tuple[Citation, ...] = ()
    spoken: str = ""
    abstained: bool = False
    table: tuple[dict[str, Any], ...] = ()  # chartable rows, when the result is numeric
    chart_title: str = ""


def _hit_citation(n: int, kb: KnowledgeBase, hit: SearchHit) -> Citation:
    c = hit.chunk
    start, end = hit.highlight or (c.start, c.end)
    text = kb.document_text(c.document_id)[start:end] if hit.highlight else c.text
    return Citation(
        n=n,
        document_id=c.document_id,
        doc_key=c.doc_key,
        title=c.title,
        source=c.source_uri,
        license=c.license,
        start=start,
        end=end,
        quote=text,
    )


def _name(title: str | None, uri: str) -> str:
    return title or uri.rstrip("/").rsplit("/", 1)[-1]


def _search_reply(kb: KnowledgeBase, command: Command, hits: Sequence[SearchHit]) -> Reply:
    query = command.query or ""
    if not hits:
        return Reply(f"Nothing in your sources matches {query!r}.", abstained=True)
    best: dict[int, SearchHit] = {}
    for h in hits:  # best passage per document, in rank order
        best.setdefault(h.chunk.document_id, h)
    shown = list(best.values())[:SHOWN_HITS]
    cites = tuple(_hit_citation(n, kb, h) for n, h in enumerate(shown, start=1))
    lines = [f"{len(hits)} passages from {len(best)} documents match {query!r}:"]
    for c in cites:
        lines.append(f"[{c.n}] {_name(c.title, c.source)}: \u201c{c.quote}\u201d")
    per_source = Counter(_name(h.chunk.title, h.chunk.source_uri) for h in hits)
    table = tuple({"source": k, "passages": v} for k, v in per_source.most_common())
    top = cites[0]
    spoken = (
        f"I found {len(hits)} matching passages in {len(best)} documents. "
        f"The best match: {top.quote} [1]"
    )
    return Reply(
        "\n".join(lines),
        cites,
        spoken=spoken,
        table=table,
        chart_title=f"Passages matching \u201c{query}\u201d per source",
    )


def _synthesis_reply(syn: Synthesis) -> Reply:
    cites = tuple(i.citation for g in syn.groups for i in g.items)
    table: tuple[dict[str, Any], ...] = ()
    if cites:
        table = tuple({"label": k, "sentences": v} for k, v in syn.counts.items())
    c = syn.counts
    spoken = (
        f"{c.get('supports', 0)} sentences support it, {c.get('contradicts', 0)} contradict it, "
        f"and {c.get('mentions', 0)} only mention it, across {len(syn.groups)} sources."
        if cites
        else "The sources say nothing about this claim."
    )
    return Reply(
        syn.text,
        cites,
        spoken=spoken,
        abstained=not cites,
        table=table,
        chart_title=f"Evidence on \u201c{syn.claim}\u201d",
    )


def answer(
    kb: KnowledgeBase, command: Command, result: ActResult, on_event: EventCallback
) -> Reply:
    """The text shown to the person, with numbered citations where it quotes sources."""
    with stage("answer", on_event) as out:
        if result.kind == "answer":
            a = result.answer
            reply = Reply(a.text, tuple(a.citations), abstained=a.abstained)
        elif result.kind == "hits":
            reply = _search_reply(kb, command, result.hits)
        elif result.kind == "synthesis":
            assert result.synthesis is not None
            reply = _synthesis_reply(result.synthesis)
        elif result.kind == "sources":
            srcs = result.sources
            lines = [
                f"{s.id}: {s.uri} ({s.provenance.collection}, {s.n_chunks} passages)" for s in srcs
            ]
            head = f"{len(srcs)} sources" if srcs else "No sources yet: add some with cairn ingest."
            table = tuple(
                {"collection": k, "sources": v}
                for k, v in Counter(s.provenance.collection for s in srcs).most_common()
            )
            reply = Reply(
                "\n".join([head + (":" if srcs else ""), *lines]),
                spoken=head + ".",
                table=table,
                chart_title="Sources per collection",
            )
        elif result.kind == "records":
            from cairn.tools.summary import summarise_rows

            summary = summarise_rows(result.records, command.api_operation or "the API")
            reply = Reply(
                summary.text,
                spoken=summary.spoken,
                table=result.records,
                chart_title=command.api_operation or "records",
            )
            out.data["facts"] = [vars(f) for f in summary.facts]
        else:
            reply = Reply(result.message)
        out.data.update(
            {
                "text": reply.text,
                "citations": [c.to_dict() for c in reply.citations],
                "abstained": reply.abstained,
            }
        )
    return reply


# --------------------------------------------------------------------------- chart


def chart(
    command: Command, reply: Reply, chart_to: Path | None, on_event: EventCallback
) -> list[Path]:
    """Draw the reply's table (PNG) when there is one and a place to put it; else skip."""
    if chart_to is None:
        skip("chart", "no chart asked for", on_event)
        return []
    if not reply.table or not _numeric(reply.table):
        skip("chart", "nothing numeric to chart", on_event)
        return []
    with stage("chart", on_event) as out:
        sources = sorted({_name(c.title, c.source) for c in reply.citations})
        caption = f"Sources: {', '.join(sources)}" if sources else None
        paths = render_chart(
            list(reply.table),
            kind=command.chart_kind,
            title=reply.chart_title or (command.query or "chart"),
            out=Path(chart_to),
            caption=caption,
            formats=("png",),
        )
        out.data.update({"paths": [str(p) for p in paths], "rows": len(reply.table)})
    return paths


def _numeric(rows: Sequence[dict[str, Any]]) -> bool:
    first = rows[0]
    return any(
        all(isinstance(r.get(k), int | float) and not isinstance(r.get(k), bool) for r in rows)
        for k in first
    )


# --------------------------------------------------------------------------- speak


def prepare_speak(model: TextToSpeech | None = None) -> TextToSpeech:
    """The speech engine (default: the best installed); fails up front when there is none."""
    try:
        tts_model = model if model is not None else load_tts()
        tts_model.warm_up()
    except CairnError as err:
        raise PipelineError(err.code, f"text-to-speech: {err.message}", stage="speak") from err
    return tts_model


def speak(
    model: TextToSpeech | None, reply: Reply, speak_to: Path | None, on_event: EventCallback
) -> Path | None:
    """Write the reply as speech (WAV); citations are read as "according to <title>".

    The WAV is written piece by piece (first clause, then sentence by sentence): a
    ``progress`` event follows each piece on disk, with the seconds of audio written so far,
    so a player can start on the first while the rest is synthesised."""
    if model is None or speak_to is None:
        skip("speak", "no spoken answer asked for", on_event)
        return None
    with stage("speak", on_event) as out:
        titles = [(c.n, _name(c.title, c.source)) for c in reply.citations]
        text = speakable(reply.spoken or reply.text, titles)

        def written(piece: int, seconds: float) -> None:
            data = {"piece": piece, "audio_seconds": round(seconds, 3), "path": str(speak_to)}
            on_event(Event(EventType.progress, "speak", data))

        path = model.stream_to_file(text, Path(speak_to), on_audio=written)
        out.data.update({"path": str(path), "text": text})
    return path


# --------------------------------------------------------------------------- remember


def notes_dir(kb: KnowledgeBase) -> Path:
    """``notes/`` beside the knowledge base file (or the default KB's, for a server store)."""
    return store_notes_dir(kb.store).resolve()


def remember(kb: KnowledgeBase, command: Command, on_event: EventCallback) -> Path | None:
    """For ``remember``: store the fact as a small note source (collection ``notes``).

    Every other intent adds nothing to the documents; the run itself goes to the run log.
    """
    with stage("remember", on_event) as out:
        if command.intent != "remember" or not command.query:
            out.data["stored"] = "run log"
            return None
        folder = notes_dir(kb)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        slug = re.sub(r"[^a-z0-9]+", "-", command.query.lower()).strip("-")[:40] or "note"
        path = folder / f"{stamp}-{slug}.md"
        text = command.query.strip()
        path.write_text(text[:1].upper() + text[1:].rstrip(".") + ".\n", encoding="utf-8")
        report = kb.ingest([path], collection=NOTES_COLLECTION, consent=Consent.granted, owner="me")
        if report.failed:
            why = "; ".join(o.message or "" for o in report.outcomes if o.message)
            raise PipelineError(
                "remember-failed", f"could not store the note: {why}", stage="remember"
            )
        out.data.update({"stored": "note", "path": str(path)})
    return path
