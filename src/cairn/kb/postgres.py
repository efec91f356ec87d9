"""A store on PostgreSQL + pgvector, for when one machine is not enough.

It implements :class:`cairn.kb.protocol.Store` with the same tables as the SQLite store, kept
in one schema (``cairn`` by default): sources, documents, chunks (with a generated ``tsvector``
column and a GIN index), embeddings (``vector(dim)`` with an HNSW index, cosine), entities,
mentions, relations, and named migrations applied on open. Keyword search ranks with BM25,
computed from the ``tsvector`` positions ('english' configuration). Every source is written in
one transaction, so readers see either the old version of a source or the new one.

This module holds the connection pool, the writes and forgetting; search is in
:mod:`cairn.kb.postgres_search`, the schema and its migrations in :mod:`cairn.kb.postgres_schema`,
and what it shares with the SQLite store in :mod:`cairn.kb.sql_base`.

Needs the ``postgres`` extra: ``pip install 'cairn[postgres]'`` (psycopg, psycopg-pool,
pgvector). See ``docs/postgres.md``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from pgvector.psycopg import register_vector
from psycopg import errors, sql
from psycopg_pool import ConnectionPool, PoolTimeout

from cairn.errors import NotFoundError, StoreError
from cairn.kb.postgres_schema import (
    HNSW_INDEX_SQL,
    MIGRATIONS,
    Conn,
    check_embedding_model,
    conninfo,
    describe_dsn,
    ensure_pgvector,
    migrate,
    version_tuple,
)
from cairn.kb.postgres_search import PostgresSearch, change_lexeme_counts, source_lexemes
from cairn.kb.records import (
    RecordBatch,
)
from cairn.kb.runs import run_row
from cairn.kb.sql_base import (
    RECORDS_INSERT,
    RUNS_INSERT,
    SOURCE_COLUMNS,
    SOURCE_INSERT_COLUMNS,
    Query,
    SourceWrite,
    SQLStoreBase,
    provenance_row,
    record_rows,
    source_from_row,
    unknown_source,
)
from cairn.kb.types import (
    DocumentIn,
    Provenance,
    Source,
    same_content,
    source_id_of,
)

_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

# The columns both backends read, then the counts PostgreSQL keeps on the source's row.
_SOURCE_COLUMNS = SOURCE_COLUMNS + ", s.n_documents, s.n_chunks"


class PostgresStore(PostgresSearch, SQLStoreBase):
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
        self._where = describe_dsn(dsn)
        # UTF-8 on the wire, also from a SQL_ASCII database (psycopg would return bytes).
        kwargs: dict[str, Any] = {"client_encoding": "utf8"}
        if "connect_timeout" not in conninfo(dsn):
            kwargs["connect_timeout"] = max(1, round(connect_timeout))
        try:
            first = psycopg.connect(dsn, autocommit=True, **kwargs)
        except psycopg.Error as err:
            raise StoreError(
                "pg-connect", f"cannot connect to PostgreSQL at {self._where}: {err}"
            ) from err
        try:
            ext_schema, self.pgvector_version = ensure_pgvector(first)
            self._search_path = (
                sql.SQL("{}, {}")
                .format(sql.Identifier(schema), sql.Identifier(ext_schema))
                .as_string(first)
            )
            migrate(first, schema, self._search_path)
        except psycopg.Error as err:
            raise StoreError(
                "pg-migrate",
                f"cannot create or update the schema {schema!r} at {self._where}: {err}",
            ) from err
        finally:
            first.close()
        self._iterative_scan = version_tuple(self.pgvector_version) >= (0, 8, 0)
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
    _POSITION = "strpos"

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
                    *provenance_row(provenance),
                    source_id,
                ),
            ).fetchone()
        if row is None:
            raise NotFoundError("unknown-source", f"no source with id {source_id}")
        return _source_from_row(row)

    def _write_source(self, new: SourceWrite, *, keep_same: bool) -> Source:
        vectors = _vectors(new.uri, new.documents)
        return self._write_retrying(
            new.uri, lambda conn: self._write(conn, new, vectors, keep_same=keep_same)
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
        new: SourceWrite,
        vectors: dict[tuple[int, int], npt.NDArray[np.float32]],
        *,
        keep_same: bool = False,
    ) -> int:
        uri, documents, model = new.uri, new.documents, new.embedding_model
        # Writers of the same source queue here; writers of other sources go on in parallel.
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ("cairn:" + uri,))
        if keep_same:
            same_content(
                conn.execute("SELECT content_hash FROM sources WHERE uri = %s", (uri,)).fetchone(),
                uri,
                new.content_hash,
            )
        if vectors:
            check_embedding_model(conn, model, len(next(iter(vectors.values()))))
        old = conn.execute("SELECT id FROM sources WHERE uri = %s", (uri,)).fetchone()
        replaced: Counter[str] = Counter()
        if old:
            replaced = self._delete_source(conn, int(old[0]))
        row = conn.execute(
            f"INSERT INTO sources ({SOURCE_INSERT_COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now()) RETURNING id",
            new.row(),
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
        delta, tokens = source_lexemes(conn, source_id)
        delta.subtract(replaced)
        change_lexeme_counts(conn, delta)
        conn.execute(
            "UPDATE sources SET n_documents = %s, n_chunks = %s, n_tokens = %s WHERE id = %s",
            (len(documents), len(spans), tokens, source_id),
        )
        return source_id

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
        counts, _ = source_lexemes(conn, source_id)
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
                raise unknown_source(ref)
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ("cairn:" + src.uri,)
            )
            gone = conn.execute("SELECT 1 FROM sources WHERE id = %s", (src.id,)).fetchone()
            if gone is None:  # forgotten or replaced by another writer meanwhile
                raise NotFoundError("unknown-source", f"no source matches {ref!r}")
            removed = self._delete_source(conn, src.id)
            change_lexeme_counts(conn, Counter({x: -n for x, n in removed.items()}))
            runs_sql, runs_params = self._runs_quoting(src.uri)
            conn.execute(_pg(runs_sql), runs_params)
        return src

    # -- records and tools ----------------------------------------------------------------------
    def _write_records(self, new: SourceWrite, operation: str, batch: RecordBatch) -> Source:
        vectors = _vectors(new.uri, new.documents)

        def write(conn: Conn) -> int:
            source_id = self._write(conn, new, vectors)
            if batch.data:
                with conn.cursor() as cur:
                    cur.executemany(_pg(RECORDS_INSERT), record_rows(source_id, operation, batch))
            return source_id

        return self._write_retrying(new.uri, write)

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


def _source_from_row(row: Sequence[Any]) -> Source:
    ingested: datetime = row[8]
    at = ingested.astimezone(UTC).isoformat(timespec="seconds")
    return source_from_row(row, int(row[10]), int(row[11]), at)


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


def _pg(sql: str) -> str:
    """Shared SQL (``?`` placeholders, see cairn.kb.sql_base) in psycopg's style."""
    return sql.replace("?", "%s")


def _query(conn: Conn) -> Query:
    def run(sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        return conn.execute(_pg(sql), params).fetchall()

    return run


__all__ = ["HNSW_INDEX_SQL", "MIGRATIONS", "PostgresStore"]
