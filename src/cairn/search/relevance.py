"""Which search hits to show a person: a hit that matches nothing is not a result.

A search fills its k slots from every candidate list; in a small knowledge base, or for a
question it cannot answer, the last slots go to chunks that share no word and no entity with
the query and are only the least distant vectors (fused score ~0.000). A hit is shown when it
matches a query word (keyword signal) or its dense cosine reaches :data:`DENSE_FLOOR`. The graph
signal alone does not count: it also marks chunks that share an entity with the top hits, which
may themselves be such filler (an entity named in the query is a query word, so its chunks
match by keyword).

:data:`DENSE_FLOOR` was fitted on SciFact **train** by ``bench/fit_relevance_floor.py`` (the
cosine that keeps 98% of the judged-relevant claim/abstract pairs) and checked on SciFact test
(see BENCHMARKS.md). Evaluation (``cairn eval retrieval``) ranks every hit and never applies
this cut, so its figures do not depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from cairn.search.types import SearchHit

DENSE_FLOOR = 0.249  # bench/fit_relevance_floor.py --queries 120, 2026-12-03 (BENCHMARKS.md)


def is_relevant(hit: SearchHit, dense_floor: float | None = None) -> bool:
    """True when ``hit`` matches a query word, or is close enough in meaning."""
    floor = DENSE_FLOOR if dense_floor is None else dense_floor
    if "keyword" in hit.signals:
        return True
    return hit.signals.get("dense", float("-inf")) >= floor


def relevant_hits(
    hits: Sequence[SearchHit], dense_floor: float | None = None
) -> tuple[list[SearchHit], int]:
    """The relevant hits, renumbered from 1 in their order, and how many were left out."""
    kept = [h for h in hits if is_relevant(h, dense_floor)]
    return [replace(h, rank=i) for i, h in enumerate(kept, start=1)], len(hits) - len(kept)
