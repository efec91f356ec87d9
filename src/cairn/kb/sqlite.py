"""The embedded default store: one SQLite file (WAL) is the source of truth.

Tables: sources (provenance), documents, chunks (+ FTS5 external-content index), embeddings,
entities, mentions, relations. Writes happen one source per transaction, so a killed ingest
leaves either the old version of a source or the new one, never half of either.

This module holds the connection, the writes, forgetting and purging the file; search is in
:mod:`cairn.kb.sqlite_search`, the migrations in :mod:`cairn.kb.migrations`, and what it shares
with the PostgreSQL store in :mod:`cairn.kb.sql_base`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cairn.errors import NotFoundError, StoreError
from cairn.kb.migrations import apply_migrations
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
    provenance_row,
    record_rows,
    source_from_row,
    unknown_source,
)
from cairn.kb.sqlite_search import MAX_QUERY_POSTINGS, MAX_TERM_DF, SQLiteSearch
from cairn.kb.types import (
    DocumentIn,
    Provenance,
    SearchFilters,
    Source,
    same_content,
    source_id_of,
)
from cairn.kb.vectors import VectorIndex

BUSY_TIMEOUT_MS = 30_000
# How long a forget waits for other readers before it reports the text as pending.
PURGE_WAIT_MS = 3_000


def _open_retrying(conn: sqlite3.Connection) -> None:
    """Switch to WAL and apply migrations, waiting out other processes opening the same file.

    Two processes that open a new knowledge base at once both hold a read lock and both ask to
    switch it to WAL; SQLite answers one of them "database is locked" at once, without calling
    the busy handler (waiting could deadlock). The loser tries again until the busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.01
    while True:
        try:
            for pragma in (
                f"busy_timeout={BUSY_TIMEOUT_MS}",
                "journal_mode=WAL",
                "synchronous=NORMAL",
                "foreign_keys=ON",
                "secure_delete=ON",
            ):
                conn.execute(f"PRAGMA {pragma}")
            apply_migrations(conn)
            return
        except sqlite3.OperationalError as err:
            busy = "locked" in str(err) or "busy" in str(err)
            if not busy or time.monotonic() + pause > deadline:
                raise
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


