"""`cairn eval retrieval`: quality and latency of each search mode on a BEIR-style dataset.

The corpus is ingested into the given knowledge base (skipped when unchanged, by content
hash), each query is searched in each mode, and documents are ranked by their best chunk.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cairn.events import Event, EventCallback, EventType, ignore
from cairn.ingest.pipeline import Status
from cairn.knowledge import KnowledgeBase
from cairn.search.types import Mode
from cairn_eval.beir import BeirDataset, iter_corpus, load_beir
from cairn_eval.metrics import evaluate_run, summarize_latencies
from cairn_eval.peers import Bm25sPeer, run_peer


@dataclass
class ModeResult:
    mode: str
    metrics: dict[str, float]
    latency_ms: dict[str, float]


@dataclass
class RetrievalReport:
    dataset: str
    split: str
    documents: int
    queries: int
    chunks: int
    modes: list[ModeResult] = field(default_factory=list)
    ingest: dict[str, Any] = field(default_factory=dict)
    peers: list[ModeResult] = field(default_factory=list)
    peak_rss_mb: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


KEY_METRICS = ("ndcg@10", "recall@100", "mrr@10")


def run_retrieval_eval(
    kb: KnowledgeBase,
    beir_dir: Path,
    *,
    split: str = "test",
    modes: Sequence[str] = ("keyword", "dense", "hybrid"),
    collection: str | None = None,
    peers: Sequence[str] = ("bm25s",),
    limit_queries: int | None = None,
    on_event: EventCallback = ignore,
) -> RetrievalReport:
    ds = load_beir(beir_dir, split)
    name = beir_dir.resolve().name
    collection = collection or f"beir-{name}"
    ingest = kb.ingest([ds.corpus_path], collection=collection, on_event=on_event)
    if ingest.failed:
        raise RuntimeError(f"ingesting {ds.corpus_path} failed: {ingest.failed[0].message}")
    queries = dict(sorted(ds.queries.items())[:limit_queries] if limit_queries else ds.queries)
    stats = kb.stats()
    report = RetrievalReport(
        dataset=name,
        split=split,
        documents=stats.documents,
        queries=len(queries),
        chunks=stats.chunks,
        ingest={
            "seconds": round(ingest.seconds, 1),
            "chunks": ingest.chunks_embedded,
            "chunks_per_s": round(ingest.chunks_per_second, 2),
            "embed_seconds": round(ingest.embed_seconds, 1),
            "skipped_unchanged": ingest.count(Status.unchanged),
        },
    )
    kb.search("warm up", k=1)  # load models and vector cache before timing
    for mode in modes:
        report.modes.append(_run_mode(kb, ds, queries, Mode(mode), collection, on_event))
    for peer in peers:
        report.peers.append(_run_peer(peer, ds, queries))
    report.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return report


def _run_mode(
    kb: KnowledgeBase,
    ds: BeirDataset,
    queries: dict[str, str],
    mode: Mode,
    collection: str,
    on_event: EventCallback = ignore,
) -> ModeResult:
    run: dict[str, list[str]] = {}
    latencies: list[float] = []
    for i, (qid, text) in enumerate(queries.items(), start=1):
        t0 = time.perf_counter()
        hits = kb.search(text, k=100, mode=mode, collections=[collection], highlights=False)
        latencies.append((time.perf_counter() - t0) * 1000)
        run[qid] = [h.chunk.doc_key for h in hits]
        if i % 10 == 0 or i == len(queries):  # outside the timed call
            data = {"label": mode.value, "done": i, "of": len(queries)}
            on_event(Event(EventType.progress, "queries", data))
    qrels = {q: ds.qrels[q] for q in queries if q in ds.qrels}
    return ModeResult(
        mode.value, evaluate_run(run, qrels, ks=(10, 100)), summarize_latencies(latencies)
    )


def _run_peer(name: str, ds: BeirDataset, queries: dict[str, str]) -> ModeResult:
    if name != "bm25s":
        raise ValueError(f"unknown peer {name!r} (known: bm25s)")
    peer = Bm25sPeer(list(iter_corpus(ds.corpus_path)))
    run, latencies = run_peer(peer, queries, 100)
    qrels = {q: ds.qrels[q] for q in queries if q in ds.qrels}
    return ModeResult(
        "bm25s+stem (peer)", evaluate_run(run, qrels, ks=(10, 100)), summarize_latencies(latencies)
    )
