"""The stages of one request: stt -> understand -> act -> answer -> chart -> speak -> remember.

Each stage is a pair (DESIGN habit 5): ``prepare_x()`` checks and loads its provider up front,
so that a missing model fails before any work is done, and ``x()`` runs it: it emits
``stage-start`` and ``stage-end`` events (the end carries ``seconds`` and the stage's outputs)
through the callback, returns a plain typed value, and wraps any failure as
``PipelineError(code, message, stage=...) from err``. A stage with nothing to do (no chart asked
for, a typed request instead of audio) still emits both events, with ``skipped`` saying why.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.charts.render import render_chart
from cairn.command.model import Command
from cairn.command.schema_match import OperationIndex
from cairn.command.understand import CompletionModel
from cairn.command.understand import understand as understand_text
from cairn.compose import (
    ready_speech_to_text,
    ready_text_to_speech,
    tool_matcher,
    tool_operations,
)
from cairn.errors import CairnError, PipelineError
from cairn.events import Event, EventCallback, EventType, Stage
from cairn.forgetting import notes_dir as store_notes_dir
from cairn.kb.types import Consent
from cairn.knowledge import KnowledgeBase
from cairn.models.speakable import speakable
from cairn.models.stt import SpeechToText, Transcript
from cairn.models.tts import TextToSpeech
from cairn.pipeline.intents import ActContext, ActResult, AskOptions, Reply, handler_for
from cairn.pipeline.intents.base import source_name

if TYPE_CHECKING:
    from cairn.command.tool_hybrid import HybridMatcher

__all__ = [
    "NOTES_COLLECTION",
    "NO_SPEECH",
    "STAGES",
    "ActResult",
    "AskOptions",
    "PipelineError",
    "Reply",
    "StageOutput",
    "act",
    "answer",
    "chart",
    "notes_dir",
    "prepare_act",
    "prepare_speak",
    "prepare_stt",
    "prepare_tools",
    "prime_stt",
    "remember",
    "skip",
    "speak",
    "stage",
    "stt",
    "understand",
]

STAGES: tuple[str, ...] = tuple(Stage)
NOTES_COLLECTION = "notes"

NO_SPEECH = (
    "No speech was heard in the audio (silence or noise). Speak closer to the microphone, "
    "or type the request with --text."
)


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
    return ready_speech_to_text(model, warm=warm)


def prime_stt(model: SpeechToText, kb: KnowledgeBase, on_event: EventCallback) -> SpeechToText:
    """``model`` primed with the names and terms of ``kb`` and its tools (see
    :mod:`cairn.models.stt_context`), unless it is primed already. A knowledge base that
    cannot be read for this leaves the model as it is, with a warning."""
    if model.context is not None:
        return model
    from cairn.compose import speech_context

    try:
        return model.with_context(speech_context(kb.store))
    except CairnError as err:
        on_event(Event(EventType.warning, Stage.stt, {"message": f"not primed: {err.message}"}))
        return model


def stt(
    model: SpeechToText, audio: Path | bytes, on_event: EventCallback, *, language: str = "en"
) -> Transcript:
    """Transcribe ``audio``; silence is ``PipelineError('no-speech')``."""
    with stage(Stage.stt, on_event) as out:
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
            raise PipelineError("no-speech", NO_SPEECH, stage=Stage.stt)
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
    return tool_operations(kb)


def prepare_tool_matcher(tools: OperationIndex | None) -> HybridMatcher | None:
    """How an operation of ``tools`` is chosen (``$CAIRN_TOOL_ENGINE``; ``None``: the fast
    path); nothing is loaded when no tool is registered."""
    return tool_matcher() if tools is not None else None


def understand(
    text: str,
    on_event: EventCallback,
    *,
    llm: CompletionModel | None = None,
    tools: OperationIndex | None = None,
    spoken: bool = False,
    tool_matcher: HybridMatcher | None = None,
) -> Command:
    """Request text -> :class:`Command` (registered operations and the grammar, then ``llm``).

    ``tool_matcher``: how an operation is chosen (default the fast path alone).

    ``spoken``: ``text`` was heard by speech-to-text; its near-misses of the tools' words are
    snapped onto them first where that makes a better call (:mod:`cairn.command.lexicon_snap`).
    """
    with stage(Stage.understand, on_event) as out:
        if spoken and tools is not None and tools.ops:
            from cairn.command.lexicon_snap import snap

            snapped = snap(text, tools)
            if snapped.snaps:
                out.data["snapped"] = [[s.heard, s.term] for s in snapped.snaps]
                text = snapped.text
        command = understand_text(text, llm=llm, tools=tools, tool_matcher=tool_matcher)
        if tool_matcher is not None and tools is not None and tools.ops:
            out.data["tool_engine"] = tool_matcher.mode
        if command.query:
            command = command.model_copy(update={"query": _original_case(command.query, text)})
        out.data["command"] = command.model_dump(mode="json")
    return command


# --------------------------------------------------------------------------- act


def prepare_act(kb: KnowledgeBase) -> KnowledgeBase:
    """The knowledge base must be open and readable before anything is heard."""
    try:
        kb.stats()
    except CairnError as err:
        raise PipelineError(err.code, err.message, stage=Stage.act) from err
    return kb


def act(
    kb: KnowledgeBase,
    command: Command,
    on_event: EventCallback,
    *,
    confirm: bool = False,
    options: AskOptions | None = None,
) -> ActResult:
    """Carry the command out through its intent's handler (``cairn.pipeline.intents``).
    Nothing is deleted unless ``confirm``; no tool is triggered by document text (only the
    request decides what happens)."""
    opts = options or AskOptions()
    collections = [command.collection] if command.collection else []
    with stage(Stage.act, on_event) as out:
        ctx = ActContext(kb, command, confirm, opts, collections, command.query or "")
        result = handler_for(command.intent).act(ctx)
        out.data.update(result.summary())
    return result


# --------------------------------------------------------------------------- answer


def answer(
    kb: KnowledgeBase, command: Command, result: ActResult, on_event: EventCallback
) -> Reply:
    """The text shown to the person, with numbered citations where it quotes sources (the
    reply of the handler that acted)."""
    with stage(Stage.answer, on_event) as out:
        reply = handler_for(result.intent).reply(kb, command, result, out.data)

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
        skip(Stage.chart, "no chart asked for", on_event)
        return []
    if not reply.table or not _numeric(reply.table):
        skip(Stage.chart, "nothing numeric to chart", on_event)
        return []
    with stage(Stage.chart, on_event) as out:
        sources = sorted({source_name(c.title, c.source) for c in reply.citations})
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
    return ready_text_to_speech(model)


def speak(
    model: TextToSpeech | None, reply: Reply, speak_to: Path | None, on_event: EventCallback
) -> Path | None:
    """Write the reply as speech (WAV); citations are read as "according to <title>".

    The WAV is written piece by piece (first clause, then sentence by sentence): a
    ``progress`` event follows each piece on disk, with the seconds of audio written so far,
    so a player can start on the first while the rest is synthesised."""
    if model is None or speak_to is None:
        skip(Stage.speak, "no spoken answer asked for", on_event)
        return None
    with stage(Stage.speak, on_event) as out:
        titles = [(c.n, source_name(c.title, c.source)) for c in reply.citations]
        text = speakable(reply.spoken or reply.text, titles)

        def written(piece: int, seconds: float) -> None:
            data = {"piece": piece, "audio_seconds": round(seconds, 3), "path": str(speak_to)}
            on_event(Event(EventType.progress, Stage.speak, data))

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
    with stage(Stage.remember, on_event) as out:
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
                "remember-failed", f"could not store the note: {why}", stage=Stage.remember
            )
        out.data.update({"stored": "note", "path": str(path)})
    return path
