"""Dense vector search over the store's embeddings: a derived, rebuildable cache.

Small knowledge bases are searched exactly (one matrix product). Above ``ann_threshold``
vectors, an HNSW index (usearch) is built, saved beside the database, and reused while the
database's vector generation is unchanged; when stale or missing it is rebuilt from the store.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Vec = npt.NDArray[np.float32]

# The HNSW graph of both stores (usearch here, pgvector in PostgreSQL): each vector keeps
# HNSW_M neighbours (2x on the bottom layer), found with a beam of HNSW_EF_CONSTRUCTION, and a
# query searches with a beam of at least HNSW_EF_SEARCH. Chosen on the SciFact *train* claims
# over the 1M-vector knowledge bases of bench/scale_suite.py (BENCHMARKS.md, "Scale"): with 16
# neighbours and a beam of 128, recall@10 against exact search fell to 0.67 (usearch) and 0.51
# (pgvector) at 1M; with 32 / 200, HNSW_EF_SEARCH is the smallest swept beam whose train
# recall@10 reaches 0.95 on both (usearch 0.956, pgvector 0.985; 3.4 / 9.5 ms p50).
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 800


def _usearch_index() -> Any:
    """usearch's ``Index`` class, imported after onnxruntime.

    Importing onnxruntime *after* usearch's native module crashes the process (SIGSEGV, seen
    with usearch 2.26 and onnxruntime 1.32 on Linux); the other order is fine. The store can be
    the first to need usearch (a search with a precomputed vector, a test with a fake
    embedder), so it loads onnxruntime first, always.
    """
    import onnxruntime  # noqa: F401  (load order, see above)
    from usearch.index import Index

    return Index


@dataclass
class _Loaded:
    generation: int
    ids: npt.NDArray[np.int64]
    matrix: Vec | None  # exact mode
    ann: Any  # usearch.index.Index in ANN mode


class VectorIndex:
    def __init__(
        self,
        cache_path: Path | None,
        *,
        ann_threshold: int = 200_000,
        connectivity: int = HNSW_M,
        expansion_add: int = HNSW_EF_CONSTRUCTION,
        expansion_search: int = HNSW_EF_SEARCH,
    ) -> None:
        self.cache_path = cache_path
        self.ann_threshold = ann_threshold
        self.connectivity = connectivity
        self.expansion_add = expansion_add
        self.expansion_search = expansion_search
        self._loaded: _Loaded | None = None
        self._mask_for: frozenset[int] | None = None
        self._mask_cache: npt.NDArray[np.bool_] | None = None

    @property
    def generation(self) -> int | None:
        return self._loaded.generation if self._loaded else None

    def invalidate(self) -> None:
        self._loaded = None
        self._mask_cache = None

    def load(self, generation: int, rows: Iterable[tuple[int, bytes]], count: int) -> None:
        """(Re)build from ``(chunk_id, float32 bytes)`` rows, or reuse the saved ANN file."""
        if count >= self.ann_threshold and self._try_load_ann(generation, count):
            return
        ids = np.empty(count, dtype=np.int64)
        matrix: Vec | None = None
        n = 0
        for chunk_id, blob in rows:
            v = np.frombuffer(blob, dtype=np.float32)
            if matrix is None:
                matrix = np.empty((count, v.shape[0]), dtype=np.float32)
            if n >= count:
                break
            ids[n] = chunk_id
            matrix[n] = v
            n += 1
        ids = ids[:n]
        if matrix is not None:
            matrix = matrix[:n]
        if n >= self.ann_threshold and matrix is not None:
            self._build_ann(generation, ids, matrix)
        else:
            self._loaded = _Loaded(generation, ids, matrix, None)
        self._mask_cache = None

    def search(
        self, query: Vec, k: int, allowed: frozenset[int] | None = None
    ) -> list[tuple[int, float]]:
        loaded = self._loaded
        if loaded is None or k <= 0 or len(loaded.ids) == 0:
            return []
        if loaded.ann is not None:
            return self._search_ann(loaded, query, k, allowed)
        assert loaded.matrix is not None
        scores = loaded.matrix @ query.astype(np.float32)
        if allowed is not None and len(allowed) < len(loaded.ids):
            scores = np.where(self._mask(loaded, allowed), scores, -np.inf)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(loaded.ids[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]

    def _mask(self, loaded: _Loaded, allowed: frozenset[int]) -> npt.NDArray[np.bool_]:
        if self._mask_for is not allowed or self._mask_cache is None:
            self._mask_cache = np.isin(loaded.ids, np.fromiter(allowed, dtype=np.int64))
            self._mask_for = allowed
        return self._mask_cache

    # ANN (usearch) -----------------------------------------------------------------------
    def _meta_path(self) -> Path | None:
        return (
            self.cache_path.with_suffix(self.cache_path.suffix + ".json")
            if self.cache_path
            else None
        )

    def _graph(self) -> list[int]:
        return [self.connectivity, self.expansion_add]

    def _try_load_ann(self, generation: int, count: int) -> bool:
        meta_path = self._meta_path()
        if self.cache_path is None or meta_path is None or not self.cache_path.exists():
            return False
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("generation") != generation or meta.get("count") != count:
                return False
            if meta.get("graph") != self._graph():  # built with other settings
                return False
            Index = _usearch_index()
            index = Index.restore(str(self.cache_path), expansion_search=self.expansion_search)
            if index is None:
                return False
            self._loaded = _Loaded(generation, np.zeros(0, dtype=np.int64), None, index)
            self._loaded.ids = np.arange(len(index), dtype=np.int64)  # only its length is used
            return True
        except (OSError, ValueError, RuntimeError):
            return False

    def _build_ann(self, generation: int, ids: npt.NDArray[np.int64], matrix: Vec) -> None:
        Index = _usearch_index()
        index = Index(
            ndim=matrix.shape[1],
            metric="cos",
            dtype="f16",
            connectivity=self.connectivity,
            expansion_add=self.expansion_add,
            expansion_search=self.expansion_search,
        )
        index.add(ids, matrix, threads=os.cpu_count() or 1)
        self._loaded = _Loaded(generation, ids, None, index)
        meta_path = self._meta_path()
        if self.cache_path is not None and meta_path is not None:
            tmp = self.cache_path.with_suffix(".tmp")
            index.save(str(tmp))
            os.replace(tmp, self.cache_path)
            meta = {"generation": generation, "count": len(ids), "graph": self._graph()}
            meta_path.write_text(json.dumps(meta))

    def _search_ann(
        self, loaded: _Loaded, query: Vec, k: int, allowed: frozenset[int] | None
    ) -> list[tuple[int, float]]:
        fetch = k if allowed is None else min(len(loaded.ids), max(k * 10, 100))
        matches = loaded.ann.search(query.astype(np.float32), fetch)
        out = []
        for key, dist in zip(matches.keys, matches.distances, strict=True):
            if allowed is not None and int(key) not in allowed:
                continue
            out.append((int(key), 1.0 - float(dist)))
            if len(out) >= k:
                break
        return out
