"""`cairn eval voice`: spoken question to spoken answer, timed end to end.

A question (by default the demo question, spoken by eSpeak NG into a WAV file) runs through
:func:`cairn.pipeline.run_pipeline` against a knowledge base holding the bundled demo
collection. Each run is timed from the call (the audio file not yet read) to the end of the
``speak`` stage (the answer's WAV written). The time is split into model inference:

* speech-to-text: the ``stt`` stage (reading and resampling the file included);
* embedding: time inside the embedder (the query encoder), measured by a wrapper;
* spaCy: time inside the span source (noun chunks and entities of evidence sentences);
* text-to-speech: the ``speak`` stage;

and everything else (parsing the request, keyword/vector search, fusion, evidence selection,
verification, writing the WAV is inside ``speak``). Time to first audio runs from the same call
(the question has ended: its file is complete) to the first piece of the spoken answer being
on disk (the ``speak`` stage's first ``progress`` event): the answer is spoken piece by piece,
so a player can start then. The query embedding runs in a thread beside
keyword search, so a little of the embedding time may overlap other work; "everything else" is
the total minus inference, never negative. The first run is a warm-up and is not counted.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cairn.answer.span import SpacySpans, SpanCandidate, SpanSource
from cairn.demo import DEMO_LICENSE, DEMO_QUESTION, demo_files
from cairn.errors import CairnError
from cairn.events import Event, EventType
from cairn.graph.extract import EntityExtractor
from cairn.knowledge import KnowledgeBase, open_kb
from cairn.models.embed import Embedder, Vectors
from cairn.models.stt import SpeechToText, word_error_rate
from cairn.models.tts import TextToSpeech, read_wav
from cairn.pipeline.run import run_pipeline
from cairn.pipeline.stages import AskOptions
from cairn_eval.metrics import percentile

INFERENCE_PARTS = ("stt", "embedding", "spacy", "tts")
TARGET_P50_SECONDS = 3.0
TARGET_FIRST_AUDIO_SECONDS = 1.0
TARGET_OTHER_SHARE = 0.10


class _Stopwatch:
    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()

    def add(self, seconds: float) -> None:
        with self._lock:
            self.seconds += seconds

    def take(self) -> float:
        with self._lock:
            out, self.seconds = self.seconds, 0.0
        return out


class TimedEmbedder(Embedder):
    """Wraps an embedder and adds up the time spent inside it."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.watch = _Stopwatch()
        self.texts = 0

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        began = time.perf_counter()
        self.texts += len(texts)
        try:
            return self.inner.embed_batch(texts)
        finally:
            self.watch.add(time.perf_counter() - began)

    def embed_query(self, text: str) -> Vectors:
        began = time.perf_counter()
        self.texts += 1
        try:
            return self.inner.embed_query(text)
        finally:
            self.watch.add(time.perf_counter() - began)

    def warm_up(self) -> None:
        self.inner.warm_up()


class TimedSpans(SpanSource):
    """Wraps a span source (spaCy by default) and adds up the time spent inside it."""

    def __init__(self, inner: SpanSource) -> None:
        self.inner = inner
        self.name = inner.name
        self.watch = _Stopwatch()

    def candidates(self, sentences: Sequence[str]) -> list[list[SpanCandidate]]:
        began = time.perf_counter()
        try:
            return self.inner.candidates(sentences)
        finally:
            self.watch.add(time.perf_counter() - began)


@dataclass
class VoiceRun:
    total: float
    parts: dict[str, float]
    transcript: str
    answer: str
    answer_audio_seconds: float
    embedded_texts: int = 0
    first_audio: float = 0.0

    @property
    def inference(self) -> float:
        return sum(self.parts.values())

    @property
    def other(self) -> float:
        return max(0.0, self.total - self.inference)

    def as_dict(self) -> dict[str, Any]:
        return {
            "total_s": round(self.total, 3),
            "first_audio_s": round(self.first_audio, 3),
            "inference_s": round(self.inference, 3),
            "other_s": round(self.other, 3),
            "parts_s": {k: round(v, 3) for k, v in self.parts.items()},
            "transcript": self.transcript,
            "answer": self.answer,
            "answer_audio_seconds": round(self.answer_audio_seconds, 2),
            "embedded_texts": self.embedded_texts,
        }


