"""Combine ranked candidate lists from several signals into one ranking.

``convex``: each signal's scores are min-max normalised over its own candidates, then mixed
with fixed weights; a candidate a signal did not return gets 0 from it.
``rrf``: reciprocal rank fusion, sum of weight / (k + rank).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cairn.kb.types import ScoredChunk


@dataclass(frozen=True)
class FusionConfig:
    method: str = "convex"
    # Fitted on SciFact *train* queries (see BENCHMARKS.md, `cairn eval fit-fusion`).
    weights: Mapping[str, float] = field(
        default_factory=lambda: {"keyword": 0.55, "dense": 0.45, "graph": 0.05}
    )
    rrf_k: int = 60


def fuse(
    lists: Mapping[str, Sequence[ScoredChunk]], config: FusionConfig
) -> list[tuple[int, float, dict[str, float]]]:
    """Return ``(chunk_id, fused score, per-signal raw scores)`` best first."""
    fused: dict[int, float] = {}
    signals: dict[int, dict[str, float]] = {}
    for name, hits in lists.items():
        w = config.weights.get(name, 0.0)
        if not hits:
            continue
        for h in hits:
            signals.setdefault(h.chunk_id, {})[name] = h.score
        if config.method == "rrf":
            for rank, h in enumerate(hits, start=1):
                fused[h.chunk_id] = fused.get(h.chunk_id, 0.0) + w / (config.rrf_k + rank)
            continue
        scores = [h.score for h in hits]
        lo, hi = min(scores), max(scores)
        span = hi - lo
        for h in hits:
            norm = (h.score - lo) / span if span > 0 else 1.0
            fused[h.chunk_id] = fused.get(h.chunk_id, 0.0) + w * norm
        for h in hits:
            fused.setdefault(h.chunk_id, 0.0)
    ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(cid, score, signals.get(cid, {})) for cid, score in ranked]
