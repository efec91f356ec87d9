"""A store on PostgreSQL + pgvector, for when one machine is not enough.

It implements :class:`cairn.kb.protocol.Store` with the same tables as the SQLite store, kept
in one schema (``cairn`` by default): sources, documents, chunks (with a generated ``tsvector``
column and a GIN index), embeddings (``vector(dim)`` with an HNSW index, cosine), entities,
mentions, relations, and named migrations applied on open. Keyword search ranks with BM25,
computed from the ``tsvector`` positions ('english' configuration). Every source is written in
one transaction, so readers see either the old version of a source or the new one.

Needs the ``postgres`` extra: ``pip install 'cairn[postgres]'`` (psycopg, psycopg-pool,
pgvector). See ``docs/postgres.md``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from pgvector.psycopg import register_vector
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from cairn.errors import NotFoundError, StoreError
from cairn.kb.records import (
    prepare_records,
)
from cairn.kb.runs import run_needle, run_row
from cairn.kb.sql_base import (
    RECORDS_INSERT,
    RUNS_INSERT,
    Query,
    SQLStoreBase,
    filter_columns,
    record_rows,
)
from cairn.kb.types import (
    Consent,
    DocumentIn,
    Provenance,
    ScoredChunk,
    SearchFilters,
    Source,
    same_content,
    source_id_of,
)
from cairn.kb.vectors import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M

Conn = psycopg.Connection[tuple[Any, ...]]

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
HNSW_MAX_DIM = 2000  # pgvector's limit for an HNSW index on `vector`
# pgvector's HNSW index, built with the graph degree and build depth the SQLite store's index
# uses (cairn.kb.vectors); at query time ef_search is at least HNSW_EF_SEARCH.
HNSW_INDEX_SQL = (
    "CREATE INDEX embeddings_hnsw ON embeddings USING hnsw (vector vector_cosine_ops) "
    f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
)
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_sources_documents_chunks",
        """
        CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE sources (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            uri text NOT NULL UNIQUE,
            collection text NOT NULL,
            license text,
            source_url text,
            owner text,
            consent text NOT NULL CHECK (consent IN ('granted', 'refused', 'unknown')),
            content_hash text NOT NULL,
            size_bytes bigint NOT NULL,
            ingested_at timestamptz NOT NULL,
            -- kept with the source, in its transaction: counts, and BM25's corpus statistics
            n_documents integer NOT NULL DEFAULT 0,
            n_chunks integer NOT NULL DEFAULT 0,
            n_tokens bigint NOT NULL DEFAULT 0
        );
        CREATE INDEX sources_collection ON sources (collection);
        CREATE INDEX sources_source_url ON sources (source_url);
        CREATE TABLE documents (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            source_id bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
            doc_key text NOT NULL,
            title text,
            text text NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{}',
            UNIQUE (source_id, doc_key)
        );
        CREATE TABLE chunks (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            document_id bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
            source_id bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
            ord integer NOT NULL,
            start integer NOT NULL,
            "end" integer NOT NULL,
            title text,
            text text NOT NULL,
            tsv tsvector GENERATED ALWAYS AS (
                to_tsvector('english'::regconfig, coalesce(title, '') || ' ' || text)
            ) STORED
        );
        CREATE INDEX chunks_document ON chunks (document_id);
        CREATE INDEX chunks_source ON chunks (source_id);
        CREATE INDEX chunks_tsv ON chunks USING gin (tsv);
        -- The column gets its dimension, and its HNSW index, with the first vectors written.
        CREATE TABLE embeddings (
            chunk_id bigint PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
            model text NOT NULL,
            vector vector NOT NULL
        );
        """,
    ),
    (
        "0002_entity_graph",
        """
        CREATE TABLE entities (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            key text NOT NULL UNIQUE,
            name text NOT NULL,
            label text NOT NULL
        );
        CREATE TABLE mentions (
            chunk_id bigint NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
            entity_id bigint NOT NULL REFERENCES entities (id),
            start integer NOT NULL,
            "end" integer NOT NULL
        );
        CREATE INDEX mentions_entity ON mentions (entity_id);
        CREATE INDEX mentions_chunk ON mentions (chunk_id);
        CREATE TABLE relations (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            subject_id bigint NOT NULL REFERENCES entities (id),
            predicate text NOT NULL,
            object_id bigint NOT NULL REFERENCES entities (id),
            chunk_id bigint NOT NULL REFERENCES chunks (id) ON DELETE CASCADE
        );
        CREATE INDEX relations_chunk ON relations (chunk_id);
        CREATE INDEX relations_subject ON relations (subject_id);
        CREATE INDEX relations_object ON relations (object_id);
        """,
    ),
    (
        "0004_records",
        """
        -- JSON kept as text: key order matters to people (and to charts), jsonb loses it.
        CREATE TABLE records (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            source_id bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
            operation text NOT NULL,
            requested_at text NOT NULL,
            request text NOT NULL DEFAULT '{}',
            data text NOT NULL
        );
        CREATE INDEX records_source ON records (source_id);
        CREATE INDEX records_operation ON records (operation);
        CREATE TABLE tools (
            name text PRIMARY KEY,
            spec text NOT NULL,
            allowed_hosts text NOT NULL,
            base_url text NOT NULL,
            saved_at text NOT NULL
        );
        """,
    ),
    (
        "0005_runs",
        """
        CREATE TABLE runs (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            started_at text NOT NULL,
            finished_at text,
            status text NOT NULL,
            request text,
            events text NOT NULL DEFAULT '[]',
            result text NOT NULL DEFAULT '{}'
        );
        CREATE INDEX runs_started ON runs (started_at);
        """,
    ),
    (
        "0006_lexeme_df",
        """
        -- How many chunks hold each lexeme (BM25's document frequency), kept with every write
        -- and forget: counting a common lexeme's postings on a large knowledge base costs
        -- more than the search itself.
        CREATE TABLE lexeme_df (lexeme text PRIMARY KEY, df bigint NOT NULL);
        INSERT INTO lexeme_df (lexeme, df) SELECT word, ndoc FROM ts_stat('SELECT tsv FROM chunks');
        """,
    ),
    (
        "0007_tool_private_hosts",
        """
        -- The private host:port endpoints the owner approved when adding a tool.
        ALTER TABLE tools ADD COLUMN private_hosts text NOT NULL DEFAULT '[]';
        """,
    ),
]

_SOURCE_COLUMNS = (
    "s.id, s.uri, s.content_hash, s.collection, s.license, s.source_url, s.owner, s.consent, "
    "s.ingested_at, s.size_bytes, s.n_documents, s.n_chunks"
)

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


class PostgresStore(SQLStoreBase):
    """Implements :class:`cairn.kb.protocol.Store` on PostgreSQL with the pgvector extension.

    ``dsn`` is a libpq URL or key/value string. Tables live in ``schema`` (created if missing),
    so one database can hold several knowledge bases. Connections come from a pool of at most
    ``max_connections``; the store is safe to share between threads.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "cairn",
        max_connections: int = 8,
        connect_timeout: float = 10.0,
    ) -> None:
        if not _SCHEMA_NAME.fullmatch(schema):
            raise StoreError("pg-schema", f"schema {schema!r} is not a plain SQL identifier")
        self.schema = schema
        self._where = _describe(dsn)
        # UTF-8 on the wire, also from a SQL_ASCII database (psycopg would return bytes).
        kwargs: dict[str, Any] = {"client_encoding": "utf8"}
        if "connect_timeout" not in _conninfo(dsn):
            kwargs["connect_timeout"] = max(1, round(connect_timeout))
        try:
            first = psycopg.connect(dsn, autocommit=True, **kwargs)
        except psycopg.Error as err:
            raise StoreError(
                "pg-connect", f"cannot connect to PostgreSQL at {self._where}: {err}"
            ) from err
        try:
            ext_schema, self.pgvector_version = self._ensure_pgvector(first)
            self._search_path = (
                sql.SQL("{}, {}")
                .format(sql.Identifier(schema), sql.Identifier(ext_schema))
                .as_string(first)
            )
            self._migrate(first)
        except psycopg.Error as err:
            raise StoreError(
                "pg-migrate",
                f"cannot create or update the schema {schema!r} at {self._where}: {err}",
            ) from err
        finally:
            first.close()
        self._iterative_scan = _version(self.pgvector_version) >= (0, 8, 0)
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            dsn,
            kwargs=kwargs,
            min_size=1,
            max_size=max(1, max_connections),
            open=True,
            configure=self._configure,
            name=f"cairn-{schema}",
            timeout=max(connect_timeout, 30.0),
        )
        try:
            self._pool.wait(timeout=max(connect_timeout, 5.0))
        except PoolTimeout as err:
            self._pool.close()
            raise StoreError(
                "pg-connect", f"cannot open connections to PostgreSQL at {self._where}: {err}"
            ) from err

    # -- opening ------------------------------------------------------------------------------
    def _ensure_pgvector(self, conn: Conn) -> tuple[str, str]:
        """The schema and version of the vector extension, creating it when allowed."""
        find = (
            "SELECT n.nspname, e.extversion FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'"
        )
        row = conn.execute(find).fetchone()
        if row is None:
            try:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('cairn-ext', 0))")
                    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except psycopg.Error as err:
                available = conn.execute(
                    "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"
                ).fetchone()
                database = conn.info.dbname
                if available:
                    why = (
                        f"pgvector is installed on the server but not enabled in database "
                        f"{database!r}, and this role cannot enable it ({err}). Ask an "
                        f"administrator to run: CREATE EXTENSION vector;  in {database!r}"
                    )
                else:
                    why = (
                        "this PostgreSQL server has no pgvector extension. Install it (Debian/"
                        "Ubuntu: postgresql-<version>-pgvector; or build it from "
                        "https://github.com/pgvector/pgvector), then run: CREATE EXTENSION vector;"
                    )
                raise StoreError("pgvector-missing", why) from err
            row = conn.execute(find).fetchone()
            assert row is not None
        version = str(row[1])
        if _version(version) < (0, 5, 0):
            raise StoreError(
                "pgvector-missing",
                f"pgvector {version} has no HNSW index; upgrade to 0.5 or later "
                "(ALTER EXTENSION vector UPDATE;)",
            )
        return str(row[0]), version

    def _migrate(self, conn: Conn) -> list[str]:
        """Create the schema if needed and apply pending migrations; return those applied."""
        applied: list[str] = []
        if self._up_to_date(conn):  # read-only: so a read replica can be opened for search
            return applied
        with conn.transaction():
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"cairn-migrate:{self.schema}",),
            )
            exists = conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
            conn.execute("SELECT set_config('search_path', %s, true)", (self._search_path,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS migrations "
                "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT name FROM migrations")}
            for name, ddl in MIGRATIONS:
                if name in done:
                    continue
                conn.execute(ddl.encode())
                conn.execute("INSERT INTO migrations (name) VALUES (%s)", (name,))
                applied.append(name)
        return applied

    def _up_to_date(self, conn: Conn) -> bool:
        """Whether the schema exists with every migration applied (reads only)."""
        found = conn.execute(
            "SELECT to_regclass(quote_ident(%s) || '.migrations')", (self.schema,)
        ).fetchone()
        if found is None or found[0] is None:
            return False
        query = sql.SQL("SELECT name FROM {}.migrations").format(sql.Identifier(self.schema))
        done = {str(r[0]) for r in conn.execute(query)}
        return all(name in done for name, _ in MIGRATIONS)

    def _configure(self, conn: Conn) -> None:
        conn.execute("SELECT set_config('search_path', %s, false)", (self._search_path,))
        register_vector(conn)
        conn.commit()

    @contextmanager
    def _conn(self) -> Iterator[Conn]:
        """A pooled connection. Lost or unreachable servers become StoreError('pg-connect'), a
        write to a read-only server 'pg-read-only', a statement cancelled by the server's
        statement_timeout (or an administrator) 'pg-timeout'."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except errors.ReadOnlySqlTransaction as err:
            raise StoreError(
                "pg-read-only",
                f"PostgreSQL at {self._where} is read-only (a hot standby, or "
                "default_transaction_read_only is on): search works there, but ingest, forget "
                "and every other write must go to the primary",
            ) from err
        except errors.QueryCanceled as err:
            raise StoreError(
                "pg-timeout",
                f"PostgreSQL at {self._where} cancelled the statement ({err}); nothing was "
                "written by it. Raise statement_timeout for this role, or narrow the request",
            ) from err
        except psycopg.OperationalError as err:
            if isinstance(err, PoolTimeout) or err.sqlstate is None or err.sqlstate[:2] == "08":
                raise StoreError(
                    "pg-connect", f"no usable connection to PostgreSQL at {self._where}: {err}"
                ) from err
            raise

    # -- the dialect (see cairn.kb.sql_base) ----------------------------------------------------
    _CHUNK_SOURCE = "c.source_id"

    @contextmanager
    def _reading(self, snapshot: bool = False) -> Iterator[Query]:
        with self._conn() as conn:
            if not snapshot:
                yield _query(conn)
                return
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                yield _query(conn)

    def _change(self, sql: str, params: Sequence[object]) -> int:
        with self._conn() as conn, conn.transaction():
            return conn.execute(_pg(sql), params).rowcount

    def _any(self, column: str, values: Sequence[object]) -> tuple[str, list[object]]:
        return f"{column} = ANY(?)", [list(values)]

    @staticmethod
    def _vector_bytes(value: Any) -> bytes:
        """A stored vector (pgvector's ``Vector``, or an array) as float32 little-endian bytes."""
        array = value.to_numpy() if hasattr(value, "to_numpy") else value
        return np.asarray(array, dtype="<f4").tobytes()

    # -- sources ------------------------------------------------------------------------------
    def get_source(self, ref: str | int) -> Source | None:
        with self._conn() as conn:
            return self._get_source(conn, ref)

    def _get_source(self, conn: Conn, ref: str | int) -> Source | None:
        sid = source_id_of(ref)
        if sid is not None:
            row = conn.execute(
                f"SELECT {_SOURCE_COLUMNS} FROM sources s WHERE s.id = %s", (sid,)
            ).fetchone()
            if row:
                return _source_from_row(row)
        row = conn.execute(
            f"SELECT {_SOURCE_COLUMNS} FROM sources s WHERE s.uri = %(r)s OR s.source_url = %(r)s "
            "ORDER BY s.uri = %(r)s DESC, s.id LIMIT 1",
            {"r": str(ref)},
        ).fetchone()
        return _source_from_row(row) if row else None

    def list_sources(self, collection: str | None = None) -> list[Source]:
        query = f"SELECT {_SOURCE_COLUMNS} FROM sources s"
        params: tuple[str, ...] = ()
        if collection is not None:
            query += " WHERE s.collection = %s"
            params = (collection,)
        with self._conn() as conn:
            rows = conn.execute(query + " ORDER BY s.id", params).fetchall()
        return [_source_from_row(r) for r in rows]

    def update_provenance(self, source_id: int, provenance: Provenance) -> Source:
        with self._conn() as conn, conn.transaction():
            row = conn.execute(
                "UPDATE sources s SET collection = %s, license = %s, source_url = %s, "
                f"owner = %s, consent = %s WHERE s.id = %s RETURNING {_SOURCE_COLUMNS}",
                (
                    provenance.collection,
                    provenance.license,
                    provenance.source_url,
                    provenance.owner,
                    provenance.consent.value,
                    source_id,
                ),
            ).fetchone()
        if row is None:
            raise NotFoundError("unknown-source", f"no source with id {source_id}")
        return _source_from_row(row)

    def write_source(
        self,
        uri: str,
        *,
        content_hash: str,
        size_bytes: int,
        provenance: Provenance,
        documents: Sequence[DocumentIn],
        embedding_model: str,
        keep_same: bool = False,
    ) -> Source:
        vectors = _vectors(uri, documents)
        return self._write_retrying(
            uri,
            lambda conn: self._write(
                conn,
                uri,
                content_hash,
                size_bytes,
                provenance,
                documents,
                vectors,
                model=embedding_model,
                keep_same=keep_same,
            ),
        )

    def _write_retrying(self, uri: str, write: Callable[[Conn], int]) -> Source:
        """Run ``write`` (which returns a source id) in a transaction, a few times if needed."""
        retry = (errors.DeadlockDetected, errors.SerializationFailure, errors.ForeignKeyViolation)
        for attempt in range(3):
            try:
                with self._conn() as conn, conn.transaction():
                    src = self._get_source(conn, write(conn))
                assert src is not None
                return src
            except retry as err:
                # Lost a race with a concurrent writer (a deadlock), or an entity this source
                # reuses was dropped by a concurrent forget: start again, a few times.
                if attempt == 2:
                    raise StoreError("kb-write", f"cannot write {uri}: {err}") from err
            except (errors.IntegrityError, errors.DataError) as err:
                raise StoreError("kb-write", f"cannot write {uri}: {err}") from err
        raise AssertionError("unreachable")

    def _write(
        self,
        conn: Conn,
        uri: str,
        content_hash: str,
        size_bytes: int,
        provenance: Provenance,
        documents: Sequence[DocumentIn],
        vectors: dict[tuple[int, int], npt.NDArray[np.float32]],
        *,
        model: str,
        keep_same: bool = False,
    ) -> int:
        # Writers of the same source queue here; writers of other sources go on in parallel.
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ("cairn:" + uri,))
        if keep_same:
            same_content(
                conn.execute("SELECT content_hash FROM sources WHERE uri = %s", (uri,)).fetchone(),
                uri,
                content_hash,
            )
        if vectors:
            self._check_model(conn, model, len(next(iter(vectors.values()))))
        old = conn.execute("SELECT id FROM sources WHERE uri = %s", (uri,)).fetchone()
        replaced: Counter[str] = Counter()
        if old:
            replaced = self._delete_source(conn, int(old[0]))
        row = conn.execute(
            "INSERT INTO sources (uri, collection, license, source_url, owner, consent, "
            "content_hash, size_bytes, ingested_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now()) RETURNING id",
            (
                uri,
                provenance.collection,
                provenance.license,
                provenance.source_url,
                provenance.owner,
                provenance.consent.value,
                content_hash,
                size_bytes,
            ),
        ).fetchone()
        assert row is not None
        source_id = int(row[0])
        entity_ids = self._entity_ids(conn, documents)
        # A few statements per source, not per document: ids come back keyed by doc_key
        # (unique in a source) and (document, ord), and are assigned in document order.
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO documents (source_id, doc_key, title, text, metadata) "
                "SELECT %s, t.doc_key, t.title, t.text, t.metadata::jsonb "
                "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) WITH ORDINALITY "
                "AS t(doc_key, title, text, metadata, n) ORDER BY t.n RETURNING id, doc_key",
                (
                    source_id,
                    [doc.doc_key for doc in documents],
                    [doc.title for doc in documents],
                    [doc.text for doc in documents],
                    [json.dumps(doc.metadata) for doc in documents],
                ),
            )
            by_key = {str(k): int(i) for i, k in cur.fetchall()}
            doc_ids = [by_key[doc.doc_key] for doc in documents]
            spans = [(d, o, c) for d, doc in enumerate(documents) for o, c in enumerate(doc.chunks)]
            chunk_ids: dict[tuple[int, int], int] = {}
            if spans:
                cur.execute(
                    'INSERT INTO chunks (document_id, source_id, ord, start, "end", title, text) '
                    "SELECT t.document_id, %s, t.ord, t.start, t.end, t.title, t.text "
                    "FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::int[], %s::text[], "
                    '%s::text[]) WITH ORDINALITY AS t(document_id, ord, start, "end", title, text, '
                    "n) ORDER BY t.n RETURNING id, document_id, ord",
                    (
                        source_id,
                        [doc_ids[d] for d, _, _ in spans],
                        [o for _, o, _ in spans],
                        [c.start for _, _, c in spans],
                        [c.end for _, _, c in spans],
                        [documents[d].title for d, _, _ in spans],
                        [c.text for _, _, c in spans],
                    ),
                )
                doc_index = {i: d for d, i in enumerate(doc_ids)}
                chunk_ids = {(doc_index[int(di)], int(o)): int(i) for i, di, o in cur.fetchall()}
            if vectors:
                with cur.copy(
                    "COPY embeddings (chunk_id, model, vector) FROM STDIN WITH (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(["int8", "text", "vector"])
                    for key, vector in vectors.items():
                        copy.write_row((chunk_ids[key], model, vector))
            mentions = [
                (chunk_ids[(d, o)], entity_ids[m.key], m.start, m.end)
                for d, o, c in spans
                for m in c.entities
            ]
            if mentions:
                cur.executemany(
                    'INSERT INTO mentions (chunk_id, entity_id, start, "end") '
                    "VALUES (%s, %s, %s, %s)",
                    mentions,
                )
            relations = [
                (entity_ids[r.subject], r.predicate, entity_ids[r.object], chunk_ids[(d, o)])
                for d, o, c in spans
                for r in c.relations
            ]
            if relations:
                cur.executemany(
                    "INSERT INTO relations (subject_id, predicate, object_id, chunk_id) "
                    "VALUES (%s, %s, %s, %s)",
                    relations,
                )
        delta, tokens = _source_lexemes(conn, source_id)
        delta.subtract(replaced)
        _change_lexeme_counts(conn, delta)
        conn.execute(
            "UPDATE sources SET n_documents = %s, n_chunks = %s, n_tokens = %s WHERE id = %s",
            (len(documents), len(spans), tokens, source_id),
        )
        return source_id

    def _check_model(self, conn: Conn, model: str, dim: int) -> None:
        find = "SELECT key, value FROM meta WHERE key IN ('embedding_model', 'embedding_dim')"
        meta: dict[str, str] = dict(conn.execute(find).fetchall())
        if "embedding_model" not in meta:
            # The first vectors fix the model, the column's dimension and its index.
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('cairn-model', 0))")
            meta = dict(conn.execute(find).fetchall())
        if "embedding_model" not in meta:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('embedding_model', %s), "
                "('embedding_dim', %s)",
                (model, str(dim)),
            )
            conn.execute(
                sql.SQL("ALTER TABLE embeddings ALTER COLUMN vector TYPE vector({})").format(
                    sql.Literal(dim)
                )
            )
            if dim <= HNSW_MAX_DIM:
                conn.execute(HNSW_INDEX_SQL)
            return
        if meta["embedding_model"] != model:
            raise StoreError(
                "embedding-model-mismatch",
                f"this knowledge base holds vectors from {meta['embedding_model']!r}, not "
                f"{model!r}; use the same model or a new --kb",
            )
        if int(meta["embedding_dim"]) != dim:
            raise StoreError(
                "embedding-dim-mismatch",
                f"this knowledge base holds vectors of dimension {meta['embedding_dim']}, "
                f"not {dim}",
            )

    def _entity_ids(self, conn: Conn, documents: Sequence[DocumentIn]) -> dict[str, int]:
        """Ids of every entity the documents mention or relate, inserting the new ones."""
        first: dict[str, tuple[str, str]] = {}  # key -> (name, label), first seen wins
        for doc in documents:
            for chunk in doc.chunks:
                for m in chunk.entities:
                    first.setdefault(m.key, (m.name, m.label))
                for r in chunk.relations:
                    first.setdefault(r.subject, (r.subject, ""))
                    first.setdefault(r.object, (r.object, ""))
        if not first:
            return {}
        keys = sorted(first)  # one order for every writer, so concurrent inserts cannot deadlock
        conn.execute(
            "INSERT INTO entities (key, name, label) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]) "
            "ON CONFLICT (key) DO NOTHING",
            (keys, [first[k][0] for k in keys], [first[k][1] for k in keys]),
        )
        rows = conn.execute("SELECT key, id FROM entities WHERE key = ANY(%s)", (keys,))
        return {str(k): int(i) for k, i in rows.fetchall()}

    def _delete_source(self, conn: Conn, source_id: int) -> Counter[str]:
        """Delete a source with all it holds; return its lexeme counts, for the caller to
        subtract (with what it writes instead, in one statement: see _LEXEME_DF_SQL)."""
        # Entities are shared across sources; drop those of this source nothing refers to now.
        row = conn.execute(
            "SELECT array(SELECT m.entity_id FROM mentions m JOIN chunks c ON c.id = m.chunk_id "
            "  WHERE c.source_id = %(s)s "
            "UNION SELECT r.subject_id FROM relations r JOIN chunks c ON c.id = r.chunk_id "
            "  WHERE c.source_id = %(s)s "
            "UNION SELECT r.object_id FROM relations r JOIN chunks c ON c.id = r.chunk_id "
            "  WHERE c.source_id = %(s)s)",
            {"s": source_id},
        ).fetchone()
        entity_ids: list[int] = list(row[0]) if row else []
        counts, _ = _source_lexemes(conn, source_id)
        conn.execute("DELETE FROM sources WHERE id = %s", (source_id,))
        if entity_ids:
            conn.execute(
                "DELETE FROM entities e WHERE e.id = ANY(%s) "
                "AND NOT EXISTS (SELECT 1 FROM mentions m WHERE m.entity_id = e.id) "
                "AND NOT EXISTS (SELECT 1 FROM relations r WHERE r.subject_id = e.id) "
                "AND NOT EXISTS (SELECT 1 FROM relations r WHERE r.object_id = e.id)",
                (sorted(entity_ids),),
            )
        return counts

    def forget_source(self, ref: str | int) -> Source:
        with self._conn() as conn, conn.transaction():
            src = self._get_source(conn, ref)
            if src is None:
                raise NotFoundError(
                    "unknown-source", f"no source matches {ref!r} (see `cairn sources`)"
                )
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ("cairn:" + src.uri,)
            )
            gone = conn.execute("SELECT 1 FROM sources WHERE id = %s", (src.id,)).fetchone()
            if gone is None:  # forgotten or replaced by another writer meanwhile
                raise NotFoundError("unknown-source", f"no source matches {ref!r}")
            removed = self._delete_source(conn, src.id)
            _change_lexeme_counts(conn, Counter({x: -n for x, n in removed.items()}))
            # Runs that quoted or cited the source go too: they hold its text.
            needle = run_needle(src.uri)
            conn.execute(
                "DELETE FROM runs WHERE strpos(result, %s) > 0 OR strpos(events, %s) > 0",
                (needle, needle),
            )
        return src

    # -- search -------------------------------------------------------------------------------
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

    # -- records and tools ----------------------------------------------------------------------
    def add_records(
        self,
        source_uri: str,
        provenance: Provenance,
        operation: str,
        request: Mapping[str, Any],
        rows: Sequence[Mapping[str, Any]],
        *,
        documents: Sequence[DocumentIn] | None = None,
        embedding_model: str = "",
        requested_at: str | None = None,
    ) -> Source:
        batch = prepare_records(operation, request, rows, documents, requested_at)
        vectors = _vectors(source_uri, batch.documents)

        def write(conn: Conn) -> int:
            source_id = self._write(
                conn,
                source_uri,
                batch.content_hash,
                batch.size,
                provenance,
                batch.documents,
                vectors,
                model=embedding_model,
            )
            if batch.data:
                with conn.cursor() as cur:
                    cur.executemany(_pg(RECORDS_INSERT), record_rows(source_id, operation, batch))
            return source_id

        return self._write_retrying(source_uri, write)

    # -- run log -------------------------------------------------------------------------------
    def save_run(self, run: dict[str, Any]) -> int:
        row = run_row(run)
        with self._conn() as conn, conn.transaction():
            got = conn.execute(_pg(RUNS_INSERT) + " RETURNING id", row).fetchone()
        assert got is not None
        return int(got[0])

    # -- export ---------------------------------------------------------------------------------
    def close(self) -> None:
        self._pool.close()


