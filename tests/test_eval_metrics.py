"""Retrieval metrics: hand-computed cases, edge cases, and a brute-force cross-check."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn_eval.metrics import (
    evaluate_run,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    precision_at_k,
    recall_at_k,
    summarize_latencies,
)

LOG2_3 = math.log2(3)  # 1.5849625...

# --- nDCG -------------------------------------------------------------------------------------


def test_ndcg_graded_hand_computed() -> None:
    # ranked [d3, d1, d2], qrels {d1: 1, d2: 2}
    # DCG  = 0/log2(2) + 1/log2(3) + 2/log2(4) = 0 + 0.630930 + 1.0      = 1.630930
    # IDCG = 2/log2(2) + 1/log2(3)             = 2 + 0.630930            = 2.630930
    # nDCG = 1.630930 / 2.630930                                         = 0.619906
    qrels = {"d1": 1, "d2": 2}
    expected = (1 / LOG2_3 + 2 / 2) / (2 + 1 / LOG2_3)
    assert ndcg_at_k(["d3", "d1", "d2"], qrels, 10) == pytest.approx(expected)
    assert ndcg_at_k(["d3", "d1", "d2"], qrels, 10) == pytest.approx(0.619906, abs=1e-6)


def test_ndcg_cut_smaller_than_list() -> None:
    qrels = {"d1": 1, "d2": 2}
    # k=2: DCG = 0/1 + 1/log2(3) = 0.630930; IDCG@2 = 2/1 + 1/log2(3) = 2.630930 -> 0.239812
    assert ndcg_at_k(["d3", "d1", "d2"], qrels, 2) == pytest.approx(0.239812, abs=1e-6)
    # k=1: only d3 (not judged) is seen -> DCG = 0
    assert ndcg_at_k(["d3", "d1", "d2"], qrels, 1) == 0.0


def test_ndcg_ideal_is_cut_at_k() -> None:
    # three relevant docs, k=1, the first is relevant: DCG@1 = 1/1, IDCG@1 = 1/1 -> 1.0
    qrels = {"a": 1, "b": 1, "c": 1}
    assert ndcg_at_k(["a", "x", "y"], qrels, 1) == 1.0
    # k=3, ranked [a]: DCG = 1; IDCG@3 = 1 + 1/log2(3) + 1/log2(4) = 2.130930 -> 0.469279
    assert ndcg_at_k(["a"], qrels, 3) == pytest.approx(1 / (1 + 1 / LOG2_3 + 0.5))


def test_ndcg_perfect_ranking_is_one() -> None:
    qrels = {"a": 3, "b": 2, "c": 1}
    assert ndcg_at_k(["a", "b", "c", "z"], qrels, 10) == pytest.approx(1.0)
    # ties in grade may come in any order
    assert ndcg_at_k(["b", "a"], {"a": 1, "b": 1}, 10) == pytest.approx(1.0)


def test_ndcg_nonpositive_grades_are_not_relevant() -> None:
    # qrels {a: 0, b: -1, c: 1}, ranked [a, b, c]
    # DCG = 0 + 0 + 1/log2(4) = 0.5 ; IDCG = 1/log2(2) = 1 -> 0.5
    qrels = {"a": 0, "b": -1, "c": 1}
    assert ndcg_at_k(["a", "b", "c"], qrels, 10) == pytest.approx(0.5)


def test_ndcg_duplicates_count_once() -> None:
    # [d2, d2, d1] dedupes to [d2, d1], the ideal order -> 1.0 (counting d2 twice would give
    # DCG = 2 + 2/log2(3) + 1/2 > IDCG)
    qrels = {"d1": 1, "d2": 2}
    assert ndcg_at_k(["d2", "d2", "d1"], qrels, 10) == pytest.approx(1.0)
    # the cut applies after dedupe: top-2 of [d2, d2, d1] is [d2, d1]
    assert ndcg_at_k(["d2", "d2", "d1"], qrels, 2) == pytest.approx(1.0)
    # a repeat keeps its first rank: [x, d1, x, d2] -> [x, d1, d2]
    # DCG = 0 + 1/log2(3) + 2/log2(4) = 1.630930, as in the first example
    assert ndcg_at_k(["x", "d1", "x", "d2"], qrels, 10) == pytest.approx(
        (1 / LOG2_3 + 1.0) / (2 + 1 / LOG2_3)
    )


# --- recall, precision, MRR -------------------------------------------------------------------


def test_recall_hand_computed() -> None:
    qrels = {"a": 1, "b": 2, "c": 1, "d": 1, "z": 0}
    # 4 relevant (z has grade 0); the top 2 hold a and b -> 2/4
    assert recall_at_k(["a", "b", "c"], qrels, 2) == 0.5
    # top 3 hold a, b, c -> 3/4 (denominator is every relevant doc, not min(k, 4))
    assert recall_at_k(["a", "b", "c"], qrels, 3) == 0.75
    assert recall_at_k(["a", "a", "a", "z"], qrels, 100) == 0.25  # duplicates count once


def test_precision_divides_by_k() -> None:
    qrels = {"d1": 1, "d2": 1}
    assert precision_at_k(["d1"], qrels, 10) == pytest.approx(0.1)  # 1 hit / k=10
    assert precision_at_k(["d1", "x", "d2"], qrels, 2) == 0.5  # [d1, x] -> 1/2
    assert precision_at_k(["d1", "d1", "d2"], qrels, 2) == 1.0  # dedupe -> [d1, d2] -> 2/2


def test_mrr_hand_computed() -> None:
    qrels = {"d1": 1}
    assert mrr_at_k(["x", "y", "d1"], qrels, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["x", "y", "d1"], qrels, 2) == 0.0  # first hit is beyond the cut
    assert mrr_at_k(["x", "x", "d1"], qrels, 2) == 0.5  # dedupe -> [x, d1]
    assert mrr_at_k(["z", "d1"], {"z": 0, "d1": 2}, 10) == 0.5  # grade 0 is not a hit


@pytest.mark.parametrize("qrels", [{}, {"a": 0}, {"a": -1, "b": 0}])
def test_no_relevant_docs_scores_zero(qrels: dict[str, int]) -> None:
    ranked = ["a", "b", "c"]
    assert ndcg_at_k(ranked, qrels, 10) == 0.0
    assert recall_at_k(ranked, qrels, 10) == 0.0
    assert precision_at_k(ranked, qrels, 10) == 0.0
    assert mrr_at_k(ranked, qrels, 10) == 0.0


def test_empty_ranking_scores_zero() -> None:
    qrels = {"a": 1}
    assert ndcg_at_k([], qrels) == 0.0
    assert recall_at_k([], qrels) == 0.0
    assert precision_at_k([], qrels) == 0.0
    assert mrr_at_k([], qrels) == 0.0


@pytest.mark.parametrize("fn", [ndcg_at_k, recall_at_k, precision_at_k, mrr_at_k])
def test_k_below_one_is_rejected(fn: object) -> None:
    assert callable(fn)
    with pytest.raises(ValueError, match="k must be at least 1"):
        fn(["a"], {"a": 1}, 0)


def test_defaults() -> None:
    ranked = [f"x{i}" for i in range(20)] + ["r"]  # the relevant doc sits at rank 21
    qrels = {"r": 1}
    assert ndcg_at_k(ranked, qrels) == 0.0  # k=10
    assert mrr_at_k(ranked, qrels) == 0.0  # k=10
    assert recall_at_k(ranked, qrels) == 1.0  # k=100


# --- evaluate_run -----------------------------------------------------------------------------


def test_evaluate_run_hand_computed() -> None:
    qrels = {
        "q1": {"d1": 1},
        "q2": {"d2": 1, "d3": 1},
        "q3": {"d4": 0},  # no relevant doc: not averaged
        "q5": {"d5": 1},  # judged but absent from the run: scores 0
    }
    run = {"q1": ["d1"], "q2": ["x", "d2"], "q4": ["d9"]}  # q4 is not judged: ignored
    got = evaluate_run(run, qrels, ks=(2, 1))
    # per query (q1, q2, q5):
    #   ndcg@1    1, 0, 0                                   -> 1/3
    #   ndcg@2    1, (1/log2(3)) / (1 + 1/log2(3)) = 0.386853, 0 -> 0.462284
    #   recall@1  1, 0, 0 -> 1/3 ;  recall@2  1, 1/2, 0 -> 1/2
    #   precision@1 1, 0, 0 -> 1/3 ;  precision@2  1/2, 1/2, 0 -> 1/3
    #   mrr@1     1, 0, 0 -> 1/3 ;  mrr@2  1, 1/2, 0 -> 1/2
    q2_ndcg2 = (1 / LOG2_3) / (1 + 1 / LOG2_3)
    expected = {
        "ndcg@1": 1 / 3,
        "ndcg@2": (1 + q2_ndcg2) / 3,
        "recall@1": 1 / 3,
        "recall@2": 1 / 2,
        "precision@1": 1 / 3,
        "precision@2": 1 / 3,
        "mrr@1": 1 / 3,
        "mrr@2": 1 / 2,
    }
    assert list(got) == list(expected)  # metric by metric, k ascending
    assert got == pytest.approx(expected)
    assert got["ndcg@2"] == pytest.approx(0.462284, abs=1e-6)


def test_evaluate_run_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="nothing to evaluate"):
        evaluate_run({"q": ["a"]}, {"q": {"a": 0}})
    with pytest.raises(ValueError, match="nothing to evaluate"):
        evaluate_run({}, {})
    with pytest.raises(ValueError, match="at least one cut-off"):
        evaluate_run({}, {"q": {"a": 1}}, ks=())
    with pytest.raises(ValueError, match="k must be at least 1"):
        evaluate_run({}, {"q": {"a": 1}}, ks=(0, 10))


def test_evaluate_run_default_ks() -> None:
    got = evaluate_run({"q": ["a"]}, {"q": {"a": 1}})
    assert set(got) == {
        f"{m}@{k}" for m in ("ndcg", "recall", "precision", "mrr") for k in (1, 3, 5, 10, 100)
    }
    assert got["ndcg@10"] == 1.0
    assert got["precision@10"] == pytest.approx(0.1)


# --- percentile and latency summaries ---------------------------------------------------------


def test_percentile_hand_computed() -> None:
    values = [4.0, 1.0, 3.0, 2.0]  # sorted: 1 2 3 4
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == 2.5  # position 0.5*3 = 1.5 -> 2 + 0.5*(3-2)
    assert percentile(values, 95) == pytest.approx(3.85)  # position 2.85 -> 3 + 0.85*(4-3)
    assert percentile([7.0], 95) == 7.0


def test_percentile_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        percentile([], 50)
    with pytest.raises(ValueError, match="within"):
        percentile([1.0], 101)
    with pytest.raises(ValueError, match="within"):
        percentile([1.0], -1)


def test_summarize_latencies() -> None:
    # sorted 10 20 30 40 100: p50 at position 2 -> 30; p95 at 3.8 -> 40 + 0.8*60 = 88
    got = summarize_latencies([100.0, 10.0, 30.0, 20.0, 40.0])
    assert got == pytest.approx({"p50": 30.0, "p95": 88.0, "mean": 40.0, "n": 5})
    assert summarize_latencies([]) == {"p50": 0.0, "p95": 0.0, "mean": 0.0, "n": 0}


# --- brute-force cross-check ------------------------------------------------------------------

DOCS = ["a", "b", "c", "d", "e", "f"]
rankings = st.lists(st.sampled_from([*DOCS, "u", "v"]), max_size=12)
judgments = st.dictionaries(st.sampled_from(DOCS), st.integers(min_value=-1, max_value=3))
cutoffs = st.integers(min_value=1, max_value=10)


def _brute_dcg(grades: list[int]) -> float:
    return sum(max(g, 0) / math.log2(rank + 1) for rank, g in enumerate(grades, start=1))


def brute_ndcg(ranked: list[str], qrels: dict[str, int], k: int) -> float:
    top = list(dict.fromkeys(ranked))[:k]
    relevant = [d for d, g in qrels.items() if g > 0]
    if not relevant:
        return 0.0
    # the ideal DCG is the best DCG over every ordering of the relevant docs
    best = max(
        _brute_dcg([qrels[d] for d in order])
        for order in itertools.permutations(relevant, min(k, len(relevant)))
    )
    return _brute_dcg([qrels.get(d, 0) for d in top]) / best


def brute_counts(ranked: list[str], qrels: dict[str, int], k: int) -> tuple[int, int, int]:
    """(hits in top k, number relevant, rank of first hit or 0)."""
    top = list(dict.fromkeys(ranked))[:k]
    relevant = {d for d, g in qrels.items() if g > 0}
    hit_ranks = [i for i, d in enumerate(top, start=1) if d in relevant]
    return len(hit_ranks), len(relevant), (hit_ranks[0] if hit_ranks else 0)


@settings(max_examples=300, database=None, deadline=None)
@given(ranked=rankings, qrels=judgments, k=cutoffs)
def test_metrics_match_brute_force(ranked: list[str], qrels: dict[str, int], k: int) -> None:
    hits, n_rel, first = brute_counts(ranked, qrels, k)
    ndcg = ndcg_at_k(ranked, qrels, k)
    assert ndcg == pytest.approx(brute_ndcg(ranked, qrels, k))
    assert 0.0 <= ndcg <= 1.0 + 1e-12
    assert recall_at_k(ranked, qrels, k) == pytest.approx(hits / n_rel if n_rel else 0.0)
    assert precision_at_k(ranked, qrels, k) == pytest.approx(hits / k if n_rel else 0.0)
    assert mrr_at_k(ranked, qrels, k) == pytest.approx(1 / first if first else 0.0)


@settings(max_examples=100, database=None, deadline=None)
@given(
    run=st.dictionaries(st.sampled_from(["q1", "q2", "q3", "q4"]), rankings, max_size=4),
    qrels=st.dictionaries(st.sampled_from(["q1", "q2", "q3"]), judgments, max_size=3),
    k=cutoffs,
)
def test_evaluate_run_is_mean_over_judged_queries(
    run: dict[str, list[str]], qrels: dict[str, dict[str, int]], k: int
) -> None:
    judged = [q for q, j in qrels.items() if any(g > 0 for g in j.values())]
    if not judged:
        with pytest.raises(ValueError):
            evaluate_run(run, qrels, ks=(k,))
        return
    got = evaluate_run(run, qrels, ks=(k,))
    expected = sum(brute_ndcg(run.get(q, []), qrels[q], k) for q in judged) / len(judged)
    assert got[f"ndcg@{k}"] == pytest.approx(expected)


@settings(max_examples=200, database=None, deadline=None)
@given(
    values=st.lists(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=30
    ),
    p=st.floats(min_value=0.0, max_value=100.0),
)
def test_percentile_matches_numpy(values: list[float], p: float) -> None:
    assert percentile(values, p) == pytest.approx(
        float(np.percentile(values, p)), rel=1e-9, abs=1e-6
    )
