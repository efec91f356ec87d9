"""The store protocols: what a knowledge-base backend provides, in narrow parts.

A backend implements the parts it supports; callers ask for the narrowest part they use:

- :class:`DocumentStore`: sources, documents and chunks (write, replace, forget, read back).
- :class:`RetrievalStore`: keyword (BM25), dense (cosine) and entity search over chunks.
- :class:`EntityStore`: the entity graph's lookups (entities named in text, in chunks).
- :class:`RecordStore`: structured records from API calls, and the API tools that make them.
- :class:`RunLog`: one entry per pipeline run.

:class:`Store` is their union, for callers that need everything (the knowledge base, the
copier in :mod:`cairn.kb.migrate`). The SQLite backend is the embedded default; PostgreSQL +
pgvector implements every part too. Each part has its conformance suite in ``tests/``
(``conformance_*.py``), and ``tests/store_conformance.py`` runs them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from cairn.kb.records import StoredTool
from cairn.kb.types import (
    ChunkRecord,
    DocumentIn,
    Provenance,
    ScoredChunk,
    SearchFilters,
    Source,
    StoreStats,
)


@runtime_checkable
class DocumentStore(Protocol):
    """Sources with their documents and chunks. Every write is atomic per source."""

    def get_source(self, ref: str | int) -> Source | None:
        """A source by id, URI (absolute path or URL) or source URL; ``None`` when absent."""

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
        """Insert or atomically replace a source and everything derived from it.

        ``keep_same=True``: when the source at ``uri`` already has ``content_hash`` (another
        ingest wrote it meanwhile), write nothing and raise StoreError ``kb-same-content``;
        checked inside the write transaction, so two ingests of one file add it once."""

    def update_provenance(self, source_id: int, provenance: Provenance) -> Source:
        """Change a source's collection, licence, owner, URL or consent; text is untouched."""

    def list_sources(self, collection: str | None = None) -> list[Source]: ...

    def forget_source(self, ref: str | int) -> Source:
        """Remove a source and all derived data, leaving no trace of its text; NotFoundError."""

    def chunk_records(self, chunk_ids: Sequence[int]) -> list[ChunkRecord]:
        """Records in the order asked; ids that no longer exist are left out."""

    def document_text(self, document_id: int) -> str: ...

    def embedding_model(self) -> str | None:
        """The embedding model the stored vectors were made with, if any."""

    def stats(self) -> StoreStats: ...

    def source_documents(self, source_id: int) -> list[DocumentIn]:
        """A source's documents as they were written, in order: text, title, metadata, chunks
        (offsets, text), vectors (float32 bytes), entity mentions (named and labelled as the
        stored entity) and relations. NotFoundError for an unknown source."""

    def close(self) -> None: ...


@runtime_checkable
class RetrievalStore(Protocol):
    """Search over chunks; each search returns chunk ids with scores, best first."""

    def keyword_search(
        self, terms: Sequence[str], k: int, filters: SearchFilters
    ) -> list[ScoredChunk]:
        """BM25 over chunk text and title; any of ``terms`` may match (OR)."""

    def dense_search(
        self, vector: npt.NDArray[np.float32], k: int, filters: SearchFilters
    ) -> list[ScoredChunk]:
        """Nearest chunks by cosine similarity (vectors are L2-normalised)."""

    def entity_search(
        self, entity_keys: Sequence[str], k: int, filters: SearchFilters
    ) -> list[ScoredChunk]:
        """Chunks that mention the given entities, scored by the entities' rarity."""


@runtime_checkable
class EntityStore(Protocol):
    """The entity graph: which known entities a text or a chunk names."""

    def match_entities(self, text: str) -> list[str]:
        """Keys of known entities whose names occur in ``text`` (word-bounded, case-folded)."""

    def chunk_entities(self, chunk_ids: Sequence[int]) -> dict[int, list[str]]: ...


@runtime_checkable
class RecordStore(Protocol):
    """Structured records from API calls, and the imported API tools that make them."""

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
        """Write ``rows`` as records of a new source (replacing one at the same URI), with a
        searchable document: ``documents`` (with vectors), else one rendered from the rows
        (see :func:`cairn.kb.records.records_document`). One transaction; forgetting the
        source removes its records."""

    def list_records(self, operation: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Records, oldest first: id, source_id, operation, requested_at, request, data."""

    def save_tool(
        self,
        name: str,
        spec_json: str,
        allowed_hosts: Sequence[str],
        base_url: str,
        private_hosts: Sequence[str] = (),
    ) -> StoredTool:
        """Insert or replace an imported API tool (``private_hosts``: the ``host:port``
        endpoints at private addresses its owner approved)."""

    def get_tool(self, name: str) -> StoredTool | None: ...

    def list_tools(self) -> list[StoredTool]: ...

    def source_records(self, source_id: int) -> list[dict[str, Any]]:
        """A source's records, oldest first, as :meth:`list_records` returns them."""


@runtime_checkable
class RunLog(Protocol):
    """The run log: one entry per pipeline run (see :mod:`cairn.pipeline`)."""

    def save_run(self, run: dict[str, Any]) -> int:
        """Store a run (started_at, finished_at, status, request, events, result); its id."""

    def list_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest ``limit`` runs, newest first, as :meth:`get_run` returns them."""

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        """A run by id (``id`` plus the saved fields, events and result decoded); or None."""

    def forget_run(self, run_id: int) -> bool:
        """Delete a run from the log; False when there was none with that id."""

    def runs_after(self, after_id: int, limit: int = 500) -> list[dict[str, Any]]:
        """Runs with an id above ``after_id``, oldest first (to page through the whole log)."""


@runtime_checkable
class Store(DocumentStore, RetrievalStore, EntityStore, RecordStore, RunLog, Protocol):
    """A knowledge base's source of truth: every part. Every write is atomic per source."""
