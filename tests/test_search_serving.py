"""The search engine's serving shortcuts: the query-vector cache, paged per-document collapse
and the faster highlight give the same results as the plain way."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import cairn
from cairn.graph.extract import CapitalisedExtractor
from cairn.kb.types import ChunkRecord
from cairn.models.embed import HashingEmbedder, Vectors
from cairn.search.engine import SearchConfig, best_sentence, query_vectors
from cairn.server.threads import blas_threads, limit_blas_threads


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        self.calls.extend(texts)
        return super().embed_batch(texts)


@pytest.fixture
def kb(tmp_path: Path) -> cairn.KnowledgeBase:
    docs = tmp_path / "docs"
    docs.mkdir()
    # One long document with many chunks that all match, and short ones that match less.
    long = "\n\n".join(
        f"Section {i}. The lighthouse keeper logged the lighthouse lamp and the harbour "
        "lighthouse fog signal. " + "Filler words about the weather and tides. " * 30
        for i in range(40)
    )
    (docs / "long.txt").write_text(long, encoding="utf-8")
    for i in range(12):
        (docs / f"short{i}.txt").write_text(
            f"Note {i}: a lighthouse stands on pier {i}. The bakery sells bread.", encoding="utf-8"
        )
    base = cairn.open(
        tmp_path / "kb.sqlite",
        embedder=CountingEmbedder(),
        extractor=CapitalisedExtractor(),
        search_config=SearchConfig(cache_query_vectors=True),
    )
    base.ingest(sorted(docs.iterdir()))
    return base


def test_query_vector_cache(kb: cairn.KnowledgeBase) -> None:
    emb = kb.embedder
    assert isinstance(emb, CountingEmbedder)
    query_vectors.clear()
    emb.calls.clear()
    first = kb.search("lighthouse lamp", k=5)
    again = kb.search("lighthouse lamp", k=5)
    assert emb.calls == ["lighthouse lamp"]  # encoded once
    assert [(h.chunk.chunk_id, h.score) for h in first] == [
        (h.chunk.chunk_id, h.score) for h in again
    ]
    kb.search("lighthouse  lamp?", k=5)  # other text: encoded again
    assert len(emb.calls) == 2
    vec = query_vectors.get(emb, "lighthouse lamp")
    with pytest.raises(ValueError):
        vec[0] = 1.0  # cached vectors are read-only
    assert np.allclose(vec, HashingEmbedder().embed("lighthouse lamp"))
    # Off by default (benchmarks that repeat queries time every encoding).
    plain = cairn.KnowledgeBase(kb.store, embedder=emb)
    plain.search("lighthouse lamp", k=5)
    plain.search("lighthouse lamp", k=5)
    assert emb.calls.count("lighthouse lamp") == 3


def test_per_document_collapse_pages_until_k_documents(kb: cairn.KnowledgeBase) -> None:
    all_chunks = kb.search("lighthouse keeper lamp", k=200, per_document=False)
    assert sum(h.chunk.doc_key == "long.txt" for h in all_chunks[:40]) > 20
    hits = kb.search("lighthouse keeper lamp", k=10)
    docs = [h.chunk.document_id for h in hits]
    assert len(hits) == 10 and len(set(docs)) == 10  # distinct documents, k of them
    # The same as collapsing the full ranking by hand: best chunk of each document, in order.
    expected: list[int] = []
    for h in all_chunks:
        if h.chunk.document_id not in expected:
            expected.append(h.chunk.document_id)
    assert docs == expected[:10]
    assert [h.rank for h in hits] == list(range(1, 11))


def _slow_best_sentence(rec: ChunkRecord, terms: list[str]) -> tuple[int, int]:
    """The highlight as first written (one stem call per word), for comparison."""
    from collections import Counter

    from cairn.text.sentences import split_sentences
    from cairn.text.tokens import WORD

    spans = split_sentences(rec.text)
    wanted = Counter(t.lower()[:5] for t in terms)
    best, best_score = spans[0], 0
    for s in spans:
        words = {w.lower()[:5] for w in WORD.findall(rec.text[s.start : s.end])}
        score = sum(1 for w in wanted if w in words)
        if score > best_score:
            best, best_score = s, score
    return (rec.start + best.start, rec.start + best.end)


def test_highlight_matches_the_plain_version(kb: cairn.KnowledgeBase) -> None:
    for query in ("lighthouse fog signal", "bakery bread", "tides weather", "pier 7"):
        terms = query.split()
        for h in kb.search(query, k=10):
            assert best_sentence(h.chunk, terms) == _slow_best_sentence(h.chunk, terms)


def test_blas_threads_can_be_limited() -> None:
    before = blas_threads()
    if before is None:
        pytest.skip("numpy's BLAS is not OpenBLAS here")
    try:
        assert limit_blas_threads(1)
        assert blas_threads() == 1
    finally:
        limit_blas_threads(before)
