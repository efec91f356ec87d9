"""Query latency on a large knowledge base built from a smaller real one.

Embedding 100k chunks takes over an hour on 2 cores, so this benchmark grows a knowledge base
by copying an existing one (for example the SciFact KB made by `cairn eval retrieval`): copy i
of each chunk keeps its text with the sentences rotated by i and a copy tag, and its vector gets
Gaussian noise (sigma 0.05, re-normalised). Text therefore repeats, varied; the figures measure
the cost of size (postings, vectors, graph), not retrieval quality.

    python bench/scale_latency.py --from /tmp/sf.sqlite --chunks 100000 \
        --queries ../shared/benchdata/scifact/queries_test.jsonl --out /tmp/sf100k.sqlite
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import time
from pathlib import Path

import numpy as np

import cairn
from cairn.kb.sqlite import SQLiteStore
from cairn.kb.types import ChunkIn, DocumentIn, Provenance


def grow(src: Path, dst: Path, target: int) -> None:
    conn = sqlite3.connect(src)
    rows = conn.execute(
        "SELECT d.doc_key, d.title, c.text, e.vector, e.model FROM chunks c "
        "JOIN documents d ON c.document_id = d.id JOIN embeddings e ON e.chunk_id = c.id"
    ).fetchall()
    model = rows[0][4]
    rng = np.random.default_rng(0)
    store = SQLiteStore(dst)
    have = store.stats().chunks
    copy = have // len(rows)
    while have < target:
        docs = []
        for i, (key, title, text, blob, _) in enumerate(rows[: target - have]):
            sents = text.split(". ")
            r = copy % max(1, len(sents))
            varied = ". ".join(sents[r:] + sents[:r]) + f" copy{copy}"
            v = np.frombuffer(blob, dtype=np.float32) + rng.normal(0, 0.05, 384).astype(np.float32)
            v /= np.linalg.norm(v)
            docs.append(
                DocumentIn(
                    f"{key}-{copy}-{i}",
                    title,
                    varied,
                    [ChunkIn(0, len(varied), varied, v.tobytes())],
                )
            )
        store.write_source(
            f"scale://copy{copy}",
            content_hash=str(copy),
            size_bytes=0,
            provenance=Provenance(collection="scale"),
            documents=docs,
            embedding_model=model,
        )
        have += len(docs)
        copy += 1
        print(f"{have} chunks", flush=True)
    store.close()


def measure(db: Path, queries: list[str]) -> dict[str, dict[str, float]]:
    out = {}
    with cairn.open(db) as kb:
        kb.search("warm up", k=10)
        for mode in ("keyword", "dense", "hybrid"):
            ms = []
            for q in queries:
                t = time.perf_counter()
                kb.search(q, k=10, mode=mode)
                ms.append((time.perf_counter() - t) * 1000)
            ms.sort()
            out[mode] = {
                "p50": round(statistics.median(ms), 1),
                "p95": round(ms[int(0.95 * (len(ms) - 1))], 1),
            }
        out["chunks"] = {"n": kb.stats().chunks}
        out["ann_recall@10"] = {"mean": ann_recall(db, kb, queries[:100])}
    return out


def ann_recall(db: Path, kb: cairn.KnowledgeBase, queries: list[str]) -> float:
    """Recall@10 of the store's dense search (ANN above its threshold) against exact search."""
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT chunk_id, vector FROM embeddings").fetchall()
    ids = np.array([r[0] for r in rows])
    matrix = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
    from cairn.search.types import SearchFilters

    recalls = []
    for q in queries:
        v = kb.embedder.embed_query(q)
        exact = set(ids[np.argsort(-(matrix @ v))[:10]].tolist())
        got = {h.chunk_id for h in kb.store.dense_search(v, 10, SearchFilters())}
        recalls.append(len(exact & got) / 10)
    return round(float(np.mean(recalls)), 4)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="src", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--queries", type=Path, required=True)
    a = ap.parse_args()
    grow(a.src, a.out, a.chunks)
    queries = [json.loads(line)["text"] for line in a.queries.open()]
    print(json.dumps(measure(a.out, queries)))


if __name__ == "__main__":
    main()
