"""``run_pipeline``: one spoken or typed request, end to end, with every run logged.

    result = run_pipeline(kb, audio=Path("question.wav"), speak_to=Path("answer.wav"))
    print(result.answer)

Providers are checked first (``prepare_*``), then the stages run in order. When a stage fails,
an ``error`` event with a stable code is emitted, later stages do not run, and everything the
earlier stages produced stays in the result. The run, ok or not, is saved in the knowledge
base's run log (``kb.store.list_runs()``, ``cairn runs list``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cairn.answer.types import Citation
from cairn.command.model import Command
from cairn.command.understand import CompletionModel
from cairn.errors import CairnError
from cairn.events import Event, EventCallback, EventType, Stage, ignore
from cairn.knowledge import KnowledgeBase
from cairn.models.stt import SpeechToText
from cairn.models.tts import TextToSpeech
from cairn.pipeline import stages
from cairn.pipeline.stages import ActResult, AskOptions, PipelineError, Reply


@dataclass
class PipelineResult:
    """Everything one run produced; fields of stages that did not run stay empty."""

    transcript: str | None = None
    command: Command | None = None
    answer: str | None = None
    citations: tuple[Citation, ...] = ()
    charts: list[Path] = field(default_factory=list)
    audio: Path | None = None
    events: list[Event] = field(default_factory=list)
    run_id: int | None = None
    error: PipelineError | None = None
    note: Path | None = None  # the note written for "remember that ..."
    abstained: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self, *, events: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok,
            "transcript": self.transcript,
            "command": self.command.model_dump(mode="json") if self.command else None,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "charts": [str(p) for p in self.charts],
            "audio": str(self.audio) if self.audio else None,
            "note": str(self.note) if self.note else None,
            "run_id": self.run_id,
            "error": self.error.to_dict() if self.error else None,
            "seconds": round(self.seconds, 4),
        }
        if events:
            out["events"] = [e.as_dict() for e in self.events]
        return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def run_pipeline(
    kb: KnowledgeBase,
    *,
    audio: Path | bytes | None = None,
    text: str | None = None,
    speak_to: Path | None = None,
    chart_to: Path | None = None,
    stt: SpeechToText | None = None,
    tts: TextToSpeech | None = None,
    llm: CompletionModel | None = None,
    on_event: EventCallback = ignore,
    confirm: bool = False,
    ask_options: AskOptions | None = None,
    language: str = "en",
    save: bool = True,
) -> PipelineResult:
    """Run one request: ``audio`` (a file path or its bytes) or typed ``text``.

    ``speak_to``/``chart_to`` name the WAV/PNG to write (nothing is spoken or drawn without
    them). ``stt``/``tts`` default to the packaged Whisper base and the best installed speech
    engine; ``llm`` helps understand requests the grammar does not cover (to have an LLM
    phrase answers, pass ``ask_options=AskOptions(llm=...)``). ``confirm=True`` is needed to
    actually forget a source. Never raises for a failing stage: the error is in
    ``result.error`` and in the events. ``save=False`` leaves the run out of the run log.
    """
    result = PipelineResult()
    started, began = _now(), time.perf_counter()

    def emit(event: Event) -> None:
        result.events.append(event)
        try:
            on_event(event)
        except Exception:  # a broken viewer must not break the run
            result.events.append(
                Event(EventType.warning, event.stage, {"message": "event callback failed"})
            )

    try:
        _run(
            result,
            kb,
            emit,
            audio=audio,
            text=text,
            speak_to=speak_to,
            chart_to=chart_to,
            stt=stt,
            tts=tts,
            llm=llm,
            confirm=confirm,
            ask_options=ask_options,
            language=language,
        )
    except PipelineError as err:
        result.error = err
        emit(Event(EventType.error, err.stage, {"code": err.code, "message": err.message}))
    result.seconds = time.perf_counter() - began
    if save:
        _save(kb, result, started, emit)
    return result


def _run(
    result: PipelineResult,
    kb: KnowledgeBase,
    emit: EventCallback,
    *,
    audio: Path | bytes | None,
    text: str | None,
    speak_to: Path | None,
    chart_to: Path | None,
    stt: SpeechToText | None,
    tts: TextToSpeech | None,
    llm: CompletionModel | None,
    confirm: bool,
    ask_options: AskOptions | None,
    language: str,
) -> None:
    if (audio is None) == (text is None):
        raise PipelineError(
            "bad-input", "give either audio or text (exactly one of them)", stage=Stage.stt
        )
    # prepare: every provider is checked before any work is done
    stages.prepare_act(kb)
    stt_model = stages.prepare_stt(stt) if audio is not None else None
    if stt_model is not None:
        stt_model = stages.prime_stt(stt_model, kb, emit)
    tts_model = stages.prepare_speak(tts) if speak_to is not None else None

    if stt_model is not None:
        assert audio is not None
        source = Path(audio) if isinstance(audio, str | Path) else audio
        result.transcript = stages.stt(stt_model, source, emit, language=language).text.strip()
    else:
        result.transcript = (text or "").strip()
        stages.skip(Stage.stt, "typed request", emit)
    tools = stages.prepare_tools(kb)
    command = stages.understand(
        result.transcript,
        emit,
        llm=llm,
        tools=tools,
        spoken=audio is not None,
        tool_matcher=stages.prepare_tool_matcher(tools),
    )
    result.command = command
    acted: ActResult = stages.act(kb, command, emit, confirm=confirm, options=ask_options)
    reply: Reply = stages.answer(kb, command, acted, emit)
    result.answer, result.citations, result.abstained = (
        reply.text,
        reply.citations,
        reply.abstained,
    )
    result.charts = stages.chart(command, reply, chart_to, emit)
    result.audio = stages.speak(tts_model, reply, speak_to, emit)
    result.note = stages.remember(kb, command, emit)


def _save(kb: KnowledgeBase, result: PipelineResult, started: str, emit: EventCallback) -> None:
    run = {
        "started_at": started,
        "finished_at": _now(),
        "status": "ok" if result.ok else "error",
        "request": result.transcript,
        "events": [e.as_dict() for e in result.events],
        "result": result.to_dict(events=False),
    }
    try:
        result.run_id = kb.store.save_run(run)
    except CairnError as err:
        emit(
            Event(EventType.warning, Stage.remember, {"message": f"run not logged: {err.message}"})
        )
