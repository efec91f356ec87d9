"""Audio decoding: every accepted format, resampling, and a clear error for each bad input."""

from __future__ import annotations

import struct
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av", reason="audio decoding needs the speech extra (PyAV)")

from cairn.errors import CairnError  # noqa: E402
from cairn.models.audio import (  # noqa: E402
    SAMPLE_RATE,
    AudioError,
    decode_audio,
    format_duration,
    resample,
    sniff_format,
    to_mono,
)

TONE_HZ = 440.0
SECONDS = 2.0


def tone(rate: int, seconds: float = SECONDS, hz: float = TONE_HZ) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def write_pcm_wav(path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> Path:
    data = np.repeat(samples[:, None], channels, axis=1) if channels > 1 else samples
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(data, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def encode(path: Path, fmt: str, codec: str, rate: int) -> Path:
    """Encode a 440 Hz tone with PyAV's bundled FFmpeg (no system FFmpeg needed)."""
    samples = (tone(rate)[None, :] * 32767).astype(np.int16)
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def dominant_hz(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(spectrum.argmax())])


FORMATS = [
    ("flac", "flac", "flac", 44100),
    ("mp3", "mp3", "libmp3lame", 44100),
    ("ogg", "ogg", "libopus", 48000),
    ("webm", "webm", "libopus", 48000),
    ("m4a", "ipod", "aac", 44100),
]


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("encoded")
    files = {"wav": write_pcm_wav(folder / "tone.wav", tone(22050), 22050)}
    for ext, fmt, codec, rate in FORMATS:
        files[ext] = encode(folder / f"tone.{ext}", fmt, codec, rate)
    return files


@pytest.mark.parametrize("ext", ["wav", "flac", "mp3", "ogg", "webm", "m4a"])
def test_decodes_each_format_to_16k_mono_float32(encoded: dict[str, Path], ext: str) -> None:
    audio = decode_audio(encoded[ext])
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size / SAMPLE_RATE - SECONDS) < 0.1  # codecs pad a few ms
    middle = audio[1600:-1600]  # lossy codecs ring at an abrupt start or end
    assert 0.25 < float(np.abs(middle).max()) < 0.36
    assert abs(dominant_hz(audio) - TONE_HZ) < 2.0  # resampled, not merely relabelled


def test_decodes_bytes_as_well_as_paths(encoded: dict[str, Path]) -> None:
    from_bytes = decode_audio(encoded["flac"].read_bytes())
    np.testing.assert_array_equal(from_bytes, decode_audio(encoded["flac"]))


def test_stereo_8k_and_44k_inputs_are_resampled(tmp_path: Path) -> None:
    stereo = decode_audio(write_pcm_wav(tmp_path / "s.wav", tone(44100), 44100, channels=2))
    low = decode_audio(write_pcm_wav(tmp_path / "l.wav", tone(8000), 8000))
    for audio in (stereo, low):
        assert abs(audio.size - SECONDS * SAMPLE_RATE) <= 32
        assert abs(dominant_hz(audio) - TONE_HZ) < 2.0


def test_decode_to_another_rate(encoded: dict[str, Path]) -> None:
    audio = decode_audio(encoded["wav"], sample_rate=8000)
    assert abs(audio.size - SECONDS * 8000) <= 16


def test_streaming_wav_header_with_unknown_size_is_accepted(tmp_path: Path) -> None:
    # espeak-ng --stdout and FFmpeg writing to a pipe leave the RIFF sizes at ~0x7FFFFFFF.
    data = bytearray(write_pcm_wav(tmp_path / "t.wav", tone(16000), 16000).read_bytes())
    data[4:8] = struct.pack("<I", 0x7FFFF024)
    data[40:44] = struct.pack("<I", 0x7FFFF000)
    audio = decode_audio(bytes(data))
    assert abs(audio.size - SECONDS * SAMPLE_RATE) <= 16


def expect_error(source: Path | bytes, code: str, **kwargs: float) -> AudioError:
    with pytest.raises(AudioError) as info:
        decode_audio(source, **kwargs)  # type: ignore[arg-type]
    assert info.value.code == code, info.value.message
    assert isinstance(info.value, CairnError) and info.value.message
    return info.value


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    err = expect_error(path, "empty-audio")
    assert "0 bytes" in err.message and str(path) in err.message


def test_missing_file(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope.wav", "not-found")


def test_text_file_named_wav(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("These are my meeting notes, not a recording.\n" * 20)
    err = expect_error(path, "unsupported-format")
    assert "WAV" in err.message and "MP3" in err.message


def test_playlist_renamed_wav_never_reaches_ffmpeg(tmp_path: Path) -> None:
    path = tmp_path / "list.wav"
    path.write_text("#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n")
    expect_error(path, "unsupported-format")


@pytest.mark.parametrize("ext", ["wav", "flac", "mp3", "webm"])
def test_truncated_files(encoded: dict[str, Path], ext: str) -> None:
    data = encoded[ext].read_bytes()
    err = expect_error(data[: len(data) // 2], "truncated-audio")
    assert "truncated" in err.message


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "webm", "m4a", "mp3"])
def test_header_only_files(encoded: dict[str, Path], ext: str) -> None:
    with pytest.raises(AudioError) as info:
        decode_audio(encoded[ext].read_bytes()[:44])
    assert info.value.code in ("truncated-audio", "undecodable-audio")


def test_unsupported_codec(tmp_path: Path) -> None:
    pcm = np.zeros(16000, dtype="<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 0x9999, 1, 16000, 32000, 2, 16)  # an unknown format tag
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
    body += b"data" + struct.pack("<I", len(pcm)) + pcm
    expect_error(b"RIFF" + struct.pack("<I", len(body)) + body, "unsupported-codec")


def test_no_audio_stream(tmp_path: Path) -> None:
    path = tmp_path / "video.webm"
    with av.open(str(path), "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=1)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    expect_error(path, "no-audio-stream")


def test_too_long(encoded: dict[str, Path]) -> None:
    err = expect_error(encoded["flac"], "too-long", max_seconds=1.0)
    assert "1.0 s" in err.message


def test_too_long_is_checked_while_decoding_when_undeclared(tmp_path: Path) -> None:
    data = bytearray(write_pcm_wav(tmp_path / "t.wav", tone(16000, 3.0), 16000).read_bytes())
    data[4:8] = struct.pack("<I", 0xFFFFFFFF)
    data[40:44] = struct.pack("<I", 0xFFFFFFFF)
    expect_error(bytes(data), "too-long", max_seconds=1.0)


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "wav"),
        (b"fLaC\x00\x00\x00\x22", "flac"),
        (b"OggS\x00\x02", "ogg"),
        (b"\x1a\x45\xdf\xa3\x9f", "matroska"),
        (b"\x00\x00\x00\x1cftypM4A ", "mp4"),
        (b"ID3\x04\x00", "mp3"),
        (b"\xff\xfb\x90\x64", "mp3"),
        (b"\xff\xf1\x50\x80", "aac"),
        (b"#EXTM3U\n", None),
        (b"%PDF-1.7", None),
        (b"", None),
    ],
)
def test_sniff_format(head: bytes, fmt: str | None) -> None:
    assert sniff_format(head) == fmt


def test_to_mono_scales_integers_mixes_channels_and_resamples() -> None:
    pcm = (tone(8000) * 32767).astype(np.int16)
    out = to_mono(np.stack([pcm, pcm], axis=1), 8000)
    assert out.dtype == np.float32
    assert abs(out.size - SECONDS * SAMPLE_RATE) <= 32
    assert 0.28 < float(np.abs(out).max()) < 0.32
    assert abs(dominant_hz(out) - TONE_HZ) < 2.0
    same = tone(SAMPLE_RATE)
    np.testing.assert_array_equal(to_mono(same, SAMPLE_RATE), same)


@pytest.mark.parametrize(
    ("audio", "rate"),
    [
        (np.array([0.0, np.nan], dtype=np.float32), 16000),
        (np.zeros((2, 2, 2), dtype=np.float32), 16000),
        (np.array(["a", "b"]), 16000),
        (np.zeros(10, dtype=np.float32), 0),
    ],
)
def test_to_mono_rejects_bad_arrays(audio: np.ndarray, rate: int) -> None:
    with pytest.raises(AudioError) as info:
        to_mono(audio, rate)
    assert info.value.code == "invalid-audio"


def test_to_mono_too_long() -> None:
    with pytest.raises(AudioError) as info:
        to_mono(np.zeros(16000 * 3, dtype=np.float32), 16000, max_seconds=2.0)
    assert info.value.code == "too-long"


def test_resample_empty_and_identity() -> None:
    empty = np.zeros(0, dtype=np.float32)
    assert resample(empty, 8000, 16000).size == 0
    x = tone(16000)
    assert resample(x, 16000, 16000) is x


def test_missing_pyav_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, encoded: dict[str, Path]
) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # simulates "not installed"
    with pytest.raises(AudioError) as info:
        decode_audio(encoded["wav"])
    assert info.value.code == "missing-package"
    assert "pip install 'cairn[speech]'" in info.value.message
    with pytest.raises(AudioError) as info:
        resample(tone(8000), 8000, 16000)
    assert info.value.code == "missing-package"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(3.24, "3.2 s"), (65, "1 min 5 s"), (120, "2 min"), (7200, "2 h"), (5400, "1 h 30 min")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
