"""SQLite keyword search on large collections: the bound on the postings a query reads."""

from __future__ import annotations

from pathlib import Path

from cairn.kb.sqlite import SQLiteStore
from store_conformance import NO_FILTERS, C, doc, write

TEXTS = ["quince cherry", "apple cherry", "apple banana", "banana cherry", "fig date", "kiwi lime"]


def _texts(store: SQLiteStore, terms: list[str]) -> set[str]:
    hits = store.keyword_search(terms, 10, NO_FILTERS)
    return {r.text for r in store.chunk_records([h.chunk_id for h in hits])}


def test_query_postings_bound_keeps_the_rarest_terms(tmp_path: Path) -> None:
    stores = {
        "free": SQLiteStore(tmp_path / "free.sqlite", max_term_df=0.9),
        "bound": SQLiteStore(tmp_path / "bound.sqlite", max_term_df=0.9, max_query_postings=3),
    }
    try:
        for store in stores.values():
            for i, text in enumerate(TEXTS):
                write(store, f"/t/{i}", doc(str(i), None, C(text)))
        terms = ["quince", "apple", "cherry"]  # in 1, 2 and 3 chunks
        assert _texts(stores["free"], terms) == set(TEXTS[:4])
        # quince and apple fill the budget of 3 postings: cherry alone no longer brings a chunk
        assert _texts(stores["bound"], terms) == set(TEXTS[:3])
        # two terms are always kept, whatever their postings
        assert _texts(stores["bound"], ["apple", "cherry"]) == set(TEXTS[:4])
    finally:
        for store in stores.values():
            store.close()
