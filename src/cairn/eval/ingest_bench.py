"""`cairn eval ingest`: ingest throughput beside the embedding model's raw throughput.

The same documents are (1) chunked and embedded directly with the embedder (the physical
limit of the pipeline on this machine), then (2) ingested into fresh knowledge bases without
and with entity extraction. The ratio (2)/(1) says how much the pipeline adds to the model.
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cairn.ingest.chunker import chunk_text
from cairn.ingest.loaders import load
from cairn.ingest.pipeline import _embedding_text
from cairn.knowledge import open_kb
from cairn.models.embed import Embedder, load_embedder


@dataclass
class IngestBench:
    documents: int
    chunks: int
    raw_embed_chunks_per_s: float
    ingest_chunks_per_s: float
    ingest_graph_chunks_per_s: float
    ratio: float
    ratio_graph: float
    peak_rss_mb: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_ingest_bench(
    corpus: Path, *, limit: int = 1000, embedder: Embedder | None = None
) -> IngestBench:
    embedder = embedder or load_embedder()
    embedder.warm_up()
    with tempfile.TemporaryDirectory(prefix="cairn-bench-") as tmp:
        sample = Path(tmp) / "sample.jsonl"
        docs = load(corpus)[:limit]
        with sample.open("w") as f:
            for i, d in enumerate(docs):
                f.write(
                    json.dumps({"_id": d.doc_key or str(i), "title": d.title, "text": d.text})
                    + "\n"
                )
        texts = [_embedding_text(d.title, c.text) for d in docs for c in chunk_text(d.text)]
        t0 = time.perf_counter()
        for lo in range(0, len(texts), 256):
            embedder.embed_batch(texts[lo : lo + 256])
        raw = len(texts) / (time.perf_counter() - t0)
        rates = []
        for graph in (False, True):
            with open_kb(Path(tmp) / f"kb-{graph}.sqlite", embedder=embedder) as kb:
                report = kb.ingest([sample], graph=graph)
                rates.append(report.chunks_embedded / report.seconds)
    return IngestBench(
        documents=len(docs),
        chunks=len(texts),
        raw_embed_chunks_per_s=round(raw, 2),
        ingest_chunks_per_s=round(rates[0], 2),
        ingest_graph_chunks_per_s=round(rates[1], 2),
        ratio=round(rates[0] / raw, 3),
        ratio_graph=round(rates[1] / raw, 3),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )
