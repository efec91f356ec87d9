"""A real uvicorn server on a free loopback port, driven by the official ``openai`` client."""

from __future__ import annotations

import io
import shutil
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

import cairn
from cairn.answer.span import RuleSpans
from cairn.answer.verify import SupportModel
from cairn.graph.extract import CapitalisedExtractor
from cairn.models.embed import HashingEmbedder
from cairn.models.stt import FakeSTT, SpeechToText, word_error_rate
from cairn.models.tts import FakeTTS, TextToSpeech, load_tts, wav_bytes
from cairn.server.app import create_app
from cairn.server.settings import ServerSettings
from helpers import serve_in_thread

if TYPE_CHECKING:
    from openai import OpenAI
    from openai.types.chat import ChatCompletionMessageParam

openai = pytest.importorskip("openai")
uvicorn = pytest.importorskip("uvicorn")

LIBRISPEECH = Path(__file__).resolve().parents[2] / "shared/benchdata/librispeech-sample"
POCKETSPHINX = Path("/usr/share/pocketsphinx/test/data")
TEXT = (
    "The Old Harbour Lighthouse stands on the northern pier.\n\n"
    "It was built in 1874 by the engineer Margaret Hale. The tower is 31 metres tall."
)
BAKERY = (
    "Rosa's Bakery opened on Mill Street in 1992. It was founded by the baker Rosa Marten.\n\n"
    "In 2019 Rosa's Bakery was on Harbour Road, by the pier."
)
MODEL = SupportModel(
    {"overlap": 4.0, "context_overlap": 2.0, "type_fit": 4.0, "cosine": 1.0},
    bias=-5.5,
    threshold=0.5,
)


def _tts() -> TextToSpeech:
    return load_tts("espeak-ng") if shutil.which("espeak-ng") else FakeTTS()


@contextmanager
def _serve(root: Path, stt: SpeechToText | None) -> Iterator[str]:
    kb = cairn.open(
        root / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    )
    doc = root / "lighthouse.txt"
    doc.write_text(TEXT, encoding="utf-8")
    bakery = root / "bakery.txt"
    bakery.write_text(BAKERY, encoding="utf-8")
    kb.ingest([doc, bakery], license="CC-BY-4.0")
    app = create_app(
        ServerSettings(data_dir=root / "data"),
        kb=kb,
        stt=stt,
        tts=_tts(),
        spans=RuleSpans(),
        support_model=MODEL,
    )
    try:
        with serve_in_thread(app) as port:
            yield f"http://127.0.0.1:{port}/v1"
    finally:
        kb.close()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _serve(tmp_path_factory.mktemp("live"), FakeSTT("when was the lighthouse built")) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[OpenAI]:
    with openai.OpenAI(base_url=base_url, api_key="test", max_retries=0, timeout=60) as c:
        yield c


def test_models_and_embeddings(client: OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert "cairn" in ids and "hashing-64" in ids
    # The client asks for base64 unless told otherwise; both come back as floats.
    texts = ["steam engine", "pier"]
    for out in (
        client.embeddings.create(model="hashing-64", input=texts),
        client.embeddings.create(model="cairn-embed", input=texts, encoding_format="float"),
    ):
        assert [d.index for d in out.data] == [0, 1]
        vec = np.array(out.data[0].embedding, dtype=np.float32)
        assert vec.shape == (64,)
        assert np.allclose(vec, HashingEmbedder().embed("steam engine"), atol=1e-6)
    with pytest.raises(openai.NotFoundError) as info:
        client.embeddings.create(model="text-embedding-3-small", input="x")
    assert info.value.code == "model_not_found"


def test_chat(client: OpenAI) -> None:
    q: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "When was the lighthouse built?"}
    ]
    out = client.chat.completions.create(model="cairn", messages=q)
    msg = out.choices[0].message
    assert msg.content is not None and "1874 [1]" in msg.content
    citations = (msg.model_extra or {})["citations"]
    assert citations[0]["quote"] == "It was built in 1874 by the engineer Margaret Hale."
    stream = client.chat.completions.create(model="cairn", messages=q, stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == msg.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=q)


