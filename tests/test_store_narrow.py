"""A backend implements the store parts it supports, and runs only those parts' suites.

The example backend here is a view of a SQLite store that offers documents and search and
nothing else (no entity graph, records, tools or run log): it passes the document and retrieval
suites, and is neither a whole :class:`Store` nor a :class:`RunLog`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from cairn.kb.protocol import DocumentStore, EntityStore, RecordStore, RetrievalStore, RunLog, Store
from cairn.kb.sqlite import SQLiteStore
from cairn.kb.types import (
    ChunkRecord,
    DocumentIn,
    Provenance,
    ScoredChunk,
    SearchFilters,
    Source,
    StoreStats,
)
from conformance_documents import DocumentStoreConformance
from conformance_retrieval import RetrievalStoreConformance


class SearchOnlyStore:
    """Documents and search, delegated to a SQLite store; nothing else."""

    def __init__(self, path: Path) -> None:
        self._s = SQLiteStore(path)

    def get_source(self, ref: str | int) -> Source | None:
        return self._s.get_source(ref)

    def write_source(self, uri: str, **kwargs: Any) -> Source:
        return self._s.write_source(uri, **kwargs)

    def update_provenance(self, source_id: int, provenance: Provenance) -> Source:
        return self._s.update_provenance(source_id, provenance)

    def list_sources(self, collection: str | None = None) -> list[Source]:
        return self._s.list_sources(collection)

    def forget_source(self, ref: str | int) -> Source:
        return self._s.forget_source(ref)

    def chunk_records(self, chunk_ids: Sequence[int]) -> list[ChunkRecord]:
        return self._s.chunk_records(chunk_ids)

    def document_text(self, document_id: int) -> str:
        return self._s.document_text(document_id)

    def embedding_model(self) -> str | None:
        return self._s.embedding_model()

    def stats(self) -> StoreStats:
        return self._s.stats()

    def source_documents(self, source_id: int) -> list[DocumentIn]:
        return self._s.source_documents(source_id)

    def close(self) -> None:
        self._s.close()

    def keyword_search(
        self, terms: Sequence[str], k: int, filters: SearchFilters
    ) -> list[ScoredChunk]:
        return self._s.keyword_search(terms, k, filters)

    def dense_search(
        self, vector: npt.NDArray[np.float32], k: int, filters: SearchFilters
    ) -> list[ScoredChunk]:
        return self._s.dense_search(vector, k, filters)

    def entity_search(
        self, entity_keys: Sequence[str], k: int, filters: SearchFilters
    ) -> list[ScoredChunk]:
        return self._s.entity_search(entity_keys, k, filters)


class TestSearchOnlyBackend(DocumentStoreConformance, RetrievalStoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SearchOnlyStore]:
        s = SearchOnlyStore(tmp_path / "kb.sqlite")
        yield s
        s.close()

    def test_is_only_the_parts_it_implements(self, store: SearchOnlyStore) -> None:
        assert isinstance(store, DocumentStore) and isinstance(store, RetrievalStore)
        for part in (EntityStore, RecordStore, RunLog, Store):
            assert not isinstance(store, part), part


def test_the_sqlite_store_is_every_part(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "kb.sqlite")
    try:
        for part in (DocumentStore, RetrievalStore, EntityStore, RecordStore, RunLog, Store):
            assert isinstance(s, part), part
    finally:
        s.close()
