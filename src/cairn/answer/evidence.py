"""Sentence-level evidence: split the top search hits into sentences and score each one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from cairn.answer.question import QuestionInfo, stems
from cairn.answer.types import Evidence
from cairn.models.embed import Embedder
from cairn.search.types import SearchHit
from cairn.text.sentences import split_sentences

MAX_ENCODED = 6  # sentences per question sent to the encoder (latency bound)
MIN_SENTENCE_CHARS = 12


def coverage(info: QuestionInfo, text_stems: set[str]) -> float:
    """Weighted share of the question's key terms that occur in a text."""
    total = sum(t.weight for t in info.terms)
    if total == 0:
        return 0.0
    return sum(t.weight for t in info.terms if t.stem in text_stems) / total


def hit_sentences(info: QuestionInfo, hits: Iterable[SearchHit]) -> list[Evidence]:
    """Every sentence of the hits as evidence, scored by term overlap alone (no encoder):
    ``score`` = overlap + half the chunk's overlap - 0.05 per hit rank (``cosine`` 0)."""
    out: list[Evidence] = []
    for hit in hits:
        c = hit.chunk
        chunk_cov = coverage(info, stems(c.text))
        for s in split_sentences(c.text):
            text = c.text[s.start : s.end]
            if len(text) < MIN_SENTENCE_CHARS:
                continue
            ov = coverage(info, stems(text))
            out.append(
                Evidence(
                    document_id=c.document_id,
                    doc_key=c.doc_key,
                    title=c.title,
                    source=c.source_uri,
                    license=c.license,
                    start=c.start + s.start,
                    end=c.start + s.end,
                    text=text,
                    hit_rank=hit.rank,
                    hit_score=hit.score,
                    cosine=0.0,
                    overlap=ov,
                    context_overlap=chunk_cov,
                    score=ov + 0.5 * chunk_cov - 0.05 * hit.rank,
                    chunk_start=c.start,
                    chunk_end=c.end,
                )
            )
    return out


def select_evidence(
    info: QuestionInfo,
    hits: Sequence[SearchHit],
    embedder: Embedder,
    *,
    limit: int = 8,
) -> list[Evidence]:
    """The best ``limit`` sentences of the hits, by encoder cosine + term overlap + rank."""
    # Cheap pre-ranking by overlap and hit rank; only the best go through the encoder.
    keep = sorted(hit_sentences(info, hits), key=lambda e: -e.score)[:MAX_ENCODED]
    if not keep:
        return []
    vecs = embedder.embed_batch([info.text] + [e.text for e in keep])
    cos = (vecs[1:] @ vecs[0]).astype(np.float64)
    out = [
        replace(
            e,
            cosine=float(cos[j]),
            score=0.45 * float(cos[j])
            + 0.4 * e.overlap
            + 0.15 * e.context_overlap
            - 0.02 * (e.hit_rank - 1),
        )
        for j, e in enumerate(keep)
    ]
    out.sort(key=lambda e: -e.score)
    return out[:limit]
