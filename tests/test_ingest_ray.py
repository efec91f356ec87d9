"""`cairn ingest --ray`: ingestion on a real Ray cluster (a head and a worker node on loopback).

The cluster is started by the tests with ``ray start --block`` (see
:class:`cairn.ingest.ray_cluster.LocalRayCluster`) and stopped at the end, also on failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cairn.errors import IngestError
from cairn.graph.extract import CapitalisedExtractor
from cairn.ingest.chunker import ChunkerConfig
from cairn.ingest.distributed import RayOptions, connect, ingest_paths_ray
from cairn.ingest.pipeline import IngestOptions, IngestReport, Status, ingest_paths
from cairn.kb.factory import open_store
from cairn.kb.sqlite import SQLiteStore
from cairn.models.embed import HashingEmbedder
from helpers import free_port

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'cairn[ray]')")

from cairn.ingest.ray_cluster import LocalRayCluster  # noqa: E402

# The test embedder below travels to the workers by value (they cannot import this module).
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

SMALL = ChunkerConfig(max_chars=120, min_chars=0)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalRayCluster]:
    with LocalRayCluster(head_cpus=1, workers=1, worker_cpus=1) as c:
        yield c


def make_docs(root: Path, n: int, sentences: int = 6) -> Path:
    docs = root / "docs"
    docs.mkdir()
    for i in range(n):
        body = " ".join(
            f"Margaret Hale visited Harbour {i} on day {j} and counted topic{j} boats."
            for j in range(sentences)
        )
        (docs / f"f{i:02d}.txt").write_text(f"Note {i}\n\n{body}\n")
    return docs


def hashing(threads: int) -> HashingEmbedder:
    return HashingEmbedder()


def capitalised() -> CapitalisedExtractor:
    return CapitalisedExtractor()


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def outcomes(report: IngestReport) -> dict[str, Status]:
    return {Path(o.path).name: o.status for o in report.outcomes}


def test_ray_ingest_matches_local_and_reruns_as_no_op(
    cluster: LocalRayCluster, tmp_path: Path
) -> None:
    docs = make_docs(tmp_path, 7)
    (docs / "records.jsonl").write_text(
        '{"_id": "r1", "title": "Rosa", "text": "Rosa Bakery sells bread on Mill Street."}\n'
        '{"_id": "r2", "title": "Pier", "text": "The Old Pier was rebuilt by Alan Brook."}\n'
    )
    (docs / "page.md").write_text("# Lamp\n\nThe Lamp Room of the Old Harbour is open in May.\n")
    options = IngestOptions(chunker=SMALL, graph=True)
    local_db, ray_db = tmp_path / "local.sqlite", tmp_path / "ray.sqlite"
    local = ingest_paths(
        SQLiteStore(local_db), HashingEmbedder(), [docs], options, extractor=CapitalisedExtractor()
    )
    ro = RayOptions(cluster.address, files_per_task=2, embedder=hashing, extractor=capitalised)
    events: list[str] = []
    report = ingest_paths_ray(
        SQLiteStore(ray_db), [docs], options, ro, on_event=lambda e: events.append(e.type.value)
    )
    assert not report.failed
    assert outcomes(report) == outcomes(local)
    assert report.count(Status.added) == 9
    assert report.chunks_embedded == local.chunks_embedded > 9
    assert events[0] == "stage-start" and events[-1] == "stage-end"

    q_docs = (
        "SELECT s.uri, s.content_hash, d.doc_key, d.title, d.text FROM documents d "
        "JOIN sources s ON s.id = d.source_id ORDER BY s.uri, d.doc_key"
    )
    assert rows(ray_db, q_docs) == rows(local_db, q_docs)
    q_chunks = (
        'SELECT s.uri, d.doc_key, c.start, c."end", c.text, e.vector FROM chunks c '
        "JOIN documents d ON d.id = c.document_id JOIN sources s ON s.id = d.source_id "
        "JOIN embeddings e ON e.chunk_id = c.id ORDER BY s.uri, d.doc_key, c.start"
    )
    a, b = rows(ray_db, q_chunks), rows(local_db, q_chunks)
    assert [r[:5] for r in a] == [r[:5] for r in b]
    va = np.stack([np.frombuffer(r[5], dtype=np.float32) for r in a])
    vb = np.stack([np.frombuffer(r[5], dtype=np.float32) for r in b])
    np.testing.assert_allclose(va, vb, atol=1e-6)
    q_graph = "SELECT COUNT(*) FROM entities UNION ALL SELECT COUNT(*) FROM relations"
    assert rows(ray_db, q_graph) == rows(local_db, q_graph)
    assert rows(ray_db, q_graph)[0][0] > 0
    fts = "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH 'boats'"
    assert rows(ray_db, fts) == rows(local_db, fts) != [(0,)]

    # A rerun reads and hashes, writes nothing; a changed file is the only one re-embedded.
    before = rows(ray_db, "SELECT id, ingested_at FROM sources ORDER BY id")
    again = ingest_paths_ray(SQLiteStore(ray_db), [docs], options, ro)
    assert again.count(Status.unchanged) == 9 and again.chunks_embedded == 0
    assert rows(ray_db, "SELECT id, ingested_at FROM sources ORDER BY id") == before
    (docs / "f03.txt").write_text("Note 3 changed.\n\nHarbour 3 now has no boats at all.\n")
    third = ingest_paths_ray(SQLiteStore(ray_db), [docs], options, ro)
    assert outcomes(third)["f03.txt"] == Status.updated and third.count(Status.unchanged) == 8
    assert rows(ray_db, "SELECT COUNT(*) FROM sources") == [(9,)]


def test_bad_files_get_their_error_and_the_rest_land(
    cluster: LocalRayCluster, tmp_path: Path
) -> None:
    docs = make_docs(tmp_path, 4)
    (docs / "empty.txt").write_bytes(b"")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (docs / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (docs / "bad.json").write_text("{not json")
    (docs / "z-copy.txt").write_bytes((docs / "f01.txt").read_bytes())
    store = SQLiteStore(tmp_path / "kb.sqlite")
    ro = RayOptions(cluster.address, files_per_task=3, embedder=hashing)
    report = ingest_paths_ray(store, [docs], IngestOptions(chunker=SMALL, graph=False), ro)
    failed = {Path(o.path).name: o for o in report.failed}
    assert set(failed) == {"empty.txt", "broken.pdf", "binary.txt", "bad.json"}
    for name, o in failed.items():
        # The message names the user's file (not a worker's temp copy) and says why.
        assert o.message is not None and o.message.startswith(str(docs / name)), o.message
        assert "cairn-ray-" not in o.message
    assert failed["empty.txt"].code == "empty"
    assert outcomes(report)["z-copy.txt"] == Status.duplicate
    assert report.count(Status.added) == 4
    assert {Path(s.uri).name for s in store.list_sources()} == {f"f{i:02d}.txt" for i in range(4)}


@dataclass(frozen=True)
class SlowHashing:
    """Builds an embedder that leaves a ``<pid>`` marker and sleeps, so a test can kill it."""

    marker_dir: str
    delay: float

    def __call__(self, threads: int) -> HashingEmbedder:
        marker_dir, delay = Path(self.marker_dir), self.delay

        class Slow(HashingEmbedder):
            def embed_batch(self, texts: Any) -> Any:
                (marker_dir / f"{os.getpid()}-{time.monotonic_ns()}").touch()
                time.sleep(delay)
                return super().embed_batch(texts)

        return Slow()


def wait_for_markers(folder: Path, n: int, timeout: float = 60) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(folder.iterdir())
        if len(found) >= n:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no task started within {timeout} s")


def test_killed_worker_is_retried_and_every_file_lands_once(
    cluster: LocalRayCluster, tmp_path: Path
) -> None:
    docs = make_docs(tmp_path, 12)
    markers = tmp_path / "markers"
    markers.mkdir()
    db = tmp_path / "kb.sqlite"
    ro = RayOptions(cluster.address, files_per_task=2, embedder=SlowHashing(str(markers), 0.6))
    result: dict[str, IngestReport] = {}

    def run() -> None:
        result["r"] = ingest_paths_ray(
            SQLiteStore(db), [docs], IngestOptions(chunker=SMALL, graph=False), ro
        )

    t = threading.Thread(target=run)
    t.start()
    first = wait_for_markers(markers, 1)[0]
    victim = int(first.name.split("-")[0])
    os.kill(victim, signal.SIGKILL)  # a Ray worker process of the cluster, mid-task
    t.join(timeout=120)
    assert not t.is_alive()
    report = result["r"]
    assert not report.failed, [o.message for o in report.failed]
    assert report.count(Status.added) == 12
    # Every file exactly once, with all its chunks; the killed task ran again elsewhere.
    assert rows(db, "SELECT COUNT(*), COUNT(DISTINCT uri) FROM sources") == [(12, 12)]
    per_file = rows(db, "SELECT COUNT(*) FROM chunks GROUP BY document_id")
    assert len(per_file) == 12 and len({n for (n,) in per_file}) == 1
    assert len(list(markers.iterdir())) > 6  # 6 batches, plus the retried one


DRIVER = textwrap.dedent(
    """
    import json, sys, time
    from cairn.ingest.chunker import ChunkerConfig
    from cairn.ingest.distributed import RayOptions, ingest_paths_ray
    from cairn.ingest.pipeline import IngestOptions
    from cairn.kb.factory import open_store
    from cairn.models.embed import HashingEmbedder

    DELAY = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0

    class Slow(HashingEmbedder):  # defined in __main__: Ray ships it to the workers by value
        def embed_batch(self, texts):
            time.sleep(DELAY)
            return super().embed_batch(texts)

    store = open_store(sys.argv[1])
    report = ingest_paths_ray(
        store, [sys.argv[3]],
        IngestOptions(chunker=ChunkerConfig(max_chars=120, min_chars=0), graph=False),
        RayOptions(sys.argv[2], files_per_task=1, embedder=lambda threads: Slow()),
    )
    print(json.dumps([[o.path, o.status.value, o.message] for o in report.outcomes]))
    """
)


def two_ingests_at_once(kb: str, address: str, docs: Path) -> list[list[list[str]]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DRIVER, kb, address, str(docs)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=180)
        assert p.returncode == 0, stderr[-2000:]
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_ingests_of_the_same_files_at_once_do_not_duplicate(
    cluster: LocalRayCluster, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    docs = make_docs(tmp_path, 10)
    kb = str(tmp_path / "kb.sqlite")
    if backend == "postgres":
        kb = request.getfixturevalue("postgres_dsn")
    runs = two_ingests_at_once(kb, cluster.address, docs)
    for outs in runs:
        assert len(outs) == 10 and {s for _, s, _ in outs} <= {"added", "unchanged"}, outs
    store = open_store(kb)
    try:
        sources = store.list_sources()
        assert sorted(Path(s.uri).name for s in sources) == [f"f{i:02d}.txt" for i in range(10)]
        stats = store.stats()
        per_file = {s.n_chunks for s in sources}
        assert len(per_file) == 1
        assert stats.documents == 10 and stats.chunks == stats.vectors == 10 * per_file.pop()
    finally:
        store.close()


@pytest.mark.slow
def test_killed_driver_keeps_what_it_wrote_and_a_rerun_finishes(
    cluster: LocalRayCluster, tmp_path: Path
) -> None:
    docs = make_docs(tmp_path, 16)
    db = tmp_path / "kb.sqlite"
    cmd = [sys.executable, "-c", DRIVER, str(db), cluster.address, str(docs)]
    proc = subprocess.Popen([*cmd, "0.4"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        done = 0
        while time.monotonic() < deadline and done < 3 and proc.poll() is None:
            time.sleep(0.05)
            with contextlib.suppress(sqlite3.Error):
                done = rows(db, "SELECT COUNT(*) FROM sources")[0][0] if db.exists() else 0
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    kept = rows(db, "SELECT COUNT(*) FROM sources")[0][0]
    assert 3 <= kept < 16, "the kill should land mid-ingest"
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    statuses = [s for _, s, _ in json.loads(rerun.stdout.strip().splitlines()[-1])]
    assert statuses.count("unchanged") == kept and statuses.count("added") == 16 - kept
    assert rows(db, "SELECT COUNT(*), COUNT(DISTINCT uri) FROM sources") == [(16, 16)]
    assert rows(db, "SELECT COUNT(DISTINCT source_id) FROM documents") == [(16,)]


def test_without_ray_or_cluster_the_error_says_what_to_do(
    cluster: LocalRayCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = make_docs(tmp_path, 1)
    store = SQLiteStore(tmp_path / "kb.sqlite")
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "ray", None)  # as if Ray were not installed
        with pytest.raises(IngestError, match=r"pip install 'cairn\[ray\]'") as info:
            ingest_paths_ray(store, [docs], IngestOptions(), RayOptions(cluster.address))
        assert info.value.code == "ray-missing"
    with pytest.raises(IngestError, match="threads must be at least 1") as bad:
        RayOptions(cluster.address, threads=0)
    assert bad.value.code == "bad-ray-option"
    with pytest.raises(IngestError, match=r"no node of the cluster has 2 CPUs") as big:
        ingest_paths_ray(store, [docs], IngestOptions(), RayOptions(cluster.address, threads=2))
    assert big.value.code == "ray-no-cpus"
    assert store.list_sources() == []
    assert not ray.is_initialized()
    assert connect(cluster.address) is True  # a reachable cluster is joined ...
    try:
        assert connect(cluster.address) is False  # ... once
    finally:
        ray.shutdown()


def test_unreachable_cluster_or_bad_address_is_a_clear_error(tmp_path: Path) -> None:
    docs = make_docs(tmp_path, 1)
    store = SQLiteStore(tmp_path / "kb.sqlite")
    for address, code in ((f"127.0.0.1:{free_port()}", "ray-connect"), ("nowhere", "ray-address")):
        with pytest.raises(IngestError, match=re.escape(address)) as info:
            ingest_paths_ray(store, [docs], IngestOptions(), RayOptions(address))
        assert info.value.code == code
    assert store.list_sources() == []


@pytest.mark.slow
def test_lost_worker_node_its_tasks_move_to_the_head(tmp_path: Path) -> None:
    docs = make_docs(tmp_path, 10)
    markers = tmp_path / "markers"
    markers.mkdir()
    db = tmp_path / "kb.sqlite"
    with LocalRayCluster(head_cpus=1, workers=1, worker_cpus=1) as c:
        ro = RayOptions(c.address, files_per_task=1, embedder=SlowHashing(str(markers), 1.0))
        result: dict[str, IngestReport] = {}

        def run() -> None:
            result["r"] = ingest_paths_ray(
                SQLiteStore(db), [docs], IngestOptions(chunker=SMALL, graph=False), ro
            )

        t = threading.Thread(target=run)
        t.start()
        wait_for_markers(markers, 3)
        c.kill_worker(0)  # the whole node: raylet, object store and its workers
        t.join(timeout=180)
        assert not t.is_alive()
    report = result["r"]
    assert not report.failed, [o.message for o in report.failed]
    assert rows(db, "SELECT COUNT(*), COUNT(DISTINCT uri) FROM sources") == [(10, 10)]
    assert rows(db, "SELECT COUNT(*) FROM documents") == [(10,)]


@pytest.mark.integration
def test_cli_ingest_with_the_packaged_model(cluster: LocalRayCluster, tmp_path: Path) -> None:
    docs = make_docs(tmp_path, 3, sentences=3)
    (docs / "empty.txt").write_bytes(b"")
    cairn_bin = str(Path(sys.executable).parent / "cairn")
    kb_ray, kb_local = tmp_path / "ray.sqlite", tmp_path / "local.sqlite"
    env = dict(os.environ, COLUMNS="200")
    run = subprocess.run(
        [
            cairn_bin,
            "ingest",
            str(docs),
            "--ray",
            cluster.address,
            "--kb",
            str(kb_ray),
            "--no-graph",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert run.returncode == 1, run.stderr  # one file failed
    assert f"failed {docs / 'empty.txt'}: file is empty" in " ".join(run.stderr.split())
    assert "3 added, 1 failed" in run.stdout
    local = subprocess.run(
        [cairn_bin, "ingest", str(docs), "--kb", str(kb_local), "--no-graph"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert local.returncode == 1 and "3 added, 1 failed" in local.stdout
    q = (
        "SELECT s.uri, c.start, e.vector FROM chunks c JOIN documents d ON d.id = c.document_id "
        "JOIN sources s ON s.id = d.source_id JOIN embeddings e ON e.chunk_id = c.id "
        "ORDER BY s.uri, c.start"
    )
    a, b = rows(kb_ray, q), rows(kb_local, q)
    assert [r[:2] for r in a] == [r[:2] for r in b] and a
    va = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in a])
    vb = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in b])
    assert float(np.min(np.sum(va * vb, axis=1))) > 0.999  # same model, 1 vs default threads
    models = rows(kb_ray, "SELECT value FROM meta WHERE key = 'embedding_model'")
    assert models == rows(kb_local, "SELECT value FROM meta WHERE key = 'embedding_model'")
