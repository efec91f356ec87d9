"""Conformance tests for the whole :class:`cairn.kb.protocol.Store`: every narrow suite.

Every backend runs the same tests (haystack ``testing/document_store.py`` style). A backend
that implements every part subclasses :class:`StoreConformance` in a ``test_*.py`` module and
provides a ``store`` fixture that yields an empty, open store and closes it afterwards::

    class TestMyStore(StoreConformance):
        @pytest.fixture
        def store(self, tmp_path: Path) -> Iterator[Store]:
            s = MyStore(...)
            yield s
            s.close()

A backend that implements only some parts subclasses only their suites:
``conformance_documents.DocumentStoreConformance`` and
``conformance_retrieval.RetrievalStoreConformance`` (what every backend provides),
``conformance_entities.EntityStoreConformance``, ``conformance_records.RecordStoreConformance``,
``conformance_runs.RunLogConformance``. The test data and helpers live in
``conformance_data`` and are re-exported here.
"""

from __future__ import annotations

from cairn.kb.protocol import Store
from conformance_data import (
    B0,
    B1,
    B2,
    BABBAGE,
    DIM,
    K0,
    K1,
    KINGFISHER,
    L0,
    L1,
    LOVELACE,
    MODEL,
    NO_FILTERS,
    C,
    Corpus,
    Vec,
    all_records,
    assert_descending,
    axis,
    chunk_id,
    doc,
    ids,
    unit,
    uris,
    vec_bytes,
    write,
    write_corpus,
)
from conformance_documents import DocumentStoreConformance
from conformance_entities import EntityStoreConformance
from conformance_records import RecordStoreConformance
from conformance_retrieval import RetrievalStoreConformance
from conformance_runs import RunLogConformance

__all__ = [
    "B0",
    "B1",
    "B2",
    "BABBAGE",
    "DIM",
    "K0",
    "K1",
    "KINGFISHER",
    "L0",
    "L1",
    "LOVELACE",
    "MODEL",
    "NO_FILTERS",
    "C",
    "Corpus",
    "StoreConformance",
    "Vec",
    "all_records",
    "assert_descending",
    "axis",
    "chunk_id",
    "doc",
    "ids",
    "unit",
    "uris",
    "vec_bytes",
    "write",
    "write_corpus",
]


class StoreConformance(
    DocumentStoreConformance,
    RetrievalStoreConformance,
    EntityStoreConformance,
    RecordStoreConformance,
    RunLogConformance,
):
    """Every suite: for a backend that implements the whole :class:`Store`."""

    def test_is_a_store(self, store: Store) -> None:
        assert isinstance(store, Store)
