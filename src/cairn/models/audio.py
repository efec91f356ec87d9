"""Decode audio files to what speech models want: 16 kHz mono float32 samples in [-1, 1].

Decoding goes through PyAV (FFmpeg), the library faster-whisper itself decodes with, so WAV,
FLAC, MP3, Ogg (Vorbis/Opus), WebM/Matroska, MP4/M4A and ADTS AAC all work without an FFmpeg
install. Three guards sit in front of FFmpeg:

* the container is recognised from its first bytes and FFmpeg is told which demuxer to use, so
  a playlist or other exotic format renamed ``.wav`` never reaches FFmpeg's prober;
* FFmpeg reads only through a Python file object, so a path can never be taken as a URL or
  FFmpeg protocol;
* decoding stops at ``max_seconds`` (default two hours) instead of filling memory.

Failures raise :class:`AudioError` with a stable ``code``: ``not-found``, ``empty-audio``,
``unsupported-format``, ``no-audio-stream``, ``unsupported-codec``, ``truncated-audio``,
``undecodable-audio``, ``too-long``, ``invalid-audio``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from cairn.errors import CairnError

SAMPLE_RATE = 16_000
DEFAULT_MAX_SECONDS = 2 * 60 * 60.0

Samples = npt.NDArray[np.float32]

# What people call the formats we accept, for messages.
SUPPORTED_FORMATS = "WAV, FLAC, MP3, Ogg (Vorbis/Opus), WebM/Matroska, MP4/M4A, AAC"

# A decode that yields less than this share of the declared duration (and is more than
# _TRUNCATION_SLACK_S short) means the file was cut off or damaged.
_TRUNCATION_RATIO = 0.9
_TRUNCATION_SLACK_S = 0.5


class AudioError(CairnError):
    """An audio input could not be read (empty, truncated, not audio, too long, ...)."""


def sniff_format(head: bytes) -> str | None:
    """The FFmpeg demuxer for a file that starts with ``head``, or None if not one we accept."""
    if len(head) >= 12 and head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: WebM and Matroska
        return "matroska"
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "mp4"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        # An MPEG audio frame sync. Layer bits 00 mean ADTS AAC rather than MP3.
        return "aac" if (head[1] & 0x06) == 0 else "mp3"
    return None


def _declared_riff_truncation(data_len: int, head: bytes) -> bool:
    """True when a WAV header promises more bytes than the file holds."""
    riff_size = int.from_bytes(head[4:8], "little" if head[:4] == b"RIFF" else "big")
    if riff_size < 4 or riff_size >= 0x7F000000:
        return False  # streaming writers (espeak-ng --stdout, ffmpeg to a pipe) leave it unknown
    return data_len < riff_size + 8


def decode_audio(
    source: str | Path | bytes,
    *,
    sample_rate: int = SAMPLE_RATE,
    max_seconds: float = DEFAULT_MAX_SECONDS,
) -> Samples:
    """Decode ``source`` (a path or the file's bytes) to mono float32 at ``sample_rate``.

    Stereo and multi-channel input is mixed down; any input rate is resampled.
    """
    name, fh, size = _open_source(source)
    try:
        if size == 0:
            raise AudioError("empty-audio", f"{name} is empty (0 bytes)")
        head = fh.read(64)
        fh.seek(0)
        fmt = sniff_format(head)
        if fmt is None:
            raise AudioError(
                "unsupported-format",
                f"{name} is not in an audio format Cairn reads (expected {SUPPORTED_FORMATS})",
            )
        if fmt == "wav" and _declared_riff_truncation(size, head):
            raise AudioError(
                "truncated-audio",
                f"{name} is truncated: its WAV header promises more data than the file holds",
            )
        return _decode(fh, fmt, name, sample_rate=sample_rate, max_seconds=max_seconds)
    finally:
        fh.close()


def _open_source(source: str | Path | bytes) -> tuple[str, IO[bytes], int]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        return "the audio", io.BytesIO(data), len(data)
    path = Path(source).expanduser()
    if not path.is_file():
        raise AudioError("not-found", f"audio file not found: {path}")
    try:
        fh = path.open("rb")
    except OSError as err:
        raise AudioError("not-found", f"cannot open {path}: {err.strerror}") from err
    return str(path), fh, path.stat().st_size


def _decode(fh: IO[bytes], fmt: str, name: str, *, sample_rate: int, max_seconds: float) -> Samples:
    av = _import_av()

    max_samples = int(max_seconds * sample_rate)
    chunks: list[Samples] = []
    total = 0
    bad_frames = 0
    try:
        with av.open(fh, mode="r", format=fmt, metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError("no-audio-stream", f"{name} holds no audio track")
            stream = container.streams.audio[0]
            declared = _declared_seconds(container, stream)
            if declared is not None and declared > max_seconds + 1.0:
                raise _too_long(name, declared, max_seconds)
            try:
                stream.codec_context  # noqa: B018 - raises if FFmpeg has no decoder
            except av.error.FFmpegError as err:
                raise _unsupported_codec(name, err) from err
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            frames = container.decode(stream)
            while True:
                try:
                    frame = next(frames)
                except StopIteration:
                    break
                except av.error.InvalidDataError:
                    bad_frames += 1  # a damaged packet: skip it, judge the total below
                    if bad_frames > 1000:
                        raise
                    continue
                for out in resampler.resample(frame):
                    total += _take(out, chunks)
                if total > max_samples:
                    raise _too_long(name, None, max_seconds)
            for out in resampler.resample(None):
                total += _take(out, chunks)
    except AudioError:
        raise
    except (av.error.DecoderNotFoundError, av.error.PatchWelcomeError) as err:
        raise _unsupported_codec(name, err) from err
    except av.error.EOFError as err:
        raise AudioError("truncated-audio", f"{name} ends before its header does") from err
    except (av.error.FFmpegError, ValueError) as err:
        raise AudioError("undecodable-audio", f"{name} could not be decoded: {err}") from err

    if total > max_samples:
        raise _too_long(name, None, max_seconds)
    decoded = total / sample_rate
    if declared is not None and decoded < declared * _TRUNCATION_RATIO - _TRUNCATION_SLACK_S:
        raise AudioError(
            "truncated-audio",
            f"{name} is truncated or damaged: it declares {declared:.1f} s "
            f"but only {decoded:.1f} s could be decoded",
        )
    if total == 0 and bad_frames:
        raise AudioError("undecodable-audio", f"{name} holds no decodable audio")
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks)


def _import_av() -> Any:
    try:
        import av
        import av.error
    except ImportError as err:
        raise AudioError(
            "missing-package", "decoding audio needs PyAV: pip install 'cairn[speech]'"
        ) from err
    return av


def _take(frame: Any, chunks: list[Samples]) -> int:
    arr = np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1)
    if arr.size:
        chunks.append(arr)
    return int(arr.size)


def _declared_seconds(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    return None


def _too_long(name: str, seconds: float | None, max_seconds: float) -> AudioError:
    size = f" ({format_duration(seconds)})" if seconds is not None else ""
    return AudioError(
        "too-long",
        f"{name} is longer{size} than the limit of {format_duration(max_seconds)}; "
        "split it or raise max_seconds",
    )


def format_duration(seconds: float) -> str:
    """``"2 h"``, ``"1 h 30 min"``, ``"4 min 5 s"``, ``"3.2 s"``: for messages."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min" + (f" {secs} s" if secs else "")


def _unsupported_codec(name: str, err: Exception) -> AudioError:
    return AudioError(
        "unsupported-codec", f"{name} uses an audio codec FFmpeg cannot decode: {err}"
    )


def to_mono(
    audio: npt.ArrayLike,
    sample_rate: int,
    *,
    target_rate: int = SAMPLE_RATE,
    max_seconds: float = DEFAULT_MAX_SECONDS,
) -> Samples:
    """Samples from memory to mono float32 at ``target_rate``.

    Accepts shape ``(n,)`` or ``(n, channels)``; float input is taken as [-1, 1], integer
    input (e.g. int16 PCM) is scaled to it.
    """
    arr = np.asarray(audio)
    if arr.ndim not in (1, 2):
        raise AudioError("invalid-audio", f"audio must be 1-D or 2-D, got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.integer):
        info = np.iinfo(arr.dtype)
        arr = arr.astype(np.float32) / float(max(abs(info.min), info.max))
    elif not np.issubdtype(arr.dtype, np.floating):
        raise AudioError("invalid-audio", f"audio samples must be numbers, got {arr.dtype}")
    if arr.ndim == 2:
        # (n, channels) is the common layout; (channels, n) when channels come first.
        arr = arr.mean(axis=1) if arr.shape[1] <= arr.shape[0] else arr.mean(axis=0)
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if sample_rate <= 0:
        raise AudioError("invalid-audio", f"sample rate must be positive, got {sample_rate}")
    if not np.isfinite(out).all():
        raise AudioError("invalid-audio", "audio holds NaN or infinite samples")
    if out.size > max_seconds * sample_rate:
        raise _too_long("the audio", out.size / sample_rate, max_seconds)
    if sample_rate != target_rate and out.size:
        out = resample(out, sample_rate, target_rate)
    return out


def resample(audio: Samples, from_rate: int, to_rate: int) -> Samples:
    """Resample mono float32 audio with FFmpeg's resampler (the one decoding uses)."""
    if from_rate == to_rate or audio.size == 0:
        return audio
    av = _import_av()

    resampler = av.AudioResampler(format="flt", layout="mono", rate=to_rate)
    chunks: list[Samples] = []
    step = 1 << 16
    for lo in range(0, audio.size, step):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(audio[None, lo : lo + step]), format="flt", layout="mono"
        )
        frame.sample_rate = from_rate
        for out in resampler.resample(frame):
            _take(out, chunks)
    for out in resampler.resample(None):
        _take(out, chunks)
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
