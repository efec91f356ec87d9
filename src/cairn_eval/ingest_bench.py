"""`cairn eval ingest`: ingest throughput beside the embedding model's raw throughput.

The same documents are (1) chunked and embedded directly with the embedder (the physical
limit of the pipeline on this machine), then (2) ingested into fresh knowledge bases without
and with entity extraction. The ratio (2)/(1) says how much the pipeline adds to the model.
"""

from __future__ import annotations

import json
import resource
import statistics
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
    corpus: Path, *, limit: int = 300, repeats: int = 3, embedder: Embedder | None = None
) -> IngestBench:
    """Alternate raw / ingest / ingest+graph ``repeats`` times; report medians (noisy host)."""
    embedder = embedder or load_embedder()
    embedder.warm_up()
    raw: list[float] = []
    plain: list[float] = []
    graph: list[float] = []
    with tempfile.TemporaryDirectory(prefix="cairn-bench-") as tmp:
        sample = Path(tmp) / "sample.jsonl"
        docs = load(corpus)[:limit]
        with sample.open("w") as f:
            for i, d in enumerate(docs):
                record = {"_id": d.doc_key or str(i), "title": d.title, "text": d.text}
                f.write(json.dumps(record) + "\n")
        texts = [_embedding_text(d.title, c.text) for d in docs for c in chunk_text(d.text)]
        for r in range(repeats):
            t0 = time.perf_counter()
            for lo in range(0, len(texts), 256):
                embedder.embed_batch(texts[lo : lo + 256])
            raw.append(len(texts) / (time.perf_counter() - t0))
            for with_graph, rates in ((False, plain), (True, graph)):
                with open_kb(Path(tmp) / f"kb-{r}-{with_graph}.sqlite", embedder=embedder) as kb:
                    report = kb.ingest([sample], graph=with_graph)
                    rates.append(report.chunks_embedded / report.seconds)
    m_raw, m_plain, m_graph = (statistics.median(x) for x in (raw, plain, graph))
    return IngestBench(
        documents=len(docs),
        chunks=len(texts),
        raw_embed_chunks_per_s=round(m_raw, 2),
        ingest_chunks_per_s=round(m_plain, 2),
        ingest_graph_chunks_per_s=round(m_graph, 2),
        ratio=round(m_plain / m_raw, 3),
        ratio_graph=round(m_graph / m_raw, 3),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )
