"""PostgreSQL store behaviour that matters at scale: read-only (replica) connections, the
keyword candidate budget and the stored lexeme counts. Real server (conftest)."""

from __future__ import annotations

import pytest

pytest.importorskip("psycopg", reason="needs: pip install 'cairn[postgres]'", exc_type=ImportError)
pytest.importorskip("pgvector", reason="needs: pip install 'cairn[postgres]'", exc_type=ImportError)

import psycopg

from cairn.errors import StoreError
from cairn.kb import postgres_search
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
        with pytest.raises(StoreError) as err:
            write(replica, "/replica/new.txt", doc("n", None, C("written to a replica", axis(1))))
        assert err.value.code == "pg-read-only"
        assert "primary" in err.value.message
        with pytest.raises(StoreError) as err:
            replica.forget_source(primary.list_sources()[0].uri)
        assert err.value.code == "pg-read-only"
        assert replica.stats() == primary.stats()  # nothing was lost
    finally:
        replica.close()
        primary.close()


def test_read_only_connection_cannot_create_the_schema(postgres_dsn: str) -> None:
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
        monkeypatch.setattr(postgres_search, "KEYWORD_CANDIDATES", 1)
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


def test_a_too_common_rarest_lexeme_asks_for_two_query_lexemes(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = PostgresStore(postgres_dsn)
    try:
        texts = ["olive grove", "olive oil", "grove oil", "olive", "grove", "oil press"]
        for i, text in enumerate(texts):
            write(store, f"/pair/{i}", doc(str(i), None, C(text)))
        everything = store.keyword_search(["olive", "grove", "oil"], 10, NO_FILTERS)
        assert len(everything) == 6
        # every lexeme is in 3 chunks, over a budget of 2: only chunks holding the rarest
        # (the first in lexeme order on a tie: "grove") and one of the next rarest
        monkeypatch.setattr(postgres_search, "KEYWORD_CANDIDATES", 2)
        pairs = store.keyword_search(["olive", "grove", "oil"], 10, NO_FILTERS)
        texts_found = sorted(r.text for r in store.chunk_records(ids(pairs)))
        assert texts_found == ["grove oil", "olive grove"]
        assert pairs == [everything[0], everything[2]]  # the same scores as without the budget
    finally:
        store.close()


def test_the_shortlist_keeps_the_chunks_holding_the_rarest_lexemes(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = PostgresStore(postgres_dsn)
    try:
        texts = ["heron", "heron", "heron", "egret heron", "egret", "kiwi", "kiwi", "stork"]
        for i, text in enumerate(texts):
            write(store, f"/short/{i}", doc(str(i), None, C(text)))
        query = ["heron", "egret"]
        everything = store.keyword_search(query, 10, NO_FILTERS)
        assert len(everything) == 5
        # a shortlist of 2: "egret heron" (both lexemes), then "egret" (the rarer one)
        monkeypatch.setattr(postgres_search, "KEYWORD_SHORTLIST", 2)
        short = store.keyword_search(query, 2, NO_FILTERS)
        assert [r.text for r in store.chunk_records(ids(short))] == ["egret heron", "egret"]
        assert short == everything[:2]
        # never fewer than k are scored
        assert store.keyword_search(query, 5, NO_FILTERS) == everything
    finally:
        store.close()


def _lexeme_counts(dsn: str, schema: str = "cairn") -> tuple[dict[str, int], dict[str, int]]:
    """(the stored counts, a recount from the chunks)."""
    with psycopg.connect(dsn) as conn:
        stored = dict(conn.execute(f"SELECT lexeme, df FROM {schema}.lexeme_df").fetchall())
        recount = dict(
            conn.execute(f"SELECT word, ndoc FROM ts_stat('SELECT tsv FROM {schema}.chunks')")
        )
    return stored, recount


def test_lexeme_counts_follow_writes_replacements_and_forgets(postgres_dsn: str) -> None:
    store = PostgresStore(postgres_dsn, schema="dfcount")
    try:
        write(store, "/count/a", doc("a", None, C("walrus tusk"), C("walrus colony")))
        write(store, "/count/b", doc("b", None, C("narwhal tusk")))
        write(store, "/count/a", doc("a", None, C("walrus ivory")))  # replaced
        stored, recount = _lexeme_counts(postgres_dsn, "dfcount")
        assert stored == recount
        assert stored["walrus"] == 1 and stored["tusk"] == 1 and "coloni" not in stored
        store.forget_source("/count/b")
        stored, recount = _lexeme_counts(postgres_dsn, "dfcount")
        assert stored == recount
        assert "narwhal" not in stored  # forgotten completely, no zero-count row
    finally:
        store.close()


def test_the_lexeme_count_migration_counts_existing_chunks(postgres_dsn: str) -> None:
    store = PostgresStore(postgres_dsn, schema="dfmigrate")
    write(store, "/m/a", doc("a", None, C("heron marsh"), C("heron nest")))
    store.close()
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:  # a schema from before it
        conn.execute("DROP TABLE dfmigrate.lexeme_df")
        conn.execute("DELETE FROM dfmigrate.migrations WHERE name = '0006_lexeme_df'")
    store = PostgresStore(postgres_dsn, schema="dfmigrate")
    try:
        stored, recount = _lexeme_counts(postgres_dsn, "dfmigrate")
        assert stored == recount and stored["heron"] == 2
        assert len(store.keyword_search(["heron"], 10, NO_FILTERS)) == 2
    finally:
        store.close()


def test_a_statement_timeout_is_a_clear_error(postgres_dsn: str) -> None:
    store = PostgresStore(postgres_dsn)
    write_corpus(store)
    before = store.stats()
    # 500 ms: far above what opening the store takes even on a busy machine (1 ms made the
    # pool's own set-up statements time out now and then), far below the 2 s trigger below.
    slow = PostgresStore(f"{postgres_dsn}?options=-c%20statement_timeout%3D500")
    try:
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:  # a statement that sleeps
            conn.execute(
                "CREATE FUNCTION cairn.slow_tokens() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(2); RETURN NEW; END $$"
            )
            conn.execute(
                "CREATE TRIGGER slow BEFORE INSERT ON cairn.sources "
                "FOR EACH ROW EXECUTE FUNCTION cairn.slow_tokens()"
            )
        with pytest.raises(StoreError) as err:
            write(slow, "/slow.txt", doc("s", None, C("a write that takes too long", axis(2))))
        assert err.value.code == "pg-timeout"
        assert "statement_timeout" in err.value.message
        assert store.stats() == before  # rolled back, nothing half-written
    finally:
        slow.close()
        store.close()
