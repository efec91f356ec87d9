"""`cairn eval speech`: word error rate and real-time factor of speech-to-text on real
recordings, plus a text-to-speech -> speech-to-text round trip.

Recordings come from two places, each optional:

* a LibriSpeech-style folder (``*.trans.txt`` files beside ``.flac`` clips), e.g.
  ``../shared/benchdata/librispeech-sample`` (4 test-clean utterances);
* Debian's ``pocketsphinx-testdata`` folder (``/usr/share/pocketsphinx/test/data``):
  ``librivox/`` (``transcription`` + ``.wav``), ``cards/`` (``cards.transcription`` +
  ``.wav``) and ``goforward.raw`` (16 kHz signed 16-bit PCM, "go forward ten meters").

WER is micro-averaged (errors over reference words) with :func:`cairn.models.stt.word_errors`
(lower case, no punctuation, numbers spelt out). The real-time factor of a clip is the time
spent transcribing its decoded samples divided by its duration; decoding the file is not
counted. The model is warmed up first.

With ``bias=True`` the model is primed (:meth:`SpeechToText.with_context`) as Cairn primes it
for a knowledge base: each clip with the frequent words of the *other* clips' transcripts of
its set (a knowledge base about the same book or game, never the clip's own words), and the
round trip with the names and terms of the bundled demo collection
(:func:`cairn.compose.speech_context`).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cairn.errors import ConfigError
from cairn.models.audio import SAMPLE_RATE, decode_audio
from cairn.models.stt import SpeechToText, word_errors
from cairn.models.stt_context import context_text, frequent_terms
from cairn.models.tts import TextToSpeech

DEFAULT_LIBRISPEECH = Path("../shared/benchdata/librispeech-sample")
DEFAULT_POCKETSPHINX = Path("/usr/share/pocketsphinx/test/data")
GOFORWARD_TEXT = "go forward ten meters"

# Fixed sentences for the TTS -> STT round trip: requests of the kind Cairn is spoken to with.
ROUND_TRIP_SENTENCES: tuple[str, ...] = (
    "Please search my notes for the budget meeting.",
    "How many people live in the city of London?",
    "Who invented the telephone?",
    "Summarize what my sources say about packet switching.",
    "Remember that the meeting is on Friday at ten.",
    "List my sources about the Norman conquest.",
)

_SPHINX_LINE = re.compile(r"^\s*(?:<s>)?\s*(?P<text>.*?)\s*(?:</s>)?\s*\((?P<id>[^()]+)\)\s*$")


@dataclass(frozen=True)
class Clip:
    """One recording and what was said. ``raw_rate`` marks headerless s16le PCM."""

    set: str
    id: str
    path: Path
    reference: str
    raw_rate: int | None = None

    def samples(self) -> tuple[npt.NDArray[Any], int]:
        if self.raw_rate is not None:
            return np.frombuffer(self.path.read_bytes(), dtype="<i2"), self.raw_rate
        return decode_audio(self.path, sample_rate=SAMPLE_RATE), SAMPLE_RATE


def librispeech_clips(root: Path, set_name: str = "librispeech") -> list[Clip]:
    """Clips of a LibriSpeech-style folder: each ``*.trans.txt`` line is ``ID TEXT``."""
    clips: list[Clip] = []
    for trans in sorted(root.rglob("*.trans.txt")):
        for line in trans.read_text(encoding="utf-8").splitlines():
            uid, _, text = line.strip().partition(" ")
            if not uid:
                continue
            for ext in (".flac", ".wav"):
                audio = trans.parent / f"{uid}{ext}"
                if audio.is_file():
                    clips.append(Clip(set_name, uid, audio, text))
                    break
    return clips


def sphinx_transcription(path: Path) -> dict[str, str]:
    """``<s> text </s> (id)`` lines -> ``{id: text}``."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _SPHINX_LINE.match(line)
        if m:
            out[m.group("id").strip()] = m.group("text")
    return out


