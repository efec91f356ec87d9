"""Search on the SQLite store: FTS5 BM25 with a bound on the postings a query reads, exact or
HNSW dense search over a derived vector index, and entity search.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import Stemmer

from cairn.kb.sql_base import SQLStoreBase, filter_columns
from cairn.kb.types import ScoredChunk, SearchFilters
from cairn.kb.vectors import VectorIndex

# Query terms found in more than this share of chunks are dropped from keyword search when
# rarer ones remain: they add little to BM25 and most of its cost on large collections.
# Chosen on SciFact *train* queries (see BENCHMARKS.md).
MAX_TERM_DF = 0.2
# And the postings a keyword search reads are bounded: terms are kept rarest first until their
# document frequencies add up to this (at least two terms). On SciFact-sized collections this
# never binds; at a million chunks it keeps a query's cost near that of 100k (bench/scale_suite.py).
MAX_QUERY_POSTINGS = 50_000
_STEMMER = Stemmer.Stemmer("porter")  # the same algorithm as FTS5's porter tokenizer


class SQLiteSearch(SQLStoreBase):
    """Keyword, dense and entity search for :class:`cairn.kb.sqlite.SQLiteStore`, which sets
    these attributes when it opens the file."""

    _conn: sqlite3.Connection
    _lock: threading.RLock
    _vectors: VectorIndex
    max_term_df: float
    max_query_postings: int
    _allowed_cache: dict[SearchFilters, tuple[int, frozenset[int]]]
    _df_cache: dict[str, int]
    _df_cache_generation: int
    _chunk_count: int

    def _generation(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def _filter_sql(self, filters: SearchFilters) -> tuple[str, list[object]]:
        clauses: list[str] = []
        args: list[object] = []
        for _, column, values in filter_columns(filters):
            clause, params = self._any(column, values)
            clauses.append(clause)
            args.extend(params)
        return " AND ".join(clauses), args

    def _allowed_chunks(self, filters: SearchFilters) -> frozenset[int] | None:
        """Chunk ids that pass the filters; cached until the next write."""
        where, args = self._filter_sql(filters)
        if not where:
            return None
        generation = self._generation()
        cached = self._allowed_cache.get(filters)
        if cached is not None and cached[0] == generation:
            return cached[1]
        rows = self._conn.execute(
            "SELECT c.id FROM chunks c JOIN documents d ON c.document_id = d.id "
            f"JOIN sources s ON d.source_id = s.id WHERE {where}",
            args,
        ).fetchall()
        allowed = frozenset(int(r[0]) for r in rows)
        if len(self._allowed_cache) > 32:
            self._allowed_cache.clear()
        self._allowed_cache[filters] = (generation, allowed)
        return allowed

    def keyword_search(
        self, terms: Sequence[str], k: int, filters: SearchFilters
    ) -> list[ScoredChunk]:
        clean = [t.replace('"', "") for t in terms if t.replace('"', "").strip()]
        if not clean or k <= 0:
            return []
        with self._lock:
            clean = self._prune_common_terms(clean)
        match = " OR ".join(f'"{t}"' for t in clean)
        plain = (
            "SELECT rowid, -bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? "
            "ORDER BY bm25(chunks_fts) LIMIT ?"
        )
        with self._lock:
            allowed = self._allowed_chunks(filters)
            if allowed is None:
                rows = self._conn.execute(plain, (match, k)).fetchall()
                return [ScoredChunk(int(r[0]), float(r[1])) for r in rows]
            total = self._chunks_total()
            if len(allowed) * 2 >= total:
                # Most chunks pass: rank without the join and filter here (3x faster).
                rows = self._conn.execute(plain, (match, k * 2)).fetchall()
                kept = [r for r in rows if int(r[0]) in allowed][:k]
                if len(kept) == k or len(rows) < k * 2:
                    return [ScoredChunk(int(r[0]), float(r[1])) for r in kept]
            where, args = self._filter_sql(filters)
            rows = self._conn.execute(
                "SELECT f.rowid, -bm25(chunks_fts) FROM chunks_fts f "
                "JOIN chunks c ON c.id = f.rowid JOIN documents d ON c.document_id = d.id "
                f"JOIN sources s ON d.source_id = s.id WHERE chunks_fts MATCH ? AND {where} "
                "ORDER BY bm25(chunks_fts) LIMIT ?",
                [match, *args, k],
            ).fetchall()
        return [ScoredChunk(int(r[0]), float(r[1])) for r in rows]

    def _term_cache(self) -> dict[str, int]:
        """Document frequencies of stems, valid until the next write."""
        generation = self._generation()
        if self._df_cache_generation != generation or len(self._df_cache) > 50_000:
            self._df_cache = {}
            self._df_cache_generation = generation
            self._chunk_count = int(self._conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
        return self._df_cache

    def _chunks_total(self) -> int:
        """The number of chunks, cached with the term frequencies (caller holds the lock)."""
        self._term_cache()
        return max(1, self._chunk_count)

    def _prune_common_terms(self, terms: list[str]) -> list[str]:
        if self.max_term_df >= 1.0 or len(terms) <= 2:
            return terms
        cache = self._term_cache()
        stems = [_STEMMER.stemWord(t) for t in terms]
        missing = [s for s in set(stems) if s not in cache]
        if missing:
            marks = ",".join("?" * len(missing))
            found = dict(
                self._conn.execute(
                    f"SELECT term, doc FROM chunks_fts_vocab WHERE term IN ({marks})", missing
                ).fetchall()
            )
            for s in missing:
                cache[s] = int(found.get(s, 0))
        limit = self.max_term_df * self._chunk_count
        kept = [(t, s) for t, s in zip(terms, stems, strict=True) if cache[s] <= limit]
        if len(kept) < 2:
            by_rarity = sorted(zip(terms, stems, strict=True), key=lambda p: cache[p[1]])
            return [t for t, _ in by_rarity[:3]]
        chosen: set[str] = set()
        postings = 0
        for t, s in sorted(kept, key=lambda p: cache[p[1]]):
            if len(chosen) >= 2 and postings + cache[s] > self.max_query_postings:
                break
            chosen.add(t)
            postings += cache[s]
        return [t for t, _ in kept if t in chosen]

    def dense_search(
        self, vector: npt.NDArray[np.float32], k: int, filters: SearchFilters
    ) -> list[ScoredChunk]:
        with self._lock:
            generation = self._generation()
            if self._vectors.generation != generation:
                count = int(self._conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])
                rows = self._conn.execute(
                    "SELECT chunk_id, vector FROM embeddings ORDER BY chunk_id"
                )
                self._vectors.load(generation, rows, count)
            allowed = self._allowed_chunks(filters)
        hits = self._vectors.search(vector, k, allowed)
        return [ScoredChunk(cid, score) for cid, score in hits]

    def entity_search(
        self, entity_keys: Sequence[str], k: int, filters: SearchFilters
    ) -> list[ScoredChunk]:
        if not entity_keys or k <= 0:
            return []
        marks = ",".join("?" * len(entity_keys))
        with self._lock:
            n_chunks = self._chunks_total()
            df_rows = self._conn.execute(
                "SELECT m.entity_id, COUNT(DISTINCT m.chunk_id) FROM mentions m "
                f"WHERE m.entity_id IN (SELECT id FROM entities WHERE key IN ({marks})) "
                "GROUP BY m.entity_id",
                list(entity_keys),
            ).fetchall()
            # Entities named in a large share of the collection say little; skip them.
            limit = max(50, n_chunks // 50)
            weights = {
                int(eid): math.log(1 + n_chunks / df) for eid, df in df_rows if int(df) <= limit
            }
            if not weights:
                return []
            rows = self._conn.execute(
                "SELECT DISTINCT chunk_id, entity_id FROM mentions "
                f"WHERE entity_id IN ({','.join('?' * len(weights))})",
                list(weights),
            ).fetchall()
            allowed = self._allowed_chunks(filters)
        scores: dict[int, float] = {}
        for chunk_id, entity_id in rows:
            if allowed is None or chunk_id in allowed:
                scores[chunk_id] = scores.get(chunk_id, 0.0) + weights[int(entity_id)]
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [ScoredChunk(cid, s) for cid, s in best]