class SQLiteStore(SQLiteSearch):
    """Implements :class:`cairn.kb.protocol.Store` over one SQLite file."""

    def __init__(
        self,
        path: str | Path,
        *,
        create: bool = True,
        ann_threshold: int = 50_000,
        max_term_df: float = MAX_TERM_DF,
        max_query_postings: int = MAX_QUERY_POSTINGS,
    ) -> None:
        self.max_term_df = max_term_df
        self.max_query_postings = max_query_postings
        self.path = Path(path).expanduser()
        if self.path.is_dir():
            raise StoreError("kb-is-dir", f"--kb {self.path} is a folder; give a file path")
        if not create and not self.path.exists():
            raise StoreError(
                "kb-missing",
                f"no knowledge base at {self.path}: nothing was stored there yet "
                f"(add documents with `cairn ingest PATH --kb {self.path}`)",
            )
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
            )
        except (OSError, sqlite3.Error) as err:
            raise StoreError("kb-open", f"cannot open knowledge base {self.path}: {err}") from err
        self._lock = threading.RLock()
        try:
            _open_retrying(self._conn)
            self._pending = False
            self._finish_purge()  # a forget that another reader held up, finished now
        except sqlite3.DatabaseError as err:
            self._conn.close()
            blocked = _read_only(self.path)
            if blocked is not None:
                raise StoreError(
                    "kb-readonly",
                    f"cannot use knowledge base {self.path}: {blocked} is read-only for this "
                    "user (SQLite writes the file and keeps -wal and -shm files beside it); "
                    "fix its permissions or copy it to a folder you can write",
                ) from err
            raise StoreError(
                "kb-corrupt", f"{self.path} is not a Cairn knowledge base (SQLite said: {err})"
            ) from err
        self._allowed_cache: dict[SearchFilters, tuple[int, frozenset[int]]] = {}
        self._df_cache: dict[str, int] = {}
        self._df_cache_generation = -1
        self._chunk_count = 0
        self._vectors = VectorIndex(
            self.path.with_name(self.path.name + ".usearch"), ann_threshold=ann_threshold
        )

    # -- the dialect (see cairn.kb.sql_base) ----------------------------------------------------
    _CHUNK_SOURCE = "d.source_id"
    _POSITION = "instr"

    @contextmanager
    def _reading(self, snapshot: bool = False) -> Iterator[Query]:
        # One connection under the lock: no write of this store comes between the queries.
        with self._lock:
            conn = self._conn
            yield lambda sql, params: conn.execute(sql, params).fetchall()

    def _change(self, sql: str, params: Sequence[object]) -> int:
        # Not through _write(): these change no search data, so caches stay valid.
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    def _any(self, column: str, values: Sequence[object]) -> tuple[str, list[object]]:
        return f"{column} IN ({','.join('?' * len(values))})", list(values)

    # -- transactions -------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as err:
                if "readonly" not in str(err):
                    raise
                raise StoreError(
                    "kb-readonly",
                    f"cannot write knowledge base {self.path}: it became read-only for this "
                    f"user ({_read_only(self.path) or 'the file system refused'}); nothing "
                    "was changed",
                ) from err
            try:
                yield conn
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('generation', '1') "
                    "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # -- sources ------------------------------------------------------------------------------
    def get_source(self, ref: str | int) -> Source | None:
        with self._lock:
            sid = source_id_of(ref)
            if sid is not None:
                row = self._conn.execute(
                    f"SELECT {SOURCE_COLUMNS} FROM sources s WHERE s.id = ?", (sid,)
                ).fetchone()
                if row:
                    return self._source_with_counts(row)
            row = self._conn.execute(
                f"SELECT {SOURCE_COLUMNS} FROM sources s WHERE s.uri = ? OR s.source_url = ? "
                "ORDER BY s.uri = ? DESC LIMIT 1",
                (str(ref), str(ref), str(ref)),
            ).fetchone()
            return self._source_with_counts(row) if row else None

    def _source_with_counts(self, row: tuple[object, ...]) -> Source:
        sid = int(str(row[0]))
        n_docs, n_chunks = self._conn.execute(
            "SELECT COUNT(DISTINCT d.id), COUNT(c.id) FROM documents d "
            "LEFT JOIN chunks c ON c.document_id = d.id WHERE d.source_id = ?",
            (sid,),
        ).fetchone()
        return _source_from_row(row, int(n_docs), int(n_chunks))

    def list_sources(self, collection: str | None = None) -> list[Source]:
        sql = (
            f"SELECT {SOURCE_COLUMNS}, "
            "(SELECT COUNT(*) FROM documents d WHERE d.source_id = s.id), "
            "(SELECT COUNT(*) FROM chunks c JOIN documents d ON c.document_id = d.id "
            " WHERE d.source_id = s.id) FROM sources s"
        )
        args: tuple[str, ...] = ()
        if collection is not None:
            sql += " WHERE s.collection = ?"
            args = (collection,)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY s.id", args).fetchall()
        return [_source_from_row(r[:10], int(r[10]), int(r[11])) for r in rows]

    def update_provenance(self, source_id: int, provenance: Provenance) -> Source:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE sources SET collection = ?, license = ?, source_url = ?, owner = ?, "
                "consent = ? WHERE id = ?",
                (
                    *provenance_row(provenance),
                    source_id,
                ),
            )
            if cur.rowcount == 0:
                raise NotFoundError("unknown-source", f"no source with id {source_id}")
        src = self.get_source(source_id)
        assert src is not None
        return src

    def _write_source(self, new: SourceWrite, *, keep_same: bool) -> Source:
        with self._write() as conn:
            if keep_same:
                same_content(
                    conn.execute(
                        "SELECT content_hash FROM sources WHERE uri = ?", (new.uri,)
                    ).fetchone(),
                    new.uri,
                    new.content_hash,
                )
            source_id = self._insert_source(conn, new)
        self._vectors.invalidate()
        src = self.get_source(source_id)
        assert src is not None
        return src

    def _insert_source(self, conn: sqlite3.Connection, new: SourceWrite) -> int:
        """Write a source inside the caller's transaction (replacing one at its uri)."""
        uri, documents, embedding_model = new.uri, new.documents, new.embedding_model
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self._check_model(conn, embedding_model, documents)
        old = conn.execute("SELECT id FROM sources WHERE uri = ?", (uri,)).fetchone()
        if old:
            self._delete_source(conn, int(old[0]))
        cur = conn.execute(
            f"INSERT INTO sources({SOURCE_INSERT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
            (*new.row(), now),
        )
        source_id = int(cur.lastrowid or 0)
        entity_ids: dict[str, int] = {}
        for doc in documents:
            try:
                self._insert_document(conn, source_id, doc, embedding_model, entity_ids)
            except sqlite3.IntegrityError as err:
                raise StoreError(
                    "kb-write", f"cannot write {uri} (document {doc.doc_key!r}): {err}"
                ) from err
        return source_id

    def _check_model(
        self, conn: sqlite3.Connection, model: str, documents: Sequence[DocumentIn]
    ) -> None:
        has_vectors = any(c.vector is not None for d in documents for c in d.chunks)
        if not has_vectors:
            return
        row = conn.execute("SELECT value FROM meta WHERE key = 'embedding_model'").fetchone()
        if row is None:
            conn.execute("INSERT INTO meta(key, value) VALUES ('embedding_model', ?)", (model,))
        elif row[0] != model:
            raise StoreError(
                "embedding-model-mismatch",
                f"this knowledge base holds vectors from {row[0]!r}, not {model!r}; "
                "use the same model or a new --kb",
            )

    def _insert_document(
        self,
        conn: sqlite3.Connection,
        source_id: int,
        doc: DocumentIn,
        model: str,
        entity_ids: dict[str, int],
    ) -> None:
        cur = conn.execute(
            "INSERT INTO documents(source_id, doc_key, title, text, metadata) VALUES (?,?,?,?,?)",
            (source_id, doc.doc_key, doc.title, doc.text, json.dumps(doc.metadata)),
        )
        document_id = int(cur.lastrowid or 0)
        for ord_, chunk in enumerate(doc.chunks):
            cur = conn.execute(
                'INSERT INTO chunks(document_id, ord, start, "end", title, text) '
                "VALUES (?,?,?,?,?,?)",
                (document_id, ord_, chunk.start, chunk.end, doc.title, chunk.text),
            )
            chunk_id = int(cur.lastrowid or 0)
            if chunk.vector is not None:
                conn.execute(
                    "INSERT INTO embeddings(chunk_id, model, vector) VALUES (?,?,?)",
                    (chunk_id, model, chunk.vector),
                )
            for m in chunk.entities:
                eid = self._entity_id(conn, m.key, m.name, m.label, entity_ids)
                conn.execute(
                    'INSERT INTO mentions(chunk_id, entity_id, start, "end") VALUES (?,?,?,?)',
                    (chunk_id, eid, m.start, m.end),
                )
            for r in chunk.relations:
                s_id = entity_ids.get(r.subject) or self._entity_id(
                    conn, r.subject, r.subject, "", entity_ids
                )
                o_id = entity_ids.get(r.object) or self._entity_id(
                    conn, r.object, r.object, "", entity_ids
                )
                conn.execute(
                    "INSERT INTO relations(subject_id, predicate, object_id, chunk_id) "
                    "VALUES (?,?,?,?)",
                    (s_id, r.predicate, o_id, chunk_id),
                )

    @staticmethod
    def _entity_id(
        conn: sqlite3.Connection, key: str, name: str, label: str, cache: dict[str, int]
    ) -> int:
        if key in cache:
            return cache[key]
        conn.execute(
            "INSERT INTO entities(key, name, label) VALUES (?,?,?) ON CONFLICT(key) DO NOTHING",
            (key, name, label),
        )
        eid = int(conn.execute("SELECT id FROM entities WHERE key = ?", (key,)).fetchone()[0])
        cache[key] = eid
        return eid

    def _delete_source(self, conn: sqlite3.Connection, source_id: int) -> None:
        conn.execute("DELETE FROM sources WHERE id = ?", (source_id,))
        # Entities are shared across sources; drop those nothing refers to any more.
        conn.execute(
            "DELETE FROM entities WHERE id NOT IN (SELECT entity_id FROM mentions) "
            "AND id NOT IN (SELECT subject_id FROM relations) "
            "AND id NOT IN (SELECT object_id FROM relations)"
        )

    def forget_source(self, ref: str | int) -> Source:
        src = self.get_source(ref)
        if src is None:
            raise unknown_source(ref)
        with self._write() as conn:
            self._delete_source(conn, src.id)
            conn.execute(*self._runs_quoting(src.uri))
            # Merge FTS segments so the forgotten tokens leave the index, not only its live view.
            conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')")
        self._vectors.invalidate()
        self._purge()
        return src

    # -- getting forgotten text out of the file --------------------------------------------------
    def _checkpoint(self, wait_ms: int) -> bool:
        """Copy the WAL into the file and truncate it; False when a reader's snapshot kept
        some of it (the old pages, text included, then stay in the file)."""
        with self._lock:
            self._conn.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
            try:
                busy, log, done = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.OperationalError:
                return False
            finally:
                self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return int(busy) == 0 and int(log) == int(done)

    def _purge(self) -> None:
        """After a forget: checkpoint; when another connection prevents it, remember that the
        file still holds forgotten text (``meta.purge_pending``) for the next open to finish."""
        if self._checkpoint(PURGE_WAIT_MS):
            self._pending = False
            return
        self._pending = True
        with self._lock:
            self._conn.execute(
                "INSERT INTO meta(key, value) VALUES ('purge_pending', '1') "
                "ON CONFLICT(key) DO UPDATE SET value = '1'"
            )

    def _finish_purge(self) -> None:
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM meta WHERE key = 'purge_pending'").fetchone()
        if row is None or not self._checkpoint(PURGE_WAIT_MS):
            return
        with self._lock, suppress(sqlite3.Error):  # e.g. a read-only file: try next time
            self._conn.execute("DELETE FROM meta WHERE key = 'purge_pending'")
        self._checkpoint(PURGE_WAIT_MS)

    def text_pending(self) -> str | None:
        """Why forgotten text is still in the file, and how to finish; None when it is not."""
        if not self._pending:
            return None
        return (
            f"its text is still in {self.path}: another connection is reading this knowledge "
            "base (a `cairn serve`, or another command); once that ends, any Cairn command on "
            f"it removes the text, e.g. `cairn sources --kb {self.path}`"
        )

    # -- records and tools ----------------------------------------------------------------------
    def _write_records(self, new: SourceWrite, operation: str, batch: RecordBatch) -> Source:
        with self._write() as conn:
            source_id = self._insert_source(conn, new)
            conn.executemany(RECORDS_INSERT, record_rows(source_id, operation, batch))
        self._vectors.invalidate()
        src = self.get_source(source_id)
        assert src is not None
        return src

    # -- run log -------------------------------------------------------------------------------
    def save_run(self, run: dict[str, Any]) -> int:
        row = run_row(run)
        # Not through _write(): a run changes no search data, so caches stay valid.
        with self._lock:
            cur = self._conn.execute(RUNS_INSERT, row)
        return int(cur.lastrowid or 0)

    # -- export ---------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            with suppress(sqlite3.Error):
                self._conn.execute("PRAGMA optimize")
            self._conn.close()


def _read_only(path: Path) -> str | None:
    """What keeps this user from writing the knowledge base at ``path``, if anything."""
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {folder}"
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists() and not os.access(p, os.W_OK):
            return f"the file {p}"
    return None


def _source_from_row(row: Sequence[object], n_docs: int, n_chunks: int) -> Source:
    return source_from_row(row, n_docs, n_chunks, str(row[8]))


__all__ = ["MAX_QUERY_POSTINGS", "MAX_TERM_DF", "SQLiteStore"]