def pocketsphinx_clips(root: Path) -> dict[str, list[Clip]]:
    """The librivox, cards and goforward sets of Debian's pocketsphinx-testdata folder."""
    sets: dict[str, list[Clip]] = {}
    for name, trans_name in (("librivox", "transcription"), ("cards", "cards.transcription")):
        trans = root / name / trans_name
        if not trans.is_file():
            continue
        clips = [
            Clip(f"pocketsphinx-{name}", uid, root / name / f"{uid}.wav", text)
            for uid, text in sphinx_transcription(trans).items()
            if (root / name / f"{uid}.wav").is_file()
        ]
        if clips:
            sets[f"pocketsphinx-{name}"] = clips
    raw = root / "goforward.raw"
    if raw.is_file():
        sets["pocketsphinx-goforward"] = [
            Clip("pocketsphinx-goforward", "goforward", raw, GOFORWARD_TEXT, raw_rate=16000)
        ]
    return sets


def default_sets(
    librispeech: Path | None = DEFAULT_LIBRISPEECH,
    pocketsphinx: Path | None = DEFAULT_POCKETSPHINX,
) -> dict[str, list[Clip]]:
    """Every set found at the given folders (absent folders are skipped)."""
    sets: dict[str, list[Clip]] = {}
    if librispeech is not None and librispeech.is_dir():
        clips = librispeech_clips(librispeech)
        if clips:
            sets["librispeech"] = clips
    if pocketsphinx is not None and pocketsphinx.is_dir():
        sets.update(pocketsphinx_clips(pocketsphinx))
    return sets


@dataclass
class ClipResult:
    set: str
    id: str
    reference: str
    hypothesis: str
    errors: int
    words: int
    audio_seconds: float
    seconds: float

    @property
    def rtf(self) -> float:
        return self.seconds / self.audio_seconds if self.audio_seconds else 0.0


@dataclass
class SetScore:
    clips: int = 0
    errors: int = 0
    words: int = 0
    rtfs: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def add(self, r: ClipResult) -> None:
        self.clips += 1
        self.errors += r.errors
        self.words += r.words
        self.rtfs.append(r.rtf)
        self.seconds.append(r.seconds)

    @property
    def wer(self) -> float:
        return self.errors / self.words if self.words else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "clips": self.clips,
            "wer": round(self.wer, 4),
            "errors": self.errors,
            "words": self.words,
            "rtf_median": round(statistics.median(self.rtfs), 3) if self.rtfs else None,
            "seconds_per_clip_median": (
                round(statistics.median(self.seconds), 3) if self.seconds else None
            ),
        }


@dataclass
class SpeechEvalReport:
    model: str
    clips: list[ClipResult]
    round_trip: list[ClipResult] = field(default_factory=list)
    tts: str | None = None
    biased: bool = False

    def per_set(self) -> dict[str, SetScore]:
        sets: dict[str, SetScore] = {}
        for r in self.clips:
            sets.setdefault(r.set, SetScore()).add(r)
        return sets

    def overall(self) -> SetScore:
        total = SetScore()
        for r in self.clips:
            total.add(r)
        return total

    def round_trip_score(self) -> SetScore:
        total = SetScore()
        for r in self.round_trip:
            total.add(r)
        return total

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": self.model,
            "biased": self.biased,
            "sets": {name: s.as_dict() for name, s in self.per_set().items()},
            "overall": self.overall().as_dict(),
            "clips": [_clip_dict(r) for r in self.clips],
        }
        if self.round_trip:
            out["round_trip"] = {
                "tts": self.tts,
                **self.round_trip_score().as_dict(),
                "sentences": [_clip_dict(r) for r in self.round_trip],
            }
        return out


def _clip_dict(r: ClipResult) -> dict[str, Any]:
    return {
        "set": r.set,
        "id": r.id,
        "reference": r.reference,
        "hypothesis": r.hypothesis,
        "errors": r.errors,
        "words": r.words,
        "audio_seconds": round(r.audio_seconds, 3),
        "seconds": round(r.seconds, 3),
        "rtf": round(r.rtf, 3),
    }


