"""Ray ingestion scaling: one Ray worker (1 CPU) against two (1 CPU each), same thread budget.

N SciFact abstracts are written as one .md file each (``# title`` + abstract), then ingested
with ``--no-graph`` (embedding only; the entity graph would add spaCy time on the workers) into
a fresh SQLite KB per repeat, through a throwaway loopback cluster whose head node has 0 CPUs
(it schedules, the worker nodes compute). Each worker task runs onnxruntime with 1 thread.
Each timed run joins its cluster anew and first warms the workers up (models loaded) with a
16-file ingest; 1-worker and 2-worker runs alternate, so a change in the machine's load during
the benchmark affects both alike.

In the same run it measures the physical limit: the packaged model embedding the same chunk
texts on 1 thread in this process, with nothing else running; two workers can at best double
that. The driver (reading, hashing, SQLite writes) and Ray's own processes share the cores.

    .venv/bin/python bench/ray_scaling.py --docs 400 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cairn.ingest.chunker import ChunkerConfig, chunk_text
from cairn.ingest.distributed import RayOptions, connect, ingest_paths_ray
from cairn.ingest.loaders import load
from cairn.ingest.pipeline import IngestOptions, _embedding_text, ingest_paths
from cairn.ingest.ray_cluster import LocalRayCluster
from cairn.kb.sqlite import SQLiteStore
from cairn.models.embed import packaged_minilm

CORPUS = Path(__file__).resolve().parents[2] / "shared/benchdata/scifact/corpus.jsonl"


def write_docs(corpus: Path, n: int, folder: Path) -> list[Path]:
    paths = []
    with corpus.open() as f:
        for i, line in enumerate(f):
            if i >= n:
                break
            rec = json.loads(line)
            p = folder / f"{rec['_id']}.md"
            p.write_text(f"# {rec['title']}\n\n{rec['text']}\n")
            paths.append(p)
    return paths


def chunk_texts(paths: list[Path]) -> list[str]:
    out = []
    for p in paths:
        for doc in load(p):
            for c in chunk_text(doc.text, ChunkerConfig()):
                out.append(_embedding_text(doc.title, doc.text[c.start : c.end]))
    return out


def single_thread_limit(texts: list[str]) -> float:
    emb = packaged_minilm(threads=1)
    emb.embed_batch(texts[:32])
    t0 = time.perf_counter()
    emb.embed_batch(texts)
    return len(texts) / (time.perf_counter() - t0)


def timed_run(
    cluster: LocalRayCluster, docs: Path, warm: Path, tmp: Path, tag: str
) -> tuple[float, int]:
    """Join ``cluster``, warm its workers up (models loaded), then time one ingest of ``docs``."""
    import ray

    options = IngestOptions(graph=False)
    ro = RayOptions(cluster.address, threads=1)
    connect(cluster.address)
    try:
        ingest_paths_ray(SQLiteStore(tmp / f"warm-{tag}.sqlite"), [warm], options, ro)
        report = ingest_paths_ray(SQLiteStore(tmp / f"ray-{tag}.sqlite"), [docs], options, ro)
    finally:
        ray.shutdown()
    assert not report.failed, report.failed
    return report.chunks_embedded / report.seconds, report.chunks_embedded


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-local", action="store_true", help="skip the local (no Ray) peer run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cairn-bench-") as t:
        tmp = Path(t)
        docs, warm = tmp / "docs", tmp / "warm"
        docs.mkdir()
        warm.mkdir()
        paths = write_docs(args.corpus, args.docs, docs)
        for p in paths[:16]:
            (warm / p.name).write_text(p.read_text() + "\nwarm-up copy\n")
        print(f"load average at start: {os.getloadavg()}", flush=True)
        texts = chunk_texts(paths)
        limit_start = single_thread_limit(texts)
        print(f"{len(paths)} docs, {len(texts)} chunks; 1-thread embedding: {limit_start:.1f}/s")
        local = None
        if not args.no_local:
            report = ingest_paths(
                SQLiteStore(tmp / "local.sqlite"),
                packaged_minilm(),
                [docs],
                IngestOptions(graph=False),
            )
            local = report.chunks_embedded / report.seconds
            print(f"local pipeline (no Ray, default threads): {local:.1f} chunks/s")
        rates: dict[int, list[float]] = {1: [], 2: []}
        counts = set()
        with (
            LocalRayCluster(head_cpus=0, workers=1, worker_cpus=1) as c1,
            LocalRayCluster(head_cpus=0, workers=2, worker_cpus=1) as c2,
        ):
            for r in range(args.repeats):  # interleaved, so drifting load hits both alike
                for n, cluster in ((1, c1), (2, c2)):
                    rate, chunks = timed_run(cluster, docs, warm, tmp, f"{n}-{r}")
                    rates[n].append(rate)
                    counts.add(chunks)
                    print(f"  {n} worker(s), run {r + 1}: {rate:.1f} chunks/s", flush=True)
        assert counts == {len(texts)}, (counts, len(texts))
        limit_end = single_thread_limit(texts)
        print(f"1-thread embedding at the end: {limit_end:.1f} chunks/s")
        one, two = rates[1], rates[2]
        m1, m2 = statistics.median(one), statistics.median(two)
        limit = statistics.mean([limit_start, limit_end])
        result = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_avg_1_5_15_at_end": [round(x, 1) for x in os.getloadavg()],
            "cpus": os.cpu_count(),
            "docs": len(paths),
            "chunks": len(texts),
            "single_thread_embed_chunks_per_s_start_end": [
                round(x, 1) for x in (limit_start, limit_end)
            ],
            "local_pipeline_chunks_per_s": round(local, 1) if local else None,
            "ray_1_worker_chunks_per_s": [round(x, 1) for x in one],
            "ray_2_workers_chunks_per_s": [round(x, 1) for x in two],
            "median_1": round(m1, 1),
            "median_2": round(m2, 1),
            "ratio_2_over_1": round(m2 / m1, 2),
            "ratio_1_over_limit": round(m1 / limit, 2),
            "ratio_2_over_2x_limit": round(m2 / (2 * limit), 2),
        }
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