def _source_lexemes(conn: Conn, source_id: int) -> tuple[Counter[str], int]:
    """How many of a source's chunks hold each lexeme, and its number of tokens."""
    rows = conn.execute(_SOURCE_LEXEMES_SQL, (source_id,)).fetchall()
    return Counter({str(x): int(n) for x, n, _ in rows}), sum(int(t) for _, _, t in rows)


def _change_lexeme_counts(conn: Conn, delta: Counter[str]) -> None:
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


def _source_from_row(row: Sequence[Any]) -> Source:
    ingested: datetime = row[8]
    return Source(
        id=int(row[0]),
        uri=str(row[1]),
        content_hash=str(row[2]),
        provenance=Provenance(
            collection=str(row[3]),
            license=row[4],
            source_url=row[5],
            owner=row[6],
            consent=Consent(row[7]),
        ),
        ingested_at=ingested.astimezone(UTC).isoformat(timespec="seconds"),
        n_documents=int(row[10]),
        n_chunks=int(row[11]),
        size_bytes=int(row[9]),
    )


def _vectors(
    uri: str, documents: Sequence[DocumentIn]
) -> dict[tuple[int, int], npt.NDArray[np.float32]]:
    """Chunk vectors by (document, chunk) position, checked: float32 bytes, one dimension."""
    out: dict[tuple[int, int], npt.NDArray[np.float32]] = {}
    dims: set[int] = set()
    for d, doc in enumerate(documents):
        for o, chunk in enumerate(doc.chunks):
            if chunk.vector is None:
                continue
            if not isinstance(chunk.vector, bytes | bytearray | memoryview):
                raise TypeError(f"chunk vectors must be float32 bytes, not {type(chunk.vector)}")
            if len(chunk.vector) == 0 or len(chunk.vector) % 4:
                raise StoreError(
                    "kb-write", f"{uri}: a chunk vector of {len(chunk.vector)} bytes is not float32"
                )
            v = np.frombuffer(chunk.vector, dtype="<f4").astype(np.float32)
            dims.add(v.shape[0])
            out[(d, o)] = v
    if len(dims) > 1:
        raise StoreError(
            "embedding-dim-mismatch", f"{uri}: chunk vectors of several dimensions {sorted(dims)}"
        )
    return out


def _tsquery_lexeme(lexeme: str) -> str:
    """One lexeme as tsquery text: quoted, so that no character is read as an operator."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def _conninfo(dsn: str) -> dict[str, Any]:
    try:
        return conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as err:
        # libpq's message may quote the string, password included: leave it out.
        raise StoreError(
            "pg-connect", "not a PostgreSQL connection string (libpq cannot parse it)"
        ) from err


def _describe(dsn: str) -> str:
    """Where a DSN points, for messages: never the password."""
    info = _conninfo(dsn)
    host = info.get("host") or info.get("hostaddr") or "localhost"
    port = info.get("port") or "5432"
    user = f"{info['user']}@" if info.get("user") else ""
    return f"{user}{host}:{port}/{info.get('dbname') or ''}"


def _pg(sql: str) -> str:
    """Shared SQL (``?`` placeholders, see cairn.kb.sql_base) in psycopg's style."""
    return sql.replace("?", "%s")


def _query(conn: Conn) -> Query:
    def run(sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        return conn.execute(_pg(sql), params).fetchall()

    return run
