"""Beam search over a decoder step (unit, a made-up table of next-token probabilities), the
repetition guard, and Moonshine's beam options (no model needed)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from cairn.models.stt_beam import MAX_SAME_TOKEN, BeamSearch, log_softmax, makes_loop
from cairn.models.stt_bias import WordBias

BOS, EOS = 0, 1
# token ids 2.. read as these pieces (a leading space starts a word)
PIECES = ["", "", " a", " b", " c", " d", " x", " y", " cl", "oves", "ubs"]
IDS = {p.strip(): i for i, p in enumerate(PIECES) if p}
VOCAB = len(PIECES)


class TableDecoder:
    """A decoder whose next-token probabilities depend on the tokens so far (``TABLE``).

    It keeps one prefix per row and follows ``parents`` as a real decoder's cache must, so a
    search that hands it the wrong parents gets the wrong probabilities."""

    def __init__(self, table: dict[tuple[str, ...], dict[str, float]]) -> None:
        self.table = table
        self.rows: list[tuple[str, ...]] = []
        self.calls = 0
        self.widest = 0

    def __call__(self, last: list[int], parents: list[int]) -> np.ndarray:
        self.calls += 1
        self.widest = max(self.widest, len(last))
        if not self.rows:
            assert last == [BOS] and parents == [0]
            self.rows = [()]
        else:
            self.rows = [
                (*self.rows[p], PIECES[t].strip()) for t, p in zip(last, parents, strict=True)
            ]
        out = np.full((len(last), VOCAB), -30.0)
        for r, prefix in enumerate(self.rows):
            for piece, p in self.table.get(prefix, {"</s>": 1.0}).items():
                out[r, EOS if piece == "</s>" else IDS[piece]] = math.log(p)
        return out


def _decode(ids: list[int]) -> str:
    return "".join(PIECES[i] for i in ids).strip()


# Greedy takes "a" (0.5 > 0.4), after which nothing is likely; "b c" is far more probable.
GARDEN_PATH = {
    (): {"a": 0.5, "b": 0.4, "c": 0.1},
    ("a",): {"c": 0.3, "d": 0.3, "x": 0.3, "</s>": 0.1},
    ("a", "c"): {"</s>": 1.0},
    ("a", "d"): {"</s>": 1.0},
    ("a", "x"): {"</s>": 1.0},
    ("b",): {"c": 0.95, "</s>": 0.05},
    ("b", "c"): {"</s>": 1.0},
}


def _run(table: dict[tuple[str, ...], dict[str, float]], **options: object) -> tuple[str, int]:
    decoder = TableDecoder(table)
    ids = BeamSearch(decode=_decode, **options).run(  # type: ignore[arg-type]
        decoder, bos=BOS, eos=EOS, max_tokens=20
    )
    return _decode(ids), decoder.widest


def test_greedy_takes_the_locally_best_token_and_beam_search_the_best_sequence() -> None:
    assert _run(GARDEN_PATH, width=1) == ("a c", 1)  # ties broken by the lower token id
    heard, widest = _run(GARDEN_PATH, width=2)
    assert heard == "b c" and widest == 2  # 0.4 * 0.95 beats 0.5 * 0.3
    assert _run(GARDEN_PATH, width=3)[0] == "b c"


def test_width_one_is_the_argmax_at_every_step() -> None:
    rng = np.random.default_rng(3)
    table = {(): {"a": 0.2, "b": 0.5, "c": 0.3}}
    for prefix in ("a", "b", "c"):
        p = rng.dirichlet(np.ones(3))
        table[(prefix,)] = {"x": float(p[0]), "y": float(p[1]), "</s>": float(p[2])}
    best_second = max(table[("b",)], key=table[("b",)].__getitem__)
    expected = "b" if best_second == "</s>" else f"b {best_second}"
    assert _run(table, width=1)[0] == expected


def test_length_penalty_decides_between_short_and_long_transcripts() -> None:
    # ending at once: 0.3; "a b c": 0.6 * 0.7 * 0.7 * 0.7 = 0.21 in all, but 0.67 per token
    table = {
        (): {"</s>": 0.3, "a": 0.6, "b": 0.1},
        ("a",): {"b": 0.7, "</s>": 0.3},
        ("a", "b"): {"c": 0.7, "</s>": 0.3},
        ("a", "b", "c"): {"</s>": 0.7, "d": 0.3},
    }
    assert _run(table, width=2, length_penalty=0.0)[0] == ""  # raw sums favour stopping
    assert _run(table, width=2, length_penalty=1.0)[0] == "a b c"  # per token it is better


def test_the_bias_bonus_lifts_an_expected_word_inside_the_beam() -> None:
    table = {
        (): {"cl": 1.0},
        ("cl",): {"oves": 0.6, "ubs": 0.4},
        ("cl", "oves"): {"</s>": 1.0},
        ("cl", "ubs"): {"</s>": 1.0},
    }
    bias = WordBias.build(["clubs"], PIECES)
    assert _run(table, width=2)[0] == "cloves"
    assert _run(table, width=2, bias=bias)[0] == "clubs"
    assert _run(table, width=1, bias=bias)[0] == "clubs"  # as WordBias.choose picks it


def test_a_repetition_loop_is_cut_short() -> None:
    # the decoder wants "x y" for ever; the guard refuses the third repeat and takes the
    # next best token, here the end of the text
    table = {}
    prefix: tuple[str, ...] = ()
    for i in range(25):
        token = "x" if i % 2 == 0 else "y"
        table[prefix] = {token: 0.9, "</s>": 0.1}
        prefix = (*prefix, token)
    heard, _ = _run(table, width=1)
    assert heard == "x y x y x"
    assert _run(table, width=3)[0] in {"x", "x y", "x y x", "x y x y", "x y x y x"}


def test_makes_loop() -> None:
    assert makes_loop([5, 6, 5, 6, 5], 6)  # "5 6" three times
    assert not makes_loop([5, 6, 5, 6], 5)
    assert makes_loop([7] * (MAX_SAME_TOKEN - 1), 7)
    assert not makes_loop([7] * (MAX_SAME_TOKEN - 2), 7)  # "10000": four zeros is no loop
    assert not makes_loop([2, 3, 4, 5, 2, 3, 4], 5)  # twice is not yet a loop
    assert makes_loop([9, 2, 3, 4, 2, 3, 4, 2, 3], 4)


def test_out_of_tokens_the_best_live_hypothesis_is_returned() -> None:
    table = {(): {"a": 1.0}, ("a",): {"b": 1.0}, ("a", "b"): {"c": 1.0}}
    decoder = TableDecoder(table)
    ids = BeamSearch(width=2).run(decoder, bos=BOS, eos=EOS, max_tokens=2)
    assert _decode(ids) == "a b" and decoder.calls == 2


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        BeamSearch(width=0)
    with pytest.raises(ValueError, match="needs decode"):
        BeamSearch(bias=WordBias.build(["clubs"], PIECES))
    rows = log_softmax(np.array([[0.0, 0.0], [1000.0, 0.0]]))
    assert np.allclose(np.exp(rows).sum(axis=1), 1.0)


def test_moonshine_takes_beam_options() -> None:
    pytest.importorskip("onnxruntime")
    from cairn.errors import ModelError
    from cairn.models.stt import load_stt
    from cairn.models.stt_moonshine import MoonshineSTT

    stt = load_stt("moonshine:/nowhere", beam_size=3, length_penalty=0.5)
    assert isinstance(stt, MoonshineSTT)
    assert (stt.beam_size, stt.length_penalty) == (3, 0.5)
    assert stt.with_context("clubs").beam_size == 3
    assert MoonshineSTT("/nowhere").beam_size == 1  # greedy stays the default
    with pytest.raises(ModelError, match="at least 1"):
        MoonshineSTT("/nowhere", beam_size=0)


# --------------------------------------------------------------------------- real model


@pytest.mark.integration
def test_moonshine_beam_search_on_the_real_clips_within_a_wer_bound() -> None:
    from cairn.models import stt as stt_module
    from cairn.models.stt_moonshine import MoonshineSTT
    from cairn_eval.speech import DEFAULT_POCKETSPHINX, default_sets, evaluate_stt

    if not (stt_module._installed("moonshine_cpp") and stt_module._installed("faster_whisper")):
        pytest.skip("needs the speech extra: pip install 'cairn[speech]'")
    librispeech = Path(__file__).resolve().parents[2] / "shared/benchdata/librispeech-sample"
    sets = default_sets(librispeech, DEFAULT_POCKETSPHINX)
    if not sets:
        pytest.skip("no real recordings here (../shared/benchdata, pocketsphinx-testdata)")
    results = evaluate_stt(MoonshineSTT(beam_size=4), sets, bias=True)
    errors, words = sum(r.errors for r in results), sum(r.words for r in results)
    # measured 2026-12-03 on the 15 clips: see BENCHMARKS.md (Moonshine beam search)
    assert errors / words <= 0.08, [r.hypothesis for r in results]
