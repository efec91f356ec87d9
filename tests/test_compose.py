"""The composition root (``cairn.compose``): the knowledge base with its embedder chosen from
what it recorded, the answering methods on ``cairn.open(...)``, and speech parts whose load
failures become the stage's error with the same code and message as before."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import FIXED_SUPPORT, TOWN_DOCS, fake_kb

import cairn
from cairn import compose
from cairn.answer.chat import ChatSession
from cairn.errors import CairnError, ModelError, PipelineError
from cairn.events import Stage
from cairn.graph.extract import CapitalisedExtractor
from cairn.models.embed import (
    DEFAULT_EMBEDDER,
    Embedder,
    HashingEmbedder,
    OnnxSentenceEmbedder,
    Vectors,
    load_embedder,
)
from cairn.models.stt import FakeSTT
from cairn.models.tts import FakeTTS


def _hashing_kb(root: Path) -> Path:
    fake_kb(root, TOWN_DOCS).close()
    return root / "kb.sqlite"


def test_the_embedder_is_the_one_the_knowledge_base_recorded(tmp_path: Path) -> None:
    path = _hashing_kb(tmp_path)
    with cairn.open(path) as kb:
        assert kb.store.embedding_model() == "hashing-64"
        assert isinstance(kb.embedder, HashingEmbedder)
        hits = kb.search("Margaret Hale lighthouse engineer", k=1, mode="dense")
        assert hits and "Margaret Hale" in hits[0].chunk.text


def test_an_empty_or_unknown_record_keeps_the_packaged_default(tmp_path: Path) -> None:
    with cairn.open(tmp_path / "empty.sqlite") as kb:
        assert kb.store.embedding_model() is None
        assert isinstance(kb.embedder, OnnxSentenceEmbedder)
        assert kb.embedder.name == DEFAULT_EMBEDDER

    class Custom(HashingEmbedder):
        def __init__(self) -> None:
            super().__init__(64)
            self.name = "my-own-export"

    custom = cairn.open(tmp_path / "custom.sqlite", embedder=Custom())
    (tmp_path / "a.txt").write_text("A note about Lisbon trams.", encoding="utf-8")
    custom.ingest([tmp_path / "a.txt"], graph=False)
    custom.close()
    with cairn.open(tmp_path / "custom.sqlite") as kb:
        assert kb.embedder.name == DEFAULT_EMBEDDER  # not registered: the default, as before


def test_threads_reach_the_default_embedder(tmp_path: Path) -> None:
    with cairn.open(tmp_path / "kb.sqlite", threads=2) as kb:
        embedder = kb.embedder
        assert isinstance(embedder, OnnxSentenceEmbedder) and embedder.threads == 2


def test_two_registered_embedders_that_differ_fail_on_open(tmp_path: Path) -> None:
    path = _hashing_kb(tmp_path)
    minilm = load_embedder("minilm")  # not loaded: only its name is compared
    with pytest.raises(ModelError) as caught:
        cairn.open(path, embedder=minilm)
    assert caught.value.code == "embedding-model-mismatch"
    assert "'hashing-64'" in caught.value.message and DEFAULT_EMBEDDER in caught.value.message
    with cairn.open(path) as kb:  # the store was closed, and nothing stored was lost
        assert len(kb.sources()) == len(TOWN_DOCS)


def test_a_registered_embedder_is_found_by_its_recorded_name(tmp_path: Path) -> None:
    class Constant(Embedder):
        name = "constant-3"
        dim = 3

        def embed_batch(self, texts: Sequence[str]) -> Vectors:
            return np.tile(np.array([1.0, 0.0, 0.0], dtype=np.float32), (len(texts), 1))

    from cairn.models import embed

    registered = dict(embed._EMBEDDERS)
    try:
        embed.register_embedder("constant-3", lambda threads: Constant())
        assert isinstance(load_embedder("constant-3"), Constant)
    finally:
        embed._EMBEDDERS.clear()
        embed._EMBEDDERS.update(registered)


def test_the_opened_knowledge_base_answers(tmp_path: Path) -> None:
    path = _hashing_kb(tmp_path)
    with cairn.open(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor()) as kb:
        assert isinstance(kb, cairn.KnowledgeBase)
        answer = kb.ask("Who built the Old Harbour Lighthouse?", model=FIXED_SUPPORT)
        assert "Margaret Hale" in answer.text and answer.citations
        synthesis = kb.synthesize("The lighthouse was built in 1874")
        assert synthesis.claim == "The lighthouse was built in 1874"
        assert isinstance(kb.chat(model=FIXED_SUPPORT), ChatSession)


class _BrokenSTT(FakeSTT):
    def warm_up(self) -> None:
        raise ModelError("model-missing", "no Whisper here")


class _BrokenTTS(FakeTTS):
    def warm_up(self) -> None:
        raise ModelError("no-tts", "no voice here")


def test_speech_load_failures_are_the_stage_errors() -> None:
    with pytest.raises(PipelineError) as stt_failed:
        compose.ready_speech_to_text(_BrokenSTT("hi"))
    assert stt_failed.value.to_dict() == {
        "code": "model-missing",
        "message": "speech-to-text: no Whisper here",
        "stage": Stage.stt,
    }
    with pytest.raises(PipelineError) as tts_failed:
        compose.ready_text_to_speech(_BrokenTTS())
    assert tts_failed.value.to_dict() == {
        "code": "no-tts",
        "message": "text-to-speech: no voice here",
        "stage": Stage.speak,
    }
    plain = compose.stage_error(CairnError("x", "went wrong"), Stage.stt)
    assert (plain.code, plain.message, plain.stage) == ("x", "went wrong", Stage.stt)
    assert compose.ready_speech_to_text(_BrokenSTT("hi"), warm=False).context is None


def test_speech_parts_are_built_from_their_specs() -> None:
    stt = compose.speech_to_text("fake:hello there")
    assert isinstance(stt, FakeSTT)
    assert isinstance(compose.text_to_speech("fake"), FakeTTS)
    assert compose.language_model(None) is None
    with pytest.raises(ModelError) as caught:
        compose.language_model("nonsense")
    assert caught.value.code == "bad-llm"
