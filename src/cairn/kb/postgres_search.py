"""Search on the PostgreSQL store: BM25 over ``tsvector`` positions, pgvector HNSW, entities.

Keyword search reads the lexeme counts kept in ``lexeme_df`` with every write and forget
(:func:`source_lexemes`, :func:`change_lexeme_counts`), so that it never counts a common
lexeme's postings at query time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager

import numpy as np
import numpy.typing as npt
from psycopg import errors

from cairn.errors import StoreError
from cairn.kb.postgres_schema import Conn
from cairn.kb.sql_base import filter_columns
from cairn.kb.types import ScoredChunk, SearchFilters
from cairn.kb.vectors import HNSW_EF_SEARCH

# BM25 parameters (the usual defaults; SQLite's FTS5 uses the same).
BM25_K1 = 1.2
BM25_B = 0.75
# As in the SQLite store: lexemes in more than this share of chunks say little and are dropped
# (the three rarest are kept when fewer than two would remain).
MAX_TERM_DF = 0.2
# Candidates are the chunks holding the query's rarest lexemes, taken rarest first until their
# postings reach this many (at least one lexeme); all the query's kept lexemes score them. On a
# large knowledge base this bounds the tsvectors read per query (the cost of keyword search);
# chunks holding only the commonest query lexemes, which score lowest, are not considered.
KEYWORD_CANDIDATES = 3_000
# When even the rarest kept lexeme is in more chunks than that, the candidates are the chunks
# holding it and at least one of the next PAIR_TERMS - 1 rarest: a chunk with only that one
# common lexeme scores low, and reading all its postings would cost the most.
PAIR_TERMS = 4
# BM25 scores only this many candidates (or k, if more), those holding the query lexemes of
# the largest summed IDF; ties (same lexemes held) keep the lowest chunk ids.
# KEYWORD_CANDIDATES and KEYWORD_SHORTLIST were chosen on 200 SciFact *train* claims over a
# 1M-chunk knowledge base: the cheapest setting tried whose top-10 agreement with unbounded
# BM25 stayed within 0.01 of (5,000, 1,000): 0.90 vs 0.91, store p95 67 vs 103 ms.
KEYWORD_SHORTLIST = 500

# BM25 over the candidates' tsvectors, after a shortlist: the candidates with the largest sum
# of the IDFs of the query lexemes they hold (a containment test per lexeme, far cheaper than
# scoring), so that a common rarest lexeme does not mean scoring thousands of chunks. A
# candidate's length (its token count) is the ratio of two ts_rank values, unnormalised over
# length-normalised (flag 2 divides by the number of positions): exact, and far cheaper than
# unnesting every candidate's tsvector. Term frequencies come from the tsvector cut down to the
# query's lexemes (setweight + ts_filter).
_KEYWORD_SQL = """
WITH hits AS MATERIALIZED (
    SELECT c.id, c.tsv FROM chunks c JOIN sources s ON s.id = c.source_id
    WHERE c.tsv @@ %(candidates)s::tsquery AND {where}
    ORDER BY {shortlist_score} DESC, c.id
    LIMIT %(shortlist)s
)
SELECT h.id, (
    SELECT sum((%(idf)s::float8[])[array_position(%(lexemes)s::text[], u.lexeme)]
               * cardinality(u.positions) * (%(k1)s + 1)
               / (cardinality(u.positions)
                  + %(k1)s * (1 - %(b)s + %(b)s * coalesce(
                      round(ts_rank(h.tsv, %(query)s::tsquery, 0)
                            / nullif(ts_rank(h.tsv, %(query)s::tsquery, 2), 0)),
                      %(avgdl)s) / %(avgdl)s)))
    FROM unnest(ts_filter(setweight(h.tsv, 'A', %(lexemes)s::text[]), '{{a}}')) u
) AS score
FROM hits h
ORDER BY score DESC, h.id
LIMIT %(k)s
"""

# For each lexeme of one source: how many of its chunks hold it, and how often it occurs.
_SOURCE_LEXEMES_SQL = """
SELECT u.lexeme, count(*), sum(cardinality(u.positions)) FROM chunks c, unnest(c.tsv) u
WHERE c.source_id = %s GROUP BY u.lexeme
"""
# Changes the stored lexeme counts by the given amounts. Rows are locked in lexeme order and
# each write changes them in one statement, so concurrent writers queue instead of deadlocking.
_LEXEME_DF_SQL = """
INSERT INTO lexeme_df AS d (lexeme, df)
SELECT t.lexeme, t.delta FROM unnest(%s::text[], %s::bigint[]) AS t(lexeme, delta)
ORDER BY t.lexeme
ON CONFLICT (lexeme) DO UPDATE SET df = d.df + EXCLUDED.df
RETURNING d.lexeme, d.df
"""


class PostgresSearch(ABC):
    """Keyword, dense and entity search for :class:`cairn.kb.postgres.PostgresStore`."""

    _iterative_scan: bool  # pgvector >= 0.8: filtered HNSW scans keep going

    @abstractmethod
    def _conn(self) -> AbstractContextManager[Conn]:
        """A pooled connection."""

    @staticmethod
    def _filter_sql(filters: SearchFilters) -> tuple[str, dict[str, list[str]]]:
        columns = filter_columns(filters)
        where = " AND ".join(f"{column} = ANY(%({name})s)" for name, column, _ in columns)
        return where or "TRUE", {name: list(values) for name, _, values in columns}

    def keyword_search(
        self, terms: Sequence[str], k: int, filters: SearchFilters
    ) -> list[ScoredChunk]:
        text = " ".join(t for t in terms if t.strip())
        if not text or k <= 0:
            return []
        where, params = self._filter_sql(filters)
        with self._conn() as conn:
            lexemes = [
                str(r[0])
                for r in conn.execute(
                    "SELECT DISTINCT lexeme FROM unnest(to_tsvector('english', %s))", (text,)
                )
            ]
            if not lexemes:  # only stop words or punctuation
                return []
            row = conn.execute(
                "SELECT coalesce(sum(n_chunks), 0), coalesce(sum(n_tokens), 0) FROM sources"
            ).fetchone()
            assert row is not None
            n, avgdl = max(int(row[0]), 1), max(float(row[1]) / max(int(row[0]), 1), 1.0)
            df = dict.fromkeys(lexemes, 0)
            df.update(
                (str(x), int(c))
                for x, c in conn.execute(
                    "SELECT lexeme, df FROM lexeme_df WHERE lexeme = ANY(%s)", (lexemes,)
                )
            )
            kept = sorted((x for x in lexemes if df[x] > 0), key=lambda x: (df[x], x))
            if not kept:
                return []
            common = [x for x in kept if df[x] <= MAX_TERM_DF * n]
            kept = common if len(common) >= 2 else kept[:3]
            candidates: list[str] = []
            postings = 0
            for x in kept:
                if candidates and postings + df[x] > KEYWORD_CANDIDATES:
                    break
                candidates.append(x)
                postings += df[x]
            candidate_query = " | ".join(_tsquery_lexeme(x) for x in candidates)
            if df[candidates[0]] > KEYWORD_CANDIDATES and len(kept) >= 2:
                # Even the rarest lexeme is too common: it and one of the next rarest.
                others = " | ".join(_tsquery_lexeme(x) for x in kept[1:PAIR_TERMS])
                candidate_query = f"{_tsquery_lexeme(kept[0])} & ({others})"
            idf = [float(np.log(1 + (n - df[x] + 0.5) / (df[x] + 0.5))) for x in kept]
            held = {f"held{i}": _tsquery_lexeme(x) for i, x in enumerate(kept)}
            weights = {f"idf{i}": w for i, w in enumerate(idf)}
            shortlist_score = " + ".join(
                f"(c.tsv @@ %(held{i})s::tsquery)::int * %(idf{i})s::float8"
                for i in range(len(kept))
            )
            rows = conn.execute(
                _KEYWORD_SQL.format(where=where, shortlist_score=f"({shortlist_score})"),
                {
                    **params,
                    **held,
                    **weights,
                    "shortlist": max(KEYWORD_SHORTLIST, k),
                    "lexemes": kept,
                    "idf": idf,
                    "candidates": candidate_query,
                    "query": " | ".join(_tsquery_lexeme(x) for x in kept),
                    "avgdl": avgdl,
                    "k1": BM25_K1,
                    "b": BM25_B,
                    "k": k,
                },
            ).fetchall()
        return [ScoredChunk(int(r[0]), float(r[1])) for r in rows]

    def dense_search(
        self, vector: npt.NDArray[np.float32], k: int, filters: SearchFilters
    ) -> list[ScoredChunk]:
        if k <= 0:
            return []
        where, params = self._filter_sql(filters)
        query = np.asarray(vector, dtype=np.float32)
        with self._conn() as conn, conn.transaction():
            # ef_search bounds how many rows one HNSW scan returns; iterative scans (pgvector
            # 0.8) keep going when filters drop candidates, in exact distance order.
            ef_search = min(max(2 * k, HNSW_EF_SEARCH), 1000)
            conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(ef_search),))
            if self._iterative_scan:
                conn.execute("SELECT set_config('hnsw.iterative_scan', 'strict_order', true)")
            try:
                joins = (
                    ""
                    if not params
                    else "JOIN chunks c ON c.id = e.chunk_id JOIN sources s ON s.id = c.source_id "
                )
                rows = conn.execute(
                    f"SELECT e.chunk_id, 1 - (e.vector <=> %(q)s) FROM embeddings e {joins}"
                    f"WHERE {where} ORDER BY e.vector <=> %(q)s LIMIT %(k)s",
                    {**params, "q": query, "k": k},
                ).fetchall()
            except errors.DataException as err:
                raise StoreError(
                    "embedding-dim-mismatch",
                    f"the query vector does not fit the stored vectors: {err}",
                ) from err
        return [ScoredChunk(int(r[0]), float(r[1])) for r in rows]

    def entity_search(
        self, entity_keys: Sequence[str], k: int, filters: SearchFilters
    ) -> list[ScoredChunk]:
        if not entity_keys or k <= 0:
            return []
        where, params = self._filter_sql(filters)
        with self._conn() as conn:
            row = conn.execute("SELECT coalesce(sum(n_chunks), 0) FROM sources").fetchone()
            n_chunks = max(1, int(row[0])) if row else 1
            # As in the SQLite store: entities named in a large share of the collection say
            # little, so they are skipped.
            rows = conn.execute(
                "WITH df AS ("
                "  SELECT m.entity_id, count(DISTINCT m.chunk_id) AS df FROM mentions m"
                "  WHERE m.entity_id IN (SELECT id FROM entities WHERE key = ANY(%(keys)s))"
                "  GROUP BY m.entity_id"
                "), w AS ("
                "  SELECT entity_id, ln(1 + %(n)s::float8 / df) AS w FROM df"
                "  WHERE df <= %(limit)s"
                "), hit AS ("
                "  SELECT DISTINCT m.chunk_id, m.entity_id FROM mentions m"
                "  WHERE m.entity_id IN (SELECT entity_id FROM w)"
                ") "
                "SELECT hit.chunk_id, sum(w.w) AS score FROM hit JOIN w USING (entity_id) "
                "JOIN chunks c ON c.id = hit.chunk_id JOIN sources s ON s.id = c.source_id "
                f"WHERE {where} GROUP BY hit.chunk_id ORDER BY score DESC, hit.chunk_id "
                "LIMIT %(k)s",
                {
                    **params,
                    "keys": list(entity_keys),
                    "n": n_chunks,
                    "limit": max(50, n_chunks // 50),
                    "k": k,
                },
            ).fetchall()
        return [ScoredChunk(int(r[0]), float(r[1])) for r in rows]


def source_lexemes(conn: Conn, source_id: int) -> tuple[Counter[str], int]:
    """How many of a source's chunks hold each lexeme, and its number of tokens."""
    rows = conn.execute(_SOURCE_LEXEMES_SQL, (source_id,)).fetchall()
    return Counter({str(x): int(n) for x, n, _ in rows}), sum(int(t) for _, _, t in rows)


def change_lexeme_counts(conn: Conn, delta: Counter[str]) -> None:
    changes = sorted((x, n) for x, n in delta.items() if n)
    if not changes:
        return
    counts = conn.execute(
        _LEXEME_DF_SQL, ([x for x, _ in changes], [n for _, n in changes])
    ).fetchall()
    # A forgotten source leaves no trace, not even a lexeme counted zero times.
    gone = [str(x) for x, df in counts if int(df) <= 0]
    if gone:
        conn.execute("DELETE FROM lexeme_df WHERE lexeme = ANY(%s) AND df <= 0", (gone,))


def _tsquery_lexeme(lexeme: str) -> str:
    """One lexeme as tsquery text: quoted, so that no character is read as an operator."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"
