"""The SQLite store: the conformance suite, plus what only a file on disk can show."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cairn.errors import StoreError
from cairn.kb.factory import open_store
from cairn.kb.migrations import MIGRATIONS, apply_migrations
from cairn.kb.protocol import Store
from cairn.kb.sqlite import SQLiteStore, _open_retrying
from cairn.kb.types import ChunkIn, DocumentIn, Source
from cairn.kb.vectors import HNSW_EF_CONSTRUCTION, HNSW_M
from cairn.search.types import SearchFilters
from store_conformance import (
    DIM,
    LOVELACE,
    MODEL,
    NO_FILTERS,
    C,
    StoreConformance,
    all_records,
    axis,
    chunk_id,
    doc,
    ids,
    unit,
    write,
    write_corpus,
)


class TestSQLiteConformance(StoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        s = SQLiteStore(tmp_path / "kb.sqlite")
        yield s
        s.close()


# -- forgetting leaves no trace on disk --------------------------------------------------------
SECRET = ("zyxwvutsrq", "quokkaplanet", "vexillomancer")
KEPT = "plmoknijbuhv"


def _raw_bytes(db: Path) -> bytes:
    """Every file that belongs to the database: the file itself, -wal, -shm, caches."""
    files = sorted(p for p in db.parent.iterdir() if p.name.startswith(db.name) and p.is_file())
    assert db in files
    return b"".join(p.read_bytes() for p in files)


def _windows(token: str, size: int = 6) -> list[bytes]:
    # FTS5 stores terms prefix-compressed, so look for every piece of the token, not only all of it
    return [token[i : i + size].encode() for i in range(len(token) - size + 1)]


def test_forget_leaves_no_text_on_disk(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    store = SQLiteStore(db)
    secret_text = " ".join(SECRET) + " lives here. " + " ".join(reversed(SECRET))
    write(
        store,
        f"/private/{SECRET[0]}.txt",
        doc(
            SECRET[1],
            f"Title {SECRET[2]}",
            C(secret_text, axis(0), [(SECRET[1], "ORG")], [(SECRET[1], "is", SECRET[1])]),
            C(f"More about {SECRET[0]} and {SECRET[2]}.", axis(1), [(SECRET[2], "PERSON")]),
            metadata={"note": SECRET[0]},
        ),
        source_url=f"https://example.org/{SECRET[1]}",
        owner=SECRET[2],
    )
    write(store, "/kept.txt", doc("kept", "Kept", C(f"The {KEPT} stays.", axis(2))))
    store.close()
    # a second session, as in real use (statistics, checkpoints, FTS segments from before)
    store = SQLiteStore(db)
    for token in SECRET:
        assert store.keyword_search([token], 10, NO_FILTERS)
    assert SECRET[0].encode() in _raw_bytes(db)
    store.forget_source(f"/private/{SECRET[0]}.txt")
    store.close()

    raw = _raw_bytes(db)
    assert KEPT.encode() in raw  # the control: text that was not forgotten is on disk
    for token in SECRET:
        for piece in _windows(token):
            assert piece not in raw, f"{piece!r} from the forgotten source is still on disk"


# -- atomic writes -----------------------------------------------------------------------------
def _v1(store: SQLiteStore) -> Source:
    return write(
        store,
        "/atomic.txt",
        doc("a", "Version one", C("Original wording about Otters.", axis(0), [("Otters", "ORG")])),
        doc("b", None, C("Second original document.", axis(1))),
    )


def test_write_that_fails_midway_keeps_previous_version(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "kb.sqlite")
    try:
        v1 = _v1(store)
        before = store.stats()
        bad = DocumentIn(
            "c",
            None,
            "Broken replacement.",
            [ChunkIn(0, 19, "Broken replacement.", [0.5] * DIM)],  # type: ignore[arg-type]
        )
        good = doc("a", "Version two", C("Replacement wording.", axis(2)))
        with pytest.raises(sqlite3.ProgrammingError):
            write(store, "/atomic.txt", good, bad)
        assert store.get_source("/atomic.txt") == v1
        assert store.stats() == before
        assert store.keyword_search(["replacement"], 10, NO_FILTERS) == []
        assert len(store.keyword_search(["otters"], 10, NO_FILTERS)) == 1
        assert store.match_entities("otters") == ["otters"]
    finally:
        store.close()


def test_write_interrupted_inside_the_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(tmp_path / "kb.sqlite")
    try:
        v1 = _v1(store)
        real = SQLiteStore._insert_document
        calls = 0

        def failing(self: SQLiteStore, *args: Any, **kwargs: Any) -> None:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise KeyboardInterrupt  # e.g. Ctrl-C halfway through a source
            real(self, *args, **kwargs)

        monkeypatch.setattr(SQLiteStore, "_insert_document", failing)
        with pytest.raises(KeyboardInterrupt):
            write(
                store,
                "/atomic.txt",
                doc("a", None, C("Replacement one.", axis(2))),
                doc("b", None, C("Replacement two.", axis(3))),
            )
        monkeypatch.undo()
        assert calls == 2
        assert store.get_source("/atomic.txt") == v1
        assert store.keyword_search(["replacement"], 10, NO_FILTERS) == []
        assert ids(store.dense_search(axis(0), 1, NO_FILTERS)) == ids(
            store.keyword_search(["otters"], 1, NO_FILTERS)
        )
        # the store is still usable afterwards
        assert write(store, "/other.txt", doc("o", None, C("After.", axis(4)))).n_chunks == 1
    finally:
        store.close()
    reopened = SQLiteStore(tmp_path / "kb.sqlite")
    try:
        assert reopened.get_source("/atomic.txt") == v1
    finally:
        reopened.close()


# -- opening -----------------------------------------------------------------------------------
def test_reopen_applies_migrations_once_and_keeps_data(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    store = SQLiteStore(db)
    corpus = write_corpus(store)
    stats = store.stats()
    store.close()
    for _ in range(2):
        store = SQLiteStore(db)
        try:
            assert store.stats() == stats
            assert store.get_source(LOVELACE) == corpus.lovelace
            assert store.embedding_model() == MODEL
        finally:
            store.close()
    with closing(sqlite3.connect(db)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY name")]
        assert names == [name for name, _ in MIGRATIONS]
        assert apply_migrations(conn) == []


def test_autoincrement_migration_keeps_data_and_stops_id_reuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A knowledge base made before 0007 (sources.id without AUTOINCREMENT) keeps every
    document, chunk, vector and record through the table rebuild, and then reuses no id."""
    import cairn.kb.migrations as migrations

    db = tmp_path / "kb.sqlite"
    old = [m for m in MIGRATIONS if m[0] != "0007_sources_autoincrement"]
    monkeypatch.setattr(migrations, "MIGRATIONS", old)
    store = SQLiteStore(db)
    corpus = write_corpus(store)
    records = store.add_records(
        "api://t/op/1", corpus.lovelace.provenance, "t.op", {}, [{"a": 1}], documents=[]
    )
    newest = records.id
    store.forget_source(newest)  # before the fix, the next source would get this id again
    stats = store.stats()
    store.close()
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS)
    store = SQLiteStore(db)
    try:
        assert store.stats() == stats
        assert store.get_source(LOVELACE) == corpus.lovelace
        assert len(all_records(store)) == stats.chunks
        with closing(sqlite3.connect(db)) as conn:
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'sources'").fetchone()
            assert "AUTOINCREMENT" in sql[0]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        again = write(store, "/corpus/new.txt", doc("n", "New", C("A new text.", axis(6))))
        assert again.id > corpus.kingfisher.id
        store.forget_source(again.id)
        third = write(store, "/corpus/3.txt", doc("t", "Third", C("Third text.", axis(7))))
        assert third.id > again.id
        store.forget_source(LOVELACE)  # cascades still work after the rebuild
        assert store.stats().sources == stats.sources
    finally:
        store.close()


