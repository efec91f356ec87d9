"""What the SQL store backends (SQLite, PostgreSQL) share, below both of them.

:class:`SQLStoreBase` holds every store method whose logic does not depend on the database:
reads of chunks, entities, records, tools and runs, the export of a source, the small writes
(a tool, forgetting a run), the entry points of source and record writes (:class:`SourceWrite`),
the columns of a source and how a row becomes one. A backend subclasses it and provides only
its dialect and its connection handling: :meth:`~SQLStoreBase._reading` (queries written with ``?``
placeholders), :meth:`~SQLStoreBase._change` (one write statement), :meth:`~SQLStoreBase._any`
(a column matching any of a list) and :attr:`~SQLStoreBase._CHUNK_SOURCE`. The body of a
source write (:meth:`~SQLStoreBase._write_source`, :meth:`~SQLStoreBase._write_records`),
forgetting, search and the run log's insert stay in the backends: their SQL is the dialect.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from cairn.errors import NotFoundError
from cairn.kb.records import (
    RECORD_KEYS,
    TOOL_COLUMNS,
    RecordBatch,
    StoredTool,
    prepare_records,
    record_from_row,
    records_limit,
    tool_from_row,
)
from cairn.kb.runs import RUN_COLUMNS, check_limit, run_from_row, run_needle
from cairn.kb.types import (
    ChunkIn,
    ChunkRecord,
    Consent,
    DocumentIn,
    EntityMention,
    Provenance,
    RelationIn,
    SearchFilters,
    Source,
    StoreStats,
    chunk_record_from_row,
    normalise_entity,
)
from cairn.text.tokens import WORD

Row = tuple[Any, ...]
# Runs one query (``?`` placeholders) and returns its rows.
Query = Callable[[str, Sequence[object]], list[Row]]

_BIGINT = 2**63

RECORDS_INSERT = (
    "INSERT INTO records (source_id, operation, requested_at, request, data) VALUES (?, ?, ?, ?, ?)"
)
RUNS_INSERT = (
    "INSERT INTO runs (started_at, finished_at, status, request, events, result) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def bigint_ids(values: Sequence[int]) -> list[int]:
    """Ids as bigint-safe ints (out-of-range ids cannot exist, so they become -1)."""
    return [int(v) if -_BIGINT <= int(v) < _BIGINT else -1 for v in values]


def entity_grams(text: str) -> list[str]:
    """The entity keys ``text`` could name: its word n-grams (n <= 4), normalised, sorted."""
    words = [w.lower() for w in WORD.findall(text)]
    grams = {" ".join(words[i : i + n]) for n in range(1, 5) for i in range(len(words) - n + 1)}
    return sorted({normalise_entity(g) for g in grams if len(g) >= 3})


def filter_columns(filters: SearchFilters) -> list[tuple[str, str, tuple[str, ...]]]:
    """The filters that are set, as (parameter name, source column, allowed values)."""
    return [
        (name, column, values)
        for name, column, values in (
            ("f_collection", "s.collection", filters.collections),
            ("f_license", "s.license", filters.licenses),
            ("f_consent", "s.consent", filters.consent),
        )
        if values
    ]


def provenance_row(provenance: Provenance) -> tuple[str, str | None, str | None, str | None, str]:
    """A source's provenance as the values of its columns: collection, license, source_url,
    owner, consent."""
    return (
        provenance.collection,
        provenance.license,
        provenance.source_url,
        provenance.owner,
        provenance.consent.value,
    )


# The columns of a source both backends read (``sources s``), in the order of
# :func:`source_from_row`; PostgreSQL adds its stored counts after them.
SOURCE_COLUMNS = (
    "s.id, s.uri, s.content_hash, s.collection, s.license, s.source_url, s.owner, s.consent, "
    "s.ingested_at, s.size_bytes"
)
# The columns a new source is inserted with, in the order of :meth:`SourceWrite.row` and then
# the time it was ingested.
SOURCE_INSERT_COLUMNS = (
    "uri, collection, license, source_url, owner, consent, content_hash, size_bytes, ingested_at"
)
# Runs that quoted or cited a source hold its text: forgetting the source deletes them too
# (``{position}``: the dialect's substring search; see :meth:`SQLStoreBase._runs_quoting`).
_RUNS_QUOTING = "DELETE FROM runs WHERE {position}(result, ?) > 0 OR {position}(events, ?) > 0"


@dataclass(frozen=True)
class SourceWrite:
    """One source to write, replacing any at ``uri``: what ``write_source`` and
    ``add_records`` hand a backend."""

    uri: str
    content_hash: str
    size_bytes: int
    provenance: Provenance
    documents: Sequence[DocumentIn]
    embedding_model: str

    def row(self) -> tuple[object, ...]:
        """The values of :data:`SOURCE_INSERT_COLUMNS` but the last (the time)."""
        return (self.uri, *provenance_row(self.provenance), self.content_hash, self.size_bytes)


def source_from_row(row: Sequence[object], n_docs: int, n_chunks: int, ingested_at: str) -> Source:
    """A :class:`Source` from the values of :data:`SOURCE_COLUMNS` (the time as text)."""
    return Source(
        id=int(str(row[0])),
        uri=str(row[1]),
        content_hash=str(row[2]),
        provenance=Provenance(
            collection=str(row[3]),
            license=None if row[4] is None else str(row[4]),
            source_url=None if row[5] is None else str(row[5]),
            owner=None if row[6] is None else str(row[6]),
            consent=Consent(str(row[7])),
        ),
        ingested_at=ingested_at,
        n_documents=n_docs,
        n_chunks=n_chunks,
        size_bytes=int(str(row[9])),
    )


def unknown_source(ref: str | int) -> NotFoundError:
    """The error for a source to forget that is not there."""
    return NotFoundError("unknown-source", f"no source matches {ref!r} (see `cairn sources`)")


def record_rows(source_id: int, operation: str, batch: RecordBatch) -> list[Row]:
    """The rows of :data:`RECORDS_INSERT` for a batch of records of one source."""
    return [(source_id, operation, batch.requested_at, batch.request_json, d) for d in batch.data]


class SQLStoreBase(ABC):
    """The store methods both SQL backends share; see the module docstring."""

    # SQL naming a chunk's source id, given chunks ``c`` joined to documents ``d``.
    _CHUNK_SOURCE: ClassVar[str]

    # -- what a backend provides ----------------------------------------------------------------
    @abstractmethod
    def _reading(self, snapshot: bool = False) -> AbstractContextManager[Query]:
        """A context in which to run queries; ``snapshot``: all of them see one snapshot."""

    @abstractmethod
    def _change(self, sql: str, params: Sequence[object]) -> int:
        """Run one write statement in its own transaction; the number of rows it changed."""

    @abstractmethod
    def _any(self, column: str, values: Sequence[object]) -> tuple[str, list[object]]:
        """SQL for ``column`` equal to any of ``values`` (not empty), and its parameters."""

    @abstractmethod
    def _write_source(self, new: SourceWrite, *, keep_same: bool) -> Source:
        """Write ``new`` (replacing the source at its uri) in one transaction; ``keep_same``:
        only if the stored one has the same content hash (else ``SourceChanged``)."""

    @abstractmethod
    def _write_records(self, new: SourceWrite, operation: str, batch: RecordBatch) -> Source:
        """Write ``new`` (its searchable documents) with the records of ``batch``, in one
        transaction."""

    # Substring search in this dialect's SQL, for :meth:`_runs_quoting`.
    _POSITION: ClassVar[str]

    def _runs_quoting(self, uri: str) -> tuple[str, tuple[str, str]]:
        """The statement (``?`` placeholders) deleting the runs that quoted or cited the
        source at ``uri``, and its parameters."""
        needle = run_needle(uri)
        return _RUNS_QUOTING.format(position=self._POSITION), (needle, needle)

    @staticmethod
    def _vector_bytes(value: Any) -> bytes:
        """A stored vector as float32 little-endian bytes."""
        return bytes(value)

    # -- entities -------------------------------------------------------------------------------
    def match_entities(self, text: str) -> list[str]:
        grams = entity_grams(text)
        if not grams:
            return []
        where, params = self._any("key", grams)
        with self._reading() as query:
            rows = query(f"SELECT key FROM entities WHERE {where}", params)
        return sorted(str(r[0]) for r in rows)

    def chunk_entities(self, chunk_ids: Sequence[int]) -> dict[int, list[str]]:
        if not chunk_ids:
            return {}
        where, params = self._any("m.chunk_id", bigint_ids(chunk_ids))
        with self._reading() as query:
            rows = query(
                "SELECT DISTINCT m.chunk_id, e.key FROM mentions m "
                f"JOIN entities e ON e.id = m.entity_id WHERE {where}",
                params,
            )
        out: dict[int, list[str]] = {}
        for cid, key in sorted(rows):
            out.setdefault(int(cid), []).append(str(key))
        return out

    # -- chunks and documents -------------------------------------------------------------------
    def chunk_records(self, chunk_ids: Sequence[int]) -> list[ChunkRecord]:
        if not chunk_ids:
            return []
        where, params = self._any("c.id", bigint_ids(chunk_ids))
        with self._reading() as query:
            rows = query(
                "SELECT c.id, d.id, d.doc_key, d.title, s.id, s.uri, s.collection, s.license, "
                's.consent, c.start, c."end", c.text FROM chunks c '
                "JOIN documents d ON d.id = c.document_id "
                f"JOIN sources s ON s.id = {self._CHUNK_SOURCE} WHERE {where}",
                params,
            )
        by_id = {int(r[0]): chunk_record_from_row(r) for r in rows}
        return [by_id[c] for c in chunk_ids if c in by_id]

    def document_text(self, document_id: int) -> str:
        with self._reading() as query:
            rows = query("SELECT text FROM documents WHERE id = ?", bigint_ids([document_id]))
        if not rows:
            raise NotFoundError("unknown-document", f"no document with id {document_id}")
        return str(rows[0][0])

    def embedding_model(self) -> str | None:
        with self._reading() as query:
            rows = query("SELECT value FROM meta WHERE key = 'embedding_model'", ())
        return str(rows[0][0]) if rows else None

    def stats(self) -> StoreStats:
        with self._reading() as query:
            (row,) = query(
                "SELECT (SELECT count(*) FROM sources), (SELECT count(*) FROM documents), "
                "(SELECT count(*) FROM chunks), (SELECT count(*) FROM embeddings), "
                "(SELECT count(*) FROM entities), (SELECT count(*) FROM relations)",
                (),
            )
        return StoreStats(*(int(x) for x in row))

    def source_documents(self, source_id: int) -> list[DocumentIn]:
        (sid,) = bigint_ids([source_id])
        of_source = (
            "JOIN chunks c ON c.id = {}.chunk_id JOIN documents d ON d.id = c.document_id "
            f"WHERE {self._CHUNK_SOURCE} = ? "
        )
        with self._reading(snapshot=True) as query:
            if not query("SELECT 1 FROM sources WHERE id = ?", (sid,)):
                raise NotFoundError("unknown-source", f"no source with id {source_id}")
            docs = query(
                "SELECT id, doc_key, title, text, metadata FROM documents WHERE source_id = ? "
                "ORDER BY id",
                (sid,),
            )
            rows = query(
                'SELECT c.id, c.document_id, c.start, c."end", c.text, e.vector FROM chunks c '
                "JOIN documents d ON d.id = c.document_id "
                "LEFT JOIN embeddings e ON e.chunk_id = c.id "
                f"WHERE {self._CHUNK_SOURCE} = ? ORDER BY c.document_id, c.ord",
                (sid,),
            )
            mentions = query(
                'SELECT m.chunk_id, e.name, e.label, m.start, m."end" FROM mentions m '
                "JOIN entities e ON e.id = m.entity_id "
                + of_source.format("m")
                + 'ORDER BY m.chunk_id, m.start, m."end", e.key',
                (sid,),
            )
            relations = query(
                "SELECT r.chunk_id, s.key, r.predicate, o.key FROM relations r "
                "JOIN entities s ON s.id = r.subject_id JOIN entities o ON o.id = r.object_id "
                + of_source.format("r")
                + "ORDER BY r.id",
                (sid,),
            )
        chunks = [(*r[:5], None if r[5] is None else self._vector_bytes(r[5])) for r in rows]
        return documents_from_rows(docs, chunks, mentions, relations)

    # -- writing sources ------------------------------------------------------------------------
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
        new = SourceWrite(uri, content_hash, size_bytes, provenance, documents, embedding_model)
        return self._write_source(new, keep_same=keep_same)

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
        new = SourceWrite(
            source_uri, batch.content_hash, batch.size, provenance, batch.documents, embedding_model
        )
        return self._write_records(new, operation, batch)

    def list_records(self, operation: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        sql = f"SELECT {', '.join(RECORD_KEYS)} FROM records"
        params: list[object] = []
        if operation is not None:
            sql += " WHERE operation = ?"
            params.append(operation)
        params.append(records_limit(limit))
        with self._reading() as query:
            rows = query(sql + " ORDER BY id LIMIT ?", params)
        return [record_from_row(r) for r in rows]

    def source_records(self, source_id: int) -> list[dict[str, Any]]:
        with self._reading() as query:
            rows = query(
                f"SELECT {', '.join(RECORD_KEYS)} FROM records WHERE source_id = ? ORDER BY id",
                bigint_ids([source_id]),
            )
        return [record_from_row(r) for r in rows]

    def save_tool(
        self,
        name: str,
        spec_json: str,
        allowed_hosts: Sequence[str],
        base_url: str,
        private_hosts: Sequence[str] = (),
    ) -> StoredTool:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self._change(
            f"INSERT INTO tools ({TOOL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, "
            "allowed_hosts = excluded.allowed_hosts, base_url = excluded.base_url, "
            "saved_at = excluded.saved_at, private_hosts = excluded.private_hosts",
            (
                name,
                spec_json,
                json.dumps(list(allowed_hosts)),
                base_url,
                now,
                json.dumps(list(private_hosts)),
            ),
        )
        tool = self.get_tool(name)
        assert tool is not None
        return tool

    def get_tool(self, name: str) -> StoredTool | None:
        with self._reading() as query:
            rows = query(f"SELECT {TOOL_COLUMNS} FROM tools WHERE name = ?", (name,))
        return tool_from_row(rows[0]) if rows else None

    def list_tools(self) -> list[StoredTool]:
        with self._reading() as query:
            rows = query(f"SELECT {TOOL_COLUMNS} FROM tools ORDER BY name", ())
        return [tool_from_row(r) for r in rows]

    # -- run log ----------------------------------------------------------------------------------
    def list_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        with self._reading() as query:
            rows = query(
                f"SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?", (check_limit(limit),)
            )
        return [run_from_row(r) for r in rows]

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        if not -_BIGINT <= int(run_id) < _BIGINT:
            return None
        with self._reading() as query:
            rows = query(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (int(run_id),))
        return run_from_row(rows[0]) if rows else None

    def forget_run(self, run_id: int) -> bool:
        if not -_BIGINT <= int(run_id) < _BIGINT:
            return False
        return self._change("DELETE FROM runs WHERE id = ?", (int(run_id),)) > 0

    def runs_after(self, after_id: int, limit: int = 500) -> list[dict[str, Any]]:
        with self._reading() as query:
            rows = query(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE id > ? ORDER BY id LIMIT ?",
                (max(int(after_id), -_BIGINT), check_limit(limit)),
            )
        return [run_from_row(r) for r in rows]


# -- rebuilding documents from stored rows (the backends' source_documents) --------------------
def documents_from_rows(
    docs: Sequence[Sequence[Any]],
    chunks: Sequence[Sequence[Any]],
    mentions: Sequence[Sequence[Any]],
    relations: Sequence[Sequence[Any]],
) -> list[DocumentIn]:
    """Documents from rows: docs ``(id, doc_key, title, text, metadata)``, chunks ``(id,
    document_id, start, end, text, vector bytes | None)`` in order, mentions ``(chunk_id,
    name, label, start, end)`` and relations ``(chunk_id, subject_key, predicate, object_key)``."""
    by_chunk_m: dict[int, list[EntityMention]] = {}
    for cid, name, label, start, end in mentions:
        by_chunk_m.setdefault(int(cid), []).append(
            EntityMention(str(name), str(label), int(start), int(end))
        )
    by_chunk_r: dict[int, list[RelationIn]] = {}
    for cid, subject, predicate, obj in relations:
        by_chunk_r.setdefault(int(cid), []).append(
            RelationIn(str(subject), str(predicate), str(obj))
        )
    by_doc: dict[int, list[ChunkIn]] = {}
    for cid, doc_id, start, end, text, vector in chunks:
        by_doc.setdefault(int(doc_id), []).append(
            ChunkIn(
                start=int(start),
                end=int(end),
                text=str(text),
                vector=None if vector is None else bytes(vector),
                entities=by_chunk_m.get(int(cid), []),
                relations=by_chunk_r.get(int(cid), []),
            )
        )
    out = []
    for doc_id, doc_key, title, text, metadata in docs:
        meta = json.loads(metadata) if isinstance(metadata, str | bytes) else dict(metadata or {})
        out.append(
            DocumentIn(
                doc_key=str(doc_key),
                title=None if title is None else str(title),
                text=str(text),
                chunks=by_doc.get(int(doc_id), []),
                metadata={str(k): str(v) for k, v in meta.items()},
            )
        )
    return out
