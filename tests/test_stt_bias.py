"""Shallow-fusion biasing of a greedy decoder towards expected words (unit, a made-up vocabulary),
and its use by Moonshine (the loaded model is shared; unrelated words change nothing)."""

from __future__ import annotations

import numpy as np
import pytest

from cairn.models.stt_bias import MIN_MATCH_CHARS, WordBias, bias_words

# A vocabulary read as decoded text: a leading space starts a word; "" is a special token.
PIECES = ["", " ten", " of", " cl", "oves", "ubs", ".", " c", "l", " clubs", "ub", "s"]
IDS = {p: i for i, p in enumerate(PIECES) if p}


def _logits(scores: dict[str, float], floor: float = -20.0) -> np.ndarray:
    out = np.full(len(PIECES), floor, dtype=np.float32)
    for piece, value in scores.items():
        out[IDS[piece]] = value
    return out


def test_bias_words_are_distinct_lower_case_and_long_enough() -> None:
    words = bias_words("Clubs, hearts, of, Ten of clubs, the James Watt's engine, an, x, with")
    assert words == ["clubs", "hearts", "ten", "james", "watt's", "engine"]
    assert all(len(w) >= MIN_MATCH_CHARS for w in words)
    assert bias_words(None) == []
    many = " ".join(a + b + c for a in "abcdefghij" for b in "abcdefghij" for c in "abcdefghij")
    assert len(bias_words(many)) == 400


def test_a_close_expected_word_wins() -> None:
    logits = _logits({"oves": 1.0, "ubs": 0.2})
    plain = WordBias.build([], PIECES)
    biased = WordBias.build(["clubs"], PIECES)
    assert plain.choose(logits, "ten of cl") == IDS["oves"]
    assert biased.choose(logits, "ten of cl") == IDS["ubs"]


def test_an_unsupported_word_is_never_forced_in() -> None:
    # "ubs" is far below: more than the bonus
    logits = _logits({"oves": 6.0, "ubs": 0.0})
    assert WordBias.build(["clubs"], PIECES, bonus=2.0).choose(logits, "ten of cl") == IDS["oves"]
    # outside the top k: never a candidate, whatever the bonus
    logits = _logits({"oves": 5.0, "ubs": 4.9, ".": 4.95})
    assert WordBias.build(["clubs"], PIECES, bonus=9.0, top_k=2).choose(logits, "ten of cl") in (
        IDS["oves"],
        IDS["."],
    )


def test_short_prefixes_and_punctuation_earn_nothing() -> None:
    bias = WordBias.build(["clubs"], PIECES)
    # " c" makes a one-letter prefix, "l" a two-letter one: below MIN_MATCH_CHARS
    assert bias.choose(_logits({" of": 1.0, " c": 0.5}), "ten") == IDS[" of"]
    assert bias.choose(_logits({"oves": 1.0, "l": 0.5}), "ten of c") == IDS["oves"]
    # a token that is punctuation never earns the bonus
    assert bias.choose(_logits({"oves": 1.0, ".": 0.9}), "ten of cl") == IDS["oves"]
    # a whole expected word starting a new word does
    assert bias.choose(_logits({" cl": 1.0, " clubs": 0.5}), "ten of") == IDS[" clubs"]
    # but a token that only begins an expected word does not: no bonus can be taken back
    longer = WordBias.build(["clubsandwich"], PIECES)
    assert longer.choose(_logits({" cl": 1.0, " clubs": 0.5}), "ten of") == IDS[" cl"]


def test_the_word_restarts_after_a_space() -> None:
    bias = WordBias.build(["clubs"], PIECES)
    # "cl" + "ub" + "s" continues "clubs" within the word being written
    assert bias.choose(_logits({"oves": 1.0, "ub": 0.5}), "ten of cl") == IDS["ub"]
    # after a finished word, a piece without a leading space continues THAT word: "tenub" no
    assert bias.choose(_logits({"oves": 1.0, "ub": 0.5}), "ten") == IDS["oves"]


def test_moonshine_with_context_shares_the_model_and_keeps_options() -> None:
    pytest.importorskip("onnxruntime")
    from cairn.models.stt_moonshine import MoonshineSTT

    stt = MoonshineSTT("/nowhere", vad_filter=False, bias_bonus=1.5)
    twin = stt.with_context("clubs, hearts")
    assert twin is not stt and twin.context == "clubs, hearts" and stt.context is None
    assert twin._loaded is stt._loaded  # one model in memory
    assert twin.bias_bonus == 1.5 and twin.vad_filter is False
    assert twin.with_context(None).context is None
    assert stt.with_context("   ").context is None