@dataclass
class VoiceEvalReport:
    question: str
    question_seconds: float
    stt: str
    tts: str
    embedder: str
    spans: str
    runs: list[VoiceRun] = field(default_factory=list)

    def _p50(self, values: Sequence[float]) -> float:
        return percentile(list(values), 50) if values else 0.0

    @property
    def p50(self) -> float:
        return self._p50([r.total for r in self.runs])

    @property
    def first_audio_p50(self) -> float:
        """Median seconds from the end of the question to the first spoken audio."""
        return self._p50([r.first_audio for r in self.runs])

    @property
    def other_share(self) -> float:
        """Median over runs of the share of the time that is not model inference."""
        shares = [r.other / r.total for r in self.runs if r.total > 0]
        return statistics.median(shares) if shares else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "question_audio_seconds": round(self.question_seconds, 2),
            "models": {
                "stt": self.stt,
                "tts": self.tts,
                "embedder": self.embedder,
                "spans": self.spans,
            },
            "runs": len(self.runs),
            "p50_s": round(self.p50, 3),
            "p95_s": round(self._pct(95), 3),
            "first_audio_p50_s": round(self.first_audio_p50, 3),
            "inference_p50_s": round(self._p50([r.inference for r in self.runs]), 3),
            "other_p50_s": round(self._p50([r.other for r in self.runs]), 3),
            "parts_p50_s": {
                part: round(self._p50([r.parts.get(part, 0.0) for r in self.runs]), 3)
                for part in INFERENCE_PARTS
            },
            "other_share_median": round(self.other_share, 4),
            "target": {
                "p50_s": TARGET_P50_SECONDS,
                "other_share": TARGET_OTHER_SHARE,
                "first_audio_p50_s": TARGET_FIRST_AUDIO_SECONDS,
            },
            "met": {
                "p50": self.p50 <= TARGET_P50_SECONDS,
                "first_audio_p50": self.first_audio_p50 <= TARGET_FIRST_AUDIO_SECONDS,
                "other_share": self.other_share <= TARGET_OTHER_SHARE,
            },
            "transcript_wer": round(word_error_rate(self.question, self.runs[0].transcript), 4)
            if self.runs
            else None,
            "each_run": [r.as_dict() for r in self.runs],
        }

    def _pct(self, p: float) -> float:
        return percentile([r.total for r in self.runs], p) if self.runs else 0.0


def timed_run(
    kb: KnowledgeBase,
    question_wav: Path,
    answer_wav: Path,
    *,
    stt: SpeechToText,
    tts: TextToSpeech,
    embedder: TimedEmbedder,
    spans: TimedSpans,
) -> VoiceRun:
    """One spoken question through the pipeline, timed until the answer's WAV is written."""
    stage_seconds: dict[str, float] = {}
    speak_done: list[float] = []
    first_audio: list[float] = []

    def on_event(event: Event) -> None:
        if event.type == EventType.progress and event.stage == "speak" and not first_audio:
            first_audio.append(time.perf_counter())
        if event.type == EventType.stage_end:
            stage_seconds[event.stage] = float(event.data.get("seconds", 0.0))
            if event.stage == "speak":
                speak_done.append(time.perf_counter())

    embedder.watch.take()
    spans.watch.take()
    embedder.texts = 0
    began = time.perf_counter()
    result = run_pipeline(
        kb,
        audio=question_wav,
        stt=stt,
        tts=tts,
        speak_to=answer_wav,
        on_event=on_event,
        ask_options=AskOptions(spans=spans),
        save=False,
    )
    ended = speak_done[0] if speak_done else time.perf_counter()
    if not result.ok or result.audio is None:
        err = result.error
        raise CairnError(
            err.code if err else "no-answer-audio",
            f"the voice run failed: {err.message if err else 'no spoken answer was written'}",
        )
    samples, rate = read_wav(result.audio)
    return VoiceRun(
        total=ended - began,
        parts={
            "stt": stage_seconds.get("stt", 0.0),
            "embedding": embedder.watch.take(),
            "spacy": spans.watch.take(),
            "tts": stage_seconds.get("speak", 0.0),
        },
        transcript=result.transcript or "",
        answer=result.answer or "",
        answer_audio_seconds=samples.size / rate if rate else 0.0,
        embedded_texts=embedder.texts,
        first_audio=(first_audio[0] if first_audio else ended) - began,
    )


def run_voice_eval(
    *,
    stt: SpeechToText,
    tts: TextToSpeech,
    embedder: Embedder,
    spans: SpanSource | None = None,
    question: str = DEMO_QUESTION,
    runs: int = 5,
    workdir: Path | None = None,
    kb_path: Path | None = None,
    extractor: EntityExtractor | None = None,
) -> VoiceEvalReport:
    """Ingest the demo collection into a fresh KB, then time ``runs`` spoken questions
    (after one warm-up run)."""
    if runs < 1:
        raise CairnError("bad-runs", "--runs must be at least 1")
    timed_embedder = TimedEmbedder(embedder)
    timed_spans = TimedSpans(spans if spans is not None else SpacySpans())
    with tempfile.TemporaryDirectory(prefix="cairn-voice-") as tmp:
        folder = workdir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        question_wav = tts.synthesize_to_file(question, folder / "question.wav")
        q_samples, q_rate = read_wav(question_wav)
        report = VoiceEvalReport(
            question=question,
            question_seconds=q_samples.size / q_rate if q_rate else 0.0,
            stt=getattr(stt, "name", type(stt).__name__),
            tts=getattr(tts, "name", type(tts).__name__),
            embedder=embedder.name,
            spans=timed_spans.name,
        )
        with open_kb(
            kb_path or folder / "voice-kb.sqlite", embedder=timed_embedder, extractor=extractor
        ) as kb:
            if not kb.sources("demo"):
                kb.ingest(demo_files(), collection="demo", license=DEMO_LICENSE)
            for n in range(runs + 1):
                run = timed_run(
                    kb,
                    question_wav,
                    folder / f"answer-{n}.wav",
                    stt=stt,
                    tts=tts,
                    embedder=timed_embedder,
                    spans=timed_spans,
                )
                if n:  # run 0 warms every model and cache up
                    report.runs.append(run)
    return report
