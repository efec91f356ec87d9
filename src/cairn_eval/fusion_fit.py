"""Fit the hybrid fusion weights on a *train* split (never on the split that is reported).

Each signal's candidates are computed once per query; a grid over weights then re-fuses them
and scores nDCG@10, so the whole fit costs about one pass of searches.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cairn.events import Event, EventCallback, EventType, ignore
from cairn.kb.types import ScoredChunk
from cairn.knowledge import KnowledgeBase
from cairn.search.engine import graph_candidates
from cairn.search.fusion import FusionConfig, fuse
from cairn.search.query import query_terms, validate_query
from cairn.search.types import SearchFilters
from cairn_eval.beir import load_beir
from cairn_eval.metrics import evaluate_run

KEYWORD_GRID = tuple(round(0.05 * i, 2) for i in range(21))


@dataclass(frozen=True)
class FitResult:
    weights: dict[str, float]
    ndcg10: float
    grid: list[tuple[dict[str, float], float]]
    queries: int


def fit_fusion(
    kb: KnowledgeBase,
    beir_dir: Path,
    *,
    split: str = "train",
    collection: str | None = None,
    keyword_grid: Sequence[float] = KEYWORD_GRID,
    graph_grid: Sequence[float] = (0.0, 0.05, 0.1, 0.2),
    method: str = "convex",
    on_event: EventCallback = ignore,
) -> FitResult:
    ds = load_beir(beir_dir, split)
    collection = collection or f"beir-{beir_dir.resolve().name}"
    kb.ingest([ds.corpus_path], collection=collection, on_event=on_event)
    filters = SearchFilters(collections=(collection,))
    cfg = kb.search_config
    n = cfg.candidates
    signals: dict[str, dict[str, list[ScoredChunk]]] = {}
    for i, (qid, text) in enumerate(ds.queries.items(), start=1):
        if i % 10 == 0 or i == len(ds.queries):
            on_event(Event(EventType.progress, "queries", {"done": i, "of": len(ds.queries)}))
        q = validate_query(text)
        lists: dict[str, list[ScoredChunk]] = {
            "keyword": kb.store.keyword_search(query_terms(q), n, filters),
            "dense": kb.store.dense_search(kb.embedder.embed_query(q), n, filters),
        }
        lists["graph"] = graph_candidates(kb.store, q, dict(lists), n, filters, cfg)
        signals[qid] = lists
    all_ids = {h.chunk_id for lists in signals.values() for hits in lists.values() for h in hits}
    doc_of = {r.chunk_id: r.doc_key for r in kb.store.chunk_records(sorted(all_ids))}

    grid: list[tuple[dict[str, float], float]] = []
    points = list(itertools.product(keyword_grid, graph_grid))
    for j, (wk, wg) in enumerate(points, start=1):
        on_event(
            Event(EventType.progress, "fit", {"label": "weights", "done": j, "of": len(points)})
        )
        weights = {"keyword": wk, "dense": round(1.0 - wk, 2), "graph": wg}
        config = FusionConfig(method=method, weights=weights)
        run: dict[str, list[str]] = {}
        for qid, lists in signals.items():
            ranked: list[str] = []
            seen: set[str] = set()
            for cid, _, _ in fuse(lists, config):
                doc = doc_of.get(cid)
                if doc is not None and doc not in seen:
                    seen.add(doc)
                    ranked.append(doc)
                if len(ranked) >= 10:
                    break
            run[qid] = ranked
        score = evaluate_run(run, ds.qrels, ks=(10,))["ndcg@10"]
        grid.append((weights, score))
    best = max(grid, key=lambda g: g[1])
    return FitResult(best[0], best[1], grid, len(ds.queries))