def test_a_migration_applied_by_another_process_meanwhile_is_skipped(tmp_path: Path) -> None:
    """Two processes opening one new knowledge base: the second read the applied migrations
    before the first committed them (seen in CI: "table meta already exists")."""

    class StaleView:  # a connection whose first look at `migrations` is out of date
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn, self.stale = conn, True

        def execute(self, sql: str, *args: object) -> object:
            if self.stale and sql.startswith("SELECT name FROM migrations"):
                self.stale = False
                return iter(())
            return self.conn.execute(sql, *args)

    db = tmp_path / "kb.sqlite"
    SQLiteStore(db).close()  # the first process applied everything
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        assert apply_migrations(StaleView(conn)) == []  # type: ignore[arg-type]
        names = [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY name")]
        assert names == [name for name, _ in MIGRATIONS]


OPEN_AT = """
import sys, time
from cairn.kb.sqlite import SQLiteStore, _open_retrying
start = float(sys.argv[2])
while time.time() < start:
    pass
SQLiteStore(sys.argv[1]).close()
"""


def test_processes_opening_one_new_knowledge_base_at_the_same_instant(tmp_path: Path) -> None:
    """Both ask SQLite to switch the new file to WAL; one is told "database is locked" at once,
    without waiting (seen in CI: two ingests of the same folder at once). It must try again."""
    for round_ in range(3):
        db = tmp_path / f"kb{round_}.sqlite"
        start = time.time() + 2.0  # every process is imported and spinning by then
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_AT, str(db), str(start)],
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        errors = [p.communicate(timeout=120)[1] for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, "\n".join(errors)[-2000:]
        with closing(sqlite3.connect(db)) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            names = [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY name")]
        assert names == sorted(name for name, _ in MIGRATIONS)


def test_a_locked_answer_while_opening_is_tried_again(tmp_path: Path) -> None:
    """The same race, made certain: the first switch to WAL is refused."""

    class Refuses:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn, self.refused = conn, 0

        def execute(self, sql: str, *args: object) -> object:
            if sql == "PRAGMA journal_mode=WAL" and not self.refused:
                self.refused += 1
                raise sqlite3.OperationalError("database is locked")
            return self.conn.execute(sql, *args)

        @property
        def in_transaction(self) -> bool:
            return self.conn.in_transaction

    with closing(sqlite3.connect(tmp_path / "kb.sqlite", isolation_level=None)) as conn:
        refuses = Refuses(conn)
        _open_retrying(refuses)  # type: ignore[arg-type]
        assert refuses.refused == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_open_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.sqlite"
    bogus.write_bytes(b"this is a text file, not a database\n" * 200)
    with pytest.raises(StoreError) as info:
        SQLiteStore(bogus)
    assert info.value.code == "kb-corrupt"
    assert bogus.read_bytes().startswith(b"this is a text file")


def test_open_a_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as info:
        SQLiteStore(tmp_path)
    assert info.value.code == "kb-is-dir"


# -- the ANN cache (usearch) -------------------------------------------------------------------
def test_ann_recall_and_cache_reuse(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    cache = tmp_path / "kb.sqlite.usearch"
    rng = np.random.default_rng(11)
    matrix = rng.normal(size=(200, DIM)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    chunks = [C(f"vector {i}", matrix[i]) for i in range(200)]
    queries = rng.normal(size=(20, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    store = SQLiteStore(db, ann_threshold=50)
    try:
        for part in range(4):
            write(store, f"/ann/{part}", doc("d", None, *chunks[part * 50 : (part + 1) * 50]))
        by_text = {r.text: r.chunk_id for r in all_records(store)}
        row_ids = np.array([by_text[f"vector {i}"] for i in range(200)])
        assert not cache.exists()
        recall = []
        for q in queries:
            exact = set(row_ids[np.argsort(-(matrix @ q))[:10]].tolist())
            found = ids(store.dense_search(q, 10, NO_FILTERS))
            assert len(found) == 10
            recall.append(len(exact & set(found)) / 10)
        assert np.mean(recall) >= 0.9, recall
        assert cache.exists()
        first = json.loads(cache.with_name(cache.name + ".json").read_text())
        assert first == {"generation": 4, "count": 200, "graph": [HNSW_M, HNSW_EF_CONSTRUCTION]}
        stamp = cache.stat().st_mtime_ns
        before = [ids(store.dense_search(q, 10, NO_FILTERS)) for q in queries[:5]]
    finally:
        store.close()

    # a new session reuses the saved index while the generation is unchanged
    store = SQLiteStore(db, ann_threshold=50)
    try:
        assert [ids(store.dense_search(q, 10, NO_FILTERS)) for q in queries[:5]] == before
        assert cache.stat().st_mtime_ns == stamp
        assert json.loads(cache.with_name(cache.name + ".json").read_text()) == first
        # a write makes it stale: it is rebuilt and finds the new vector
        new_vector = unit(*queries[0])
        write(store, "/ann/new", doc("n", None, C("the newcomer", new_vector)))
        hits = store.dense_search(new_vector, 10, NO_FILTERS)
        assert hits[0].chunk_id == chunk_id(store, "the newcomer")
        assert hits[0].score == pytest.approx(1.0, abs=1e-2)  # f16 in the index
        assert json.loads(cache.with_name(cache.name + ".json").read_text()) == {
            "generation": 5,
            "count": 201,
            "graph": [HNSW_M, HNSW_EF_CONSTRUCTION],
        }
        assert cache.stat().st_mtime_ns != stamp
        # filters still apply on the ANN path
        only = store.dense_search(matrix[0], 10, SearchFilters(collections=("nowhere",)))
        assert only == []
    finally:
        store.close()

    # an index saved with other graph settings (here: one from before they were recorded) is
    # rebuilt with the current ones, not reused
    meta = cache.with_name(cache.name + ".json")
    meta.write_text(json.dumps({"generation": 5, "count": 201}))
    stamp = cache.stat().st_mtime_ns
    store = SQLiteStore(db, ann_threshold=50)
    try:
        assert ids(store.dense_search(new_vector, 1, NO_FILTERS)) == [
            chunk_id(store, "the newcomer")
        ]
        assert cache.stat().st_mtime_ns != stamp
        assert json.loads(meta.read_text())["graph"] == [HNSW_M, HNSW_EF_CONSTRUCTION]
    finally:
        store.close()


# -- the factory -------------------------------------------------------------------------------
def test_open_store_paths_mean_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in (tmp_path / "a.sqlite", str(tmp_path / "b.sqlite")):
        store = open_store(spec)
        try:
            assert isinstance(store, SQLiteStore)
            assert store.path == Path(spec)
        finally:
            store.close()
    monkeypatch.setenv("CAIRN_KB", str(tmp_path / "env.sqlite"))
    store = open_store(None)
    try:
        assert isinstance(store, SQLiteStore)
        assert store.path == tmp_path / "env.sqlite"
    finally:
        store.close()


def test_open_store_postgres_without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "cairn.kb.postgres", raising=False)
    with pytest.raises(StoreError) as info:
        open_store("postgresql://kb.example.org/cairn")
    assert info.value.code == "pg-driver-missing"
    assert "psycopg" in info.value.message
    assert "pip install 'cairn[postgres]'" in info.value.message


def test_ann_index_loads_onnxruntime_first() -> None:
    """A fresh process whose first native vector code is the store's usearch index can still
    load the encoder afterwards (the other import order crashes the interpreter)."""
    import subprocess

    code = (
        "import numpy as np\n"
        "from cairn.kb.vectors import _usearch_index\n"
        "Index = _usearch_index()\n"
        "ix = Index(ndim=4, metric='cos', dtype='f16')\n"
        "ix.add(np.arange(3), np.eye(3, 4, dtype=np.float32))\n"
        "import onnxruntime\n"
        "print(len(ix), onnxruntime.get_device())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "3"