def test_chat_follow_ups_use_earlier_turns(client: OpenAI) -> None:
    """Earlier user turns make a follow-up self-contained, as in ``cairn chat``."""
    messages: list[ChatCompletionMessageParam] = []

    def say(text: str) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        messages.append({"role": "user", "content": text})
        out = client.chat.completions.create(model="cairn", messages=messages)
        msg = out.choices[0].message
        assert msg.content is not None
        messages.append({"role": "assistant", "content": msg.content})
        extra = out.model_extra or {}
        return msg.content, extra["cairn"], (msg.model_extra or {})["citations"]

    _, info, cites = say("When did Rosa's Bakery open?")
    assert info["query"] == "When did Rosa's Bakery open?" and not info["rewritten"]
    assert "1992" in cites[0]["quote"]
    text, info, cites = say("Who founded it?")
    assert info["query"] == "Who founded Rosa's Bakery?" and info["rewritten"]
    assert cites[0]["source"].endswith("bakery.txt")
    say("Where was Rosa's Bakery in 1992?")
    text, info, cites = say("And what about in 2019?")
    assert info["query"] == "Where was Rosa's Bakery in 2019?"
    assert "Harbour Road" in text and "2019" in cites[0]["quote"]
    # The same follow-up alone has nothing to refer to: asked as typed.
    alone = client.chat.completions.create(
        model="cairn", messages=[{"role": "user", "content": "Who founded it?"}]
    )
    assert (alone.model_extra or {})["cairn"]["query"] == "Who founded it?"
    # Streaming resolves it the same way; the last chunk carries the rewritten query.
    follow: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "When did Rosa's Bakery open?"},
        {"role": "assistant", "content": "In 1992 [1]."},
        {"role": "user", "content": "Who founded it?"},
    ]
    chunks = list(client.chat.completions.create(model="cairn", messages=follow, stream=True))
    assert (chunks[-1].model_extra or {})["cairn"]["query"] == "Who founded Rosa's Bakery?"
    assert "bakery.txt" in "".join(c.choices[0].delta.content or "" for c in chunks)


def test_speech_and_transcription(client: OpenAI) -> None:
    audio = client.audio.speech.create(
        model="tts-1",
        voice="alloy",
        input="The lighthouse was built in 1874.",
        response_format="wav",
    ).content
    with wave.open(io.BytesIO(audio)) as w:
        assert w.getnframes() > w.getframerate() // 2  # over half a second of speech
    rate = 16000
    t = np.arange(rate, dtype=np.float32) / rate
    tone = wav_bytes(0.3 * np.sin(2 * np.pi * 440 * t), rate)
    out = client.audio.transcriptions.create(model="whisper-1", file=("q.wav", tone))
    assert out.text == "when was the lighthouse built"
    verbose = client.audio.transcriptions.create(
        model="whisper-1",
        file=("q.wav", tone),
        response_format="verbose_json",
        timestamp_granularities=["word"],
    )
    assert verbose.words is not None and [w.word for w in verbose.words][-1] == "built"


def _recording(tmp_path: Path) -> tuple[Path, str] | None:
    if LIBRISPEECH.is_dir():
        for trans in sorted(LIBRISPEECH.rglob("*.trans.txt")):
            line = trans.read_text().splitlines()[0]
            utt, _, words = line.partition(" ")
            flac = trans.with_name(f"{utt}.flac")
            if flac.is_file():
                return flac, words
    raw = POCKETSPHINX / "goforward.raw"
    if raw.is_file():  # 16 kHz mono int16, no header
        pcm = np.frombuffer(raw.read_bytes(), dtype="<i2").astype(np.float32) / 32768.0
        wav = tmp_path / "goforward.wav"
        wav.write_bytes(wav_bytes(pcm, 16000))
        return wav, "go forward ten meters"
    return None


@pytest.mark.integration
@pytest.mark.slow
def test_real_whisper_transcription(tmp_path: Path) -> None:
    found = _recording(tmp_path)
    if found is None:
        pytest.skip("no recording: ../shared/benchdata/librispeech-sample is absent")
    pytest.importorskip("faster_whisper")
    path, reference = found
    with (
        _serve(tmp_path, None) as base_url,  # None: the packaged Whisper, loaded on first use
        openai.OpenAI(base_url=base_url, api_key="test", max_retries=0, timeout=300) as c,
        path.open("rb") as fh,
    ):
        out = c.audio.transcriptions.create(model="whisper-1", file=fh, language="en")
    # one word in four may differ: primed with this KB's words ("31 metres tall"), Whisper
    # writes "go forward 10 metres", which scores as one error against "meters"
    assert word_error_rate(reference, out.text) <= 0.25, out.text
