"""PostgreSQL store behaviour that matters at scale: read-only (replica) connections, the
keyword candidate budget and the document-frequency cache. Real server (conftest)."""

from __future__ import annotations

import pytest

pytest.importorskip("psycopg", reason="needs: pip install 'cairn[postgres]'", exc_type=ImportError)
pytest.importorskip("pgvector", reason="needs: pip install 'cairn[postgres]'", exc_type=ImportError)

import psycopg

from cairn.kb import postgres
from cairn.kb.postgres import PostgresStore
from store_conformance import NO_FILTERS, C, axis, doc, ids, write, write_corpus

READ_ONLY = "options=-c%20default_transaction_read_only%3Don"


def test_read_only_connection_opens_and_searches(postgres_dsn: str) -> None:
    """A hot standby refuses DDL: an up-to-date schema must open without any."""
    primary = PostgresStore(postgres_dsn)
    write_corpus(primary)
    replica = PostgresStore(f"{postgres_dsn}?{READ_ONLY}")
    try:
        assert replica.stats() == primary.stats()
        for terms in (["lovelace"], ["kingfisher", "river"]):
            assert replica.keyword_search(terms, 10, NO_FILTERS) == primary.keyword_search(
                terms, 10, NO_FILTERS
            )
        assert ids(replica.dense_search(axis(0), 5, NO_FILTERS)) == ids(
            primary.dense_search(axis(0), 5, NO_FILTERS)
        )
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            write(replica, "/replica/new.txt", doc("n", None, C("written to a replica", axis(1))))
    finally:
        replica.close()
        primary.close()


def test_read_only_connection_cannot_create_the_schema(postgres_dsn: str) -> None:
    from cairn.errors import StoreError

    with pytest.raises(StoreError) as err:
        PostgresStore(f"{postgres_dsn}?{READ_ONLY}", schema="fresh")
    assert err.value.code == "pg-migrate"


def test_keyword_candidates_come_from_the_rarest_lexemes(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = PostgresStore(postgres_dsn)
    try:
        texts = ["quince cherry", "apple cherry", "apple banana", "banana cherry", "fig date"]
        for i, text in enumerate(texts):
            write(store, f"/kw/{i}", doc(str(i), None, C(text)))
        everything = store.keyword_search(["quince", "apple"], 10, NO_FILTERS)
        assert len(everything) == 3  # quince once, apple twice
        # with room for one lexeme's postings, only chunks holding the rarest are scored,
        # and they keep the score that every query lexeme gives them
        monkeypatch.setattr(postgres, "KEYWORD_CANDIDATES", 1)
        budget = store.keyword_search(["quince", "apple"], 10, NO_FILTERS)
        assert budget == everything[:1]
        assert "quince" in store.chunk_records(ids(budget))[0].text
    finally:
        store.close()


def test_document_frequencies_follow_writes(postgres_dsn: str) -> None:
    store = PostgresStore(postgres_dsn)
    try:
        write(store, "/df/a", doc("a", None, C("zebra crossing")))
        write(store, "/df/b", doc("b", None, C("plain road")))
        (before,) = store.keyword_search(["zebra"], 10, NO_FILTERS)
        write(store, "/df/c", doc("c", None, C("zebra herd")))
        after = store.keyword_search(["zebra"], 10, NO_FILTERS)
        assert len(after) == 2
        # zebra is now in 2 of 3 chunks, not 1 of 2: a cached count would keep the old score
        same = next(h for h in after if h.chunk_id == before.chunk_id)
        assert same.score < before.score
    finally:
        store.close()
