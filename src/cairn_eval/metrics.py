"""Retrieval metrics: nDCG, recall, MRR and precision at a cut-off, plus latency summaries.

Definitions follow BEIR / pytrec_eval (``ndcg_cut``, ``recall``, ``P``, ``recip_rank``):

* a ranking is deduplicated first, keeping each document's first occurrence, then cut at ``k``;
* a document is relevant when its judged grade is ``> 0``; unjudged documents count as grade 0;
* nDCG uses linear gain: ``DCG@k = sum(rel_i / log2(i + 1))`` over 1-based ranks ``i <= k``,
  divided by the DCG of the ideal ranking (the judged grades sorted descending, cut at ``k``);
* recall divides by *all* relevant documents (not ``min(k, n_relevant)``), precision by ``k``;
* every metric is ``0.0`` for a query without relevant documents.

All functions are pure and raise ``ValueError`` on a bad argument (``k < 1``, an empty sample).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

DEFAULT_KS: tuple[int, ...] = (1, 3, 5, 10, 100)
"""Cut-offs :func:`evaluate_run` reports by default."""


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def _top_k(ranked: Iterable[str], k: int) -> list[str]:
    """The first ``k`` distinct ids of ``ranked``, in order (a repeat keeps its first rank)."""
    _check_k(k)
    seen: set[str] = set()
    top: list[str] = []
    for doc_id in ranked:
        if doc_id in seen:
            continue
        seen.add(doc_id)
        top.append(doc_id)
        if len(top) == k:
            break
    return top


def _relevant(qrels: Mapping[str, int]) -> set[str]:
    return {doc_id for doc_id, rel in qrels.items() if rel > 0}


def ndcg_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain at ``k`` with graded, linear gain."""
    top = _top_k(ranked, k)
    ideal = sorted((rel for rel in qrels.values() if rel > 0), reverse=True)[:k]
    if not ideal:
        return 0.0
    dcg = 0.0
    for i, doc_id in enumerate(top, start=1):
        rel = qrels.get(doc_id, 0)
        if rel > 0:
            dcg += rel / math.log2(i + 1)
    idcg = sum(rel / math.log2(i + 1) for i, rel in enumerate(ideal, start=1))
    return dcg / idcg


def recall_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 100) -> float:
    """Share of the relevant documents found in the top ``k``."""
    top = _top_k(ranked, k)
    relevant = _relevant(qrels)
    if not relevant:
        return 0.0
    return sum(1 for doc_id in top if doc_id in relevant) / len(relevant)


def precision_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    """Relevant documents in the top ``k``, divided by ``k`` (a short ranking is not rewarded)."""
    top = _top_k(ranked, k)
    relevant = _relevant(qrels)
    if not relevant:
        return 0.0
    return sum(1 for doc_id in top if doc_id in relevant) / k


def mrr_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first relevant document in the top ``k`` (0.0 if none)."""
    top = _top_k(ranked, k)
    relevant = _relevant(qrels)
    for i, doc_id in enumerate(top, start=1):
        if doc_id in relevant:
            return 1.0 / i
    return 0.0


def evaluate_run(
    run: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Mapping[str, int]],
    ks: Sequence[int] = DEFAULT_KS,
) -> dict[str, float]:
    """Mean ``ndcg@k``, ``recall@k``, ``precision@k`` and ``mrr@k`` for each ``k`` in ``ks``.

    The mean is over the queries of ``qrels`` that have at least one relevant document; such a
    query missing from ``run`` scores 0 on every metric. Queries of ``run`` without relevant
    judgments are ignored. Keys are ordered metric by metric, then by ``k``.
    """
    if not ks:
        raise ValueError("ks must name at least one cut-off")
    cutoffs = sorted(set(ks))
    for k in cutoffs:
        _check_k(k)
    judged = {qid: q for qid, q in qrels.items() if any(rel > 0 for rel in q.values())}
    if not judged:
        raise ValueError("qrels have no query with a relevant document; nothing to evaluate")

    metrics = (
        ("ndcg", ndcg_at_k),
        ("recall", recall_at_k),
        ("precision", precision_at_k),
        ("mrr", mrr_at_k),
    )
    totals = {f"{name}@{k}": 0.0 for name, _ in metrics for k in cutoffs}
    for qid, q_qrels in judged.items():
        ranked = run.get(qid, ())
        for name, fn in metrics:
            for k in cutoffs:
                totals[f"{name}@{k}"] += fn(ranked, q_qrels, k)
    n = len(judged)
    return {key: total / n for key, total in totals.items()}


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0..100) with linear interpolation, as ``numpy.percentile``."""
    if not values:
        raise ValueError("percentile of an empty sequence")
    if not 0.0 <= p <= 100.0 or math.isnan(p):
        raise ValueError(f"p must be within [0, 100], got {p}")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * p / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    frac = pos - lo
    return ordered[lo] + (ordered[hi] - ordered[lo]) * frac


def summarize_latencies(ms: Sequence[float]) -> dict[str, float]:
    """``{"p50", "p95", "mean", "n"}`` of latencies in milliseconds; all 0 when ``ms`` is empty."""
    if not ms:
        return {"p50": 0.0, "p95": 0.0, "mean": 0.0, "n": 0}
    return {
        "p50": percentile(ms, 50.0),
        "p95": percentile(ms, 95.0),
        "mean": math.fsum(ms) / len(ms),
        "n": len(ms),
    }