def transcribe_timed(
    stt: SpeechToText,
    audio: npt.NDArray[Any],
    rate: int,
    *,
    set_name: str,
    clip_id: str,
    reference: str,
    language: str | None = "en",
) -> ClipResult:
    """Transcribe one clip's samples, score it, and time the transcription alone."""
    began = time.perf_counter()
    out = stt.transcribe_array(audio, rate, language=language, word_timestamps=False)
    seconds = time.perf_counter() - began
    errors, words = word_errors(reference, out.text)
    duration = out.duration or (len(audio) / rate if rate else 0.0)
    return ClipResult(set_name, clip_id, reference, out.text, errors, words, duration, seconds)


def leave_one_out_context(clips: Sequence[Clip], clip: Clip) -> str | None:
    """The priming for ``clip``: frequent words of the other clips' transcripts of its set."""
    # Lower case: LibriSpeech writes its transcripts in capitals, and Whisper copies the
    # style of what it is primed with.
    return context_text(frequent_terms(c.reference.lower() for c in clips if c is not clip))


def evaluate_stt(
    stt: SpeechToText,
    sets: dict[str, list[Clip]],
    *,
    language: str | None = "en",
    bias: bool = False,
) -> list[ClipResult]:
    """Transcribe every clip of every set (model warmed up first); primed per clip when
    ``bias`` (see :func:`leave_one_out_context`)."""
    stt.warm_up()
    results: list[ClipResult] = []
    for clips in sets.values():
        for clip in clips:
            audio, rate = clip.samples()
            model = stt.with_context(leave_one_out_context(clips, clip)) if bias else stt
            results.append(
                transcribe_timed(
                    model,
                    audio,
                    rate,
                    set_name=clip.set,
                    clip_id=clip.id,
                    reference=clip.reference,
                    language=language,
                )
            )
    return results


def round_trip(
    stt: SpeechToText,
    tts: TextToSpeech,
    sentences: Sequence[str] = ROUND_TRIP_SENTENCES,
    *,
    language: str | None = "en",
    context: str | None = None,
) -> list[ClipResult]:
    """Speak each sentence with ``tts`` and transcribe it back (primed with ``context``)."""
    stt.warm_up()
    tts.warm_up()
    stt = stt.with_context(context) if context else stt
    results: list[ClipResult] = []
    for n, sentence in enumerate(sentences, start=1):
        audio, rate = tts.synthesize(sentence)
        results.append(
            transcribe_timed(
                stt,
                audio,
                rate,
                set_name="round-trip",
                clip_id=f"s{n}",
                reference=sentence,
                language=language,
            )
        )
    return results


def run_speech_eval(
    stt: SpeechToText,
    *,
    librispeech: Path | None = DEFAULT_LIBRISPEECH,
    pocketsphinx: Path | None = DEFAULT_POCKETSPHINX,
    tts: TextToSpeech | None = None,
    sentences: Sequence[str] = ROUND_TRIP_SENTENCES,
    language: str | None = "en",
    bias: bool = False,
) -> SpeechEvalReport:
    """WER and real-time factor per set and overall; the round trip when ``tts`` is given.
    ``bias`` primes the model as the module docstring says."""
    sets = default_sets(librispeech, pocketsphinx)
    if not sets:
        raise ConfigError(
            "missing-data",
            f"no recordings found at {librispeech} or {pocketsphinx} "
            "(pass --data, or apt-get install pocketsphinx-testdata)",
        )
    report = SpeechEvalReport(
        model=getattr(stt, "name", type(stt).__name__),
        clips=evaluate_stt(stt, sets, language=language, bias=bias),
        biased=bias,
    )
    if tts is not None:
        report.tts = getattr(tts, "name", type(tts).__name__)
        context = demo_context() if bias else None
        report.round_trip = round_trip(stt, tts, sentences, language=language, context=context)
    return report


def demo_context() -> str | None:
    """The priming Cairn gives speech about the bundled demo collection (a throwaway KB)."""
    import tempfile

    from cairn.compose import speech_context
    from cairn.demo import DEMO_LICENSE, demo_files
    from cairn.knowledge import open_kb
    from cairn.models.embed import HashingEmbedder

    with (
        tempfile.TemporaryDirectory(prefix="cairn-speech-") as tmp,
        open_kb(Path(tmp) / "demo.sqlite", embedder=HashingEmbedder()) as kb,
    ):
        kb.ingest(demo_files(), collection="demo", license=DEMO_LICENSE)
        return speech_context(kb.store)
