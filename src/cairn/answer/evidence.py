"""Sentence-level evidence: split the top search hits into sentences and score each one."""

from __future__ import annotations

from collections.abc import Sequence

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


def select_evidence(
    info: QuestionInfo,
    hits: Sequence[SearchHit],
    embedder: Embedder,
    *,
    limit: int = 8,
) -> list[Evidence]:
    """The best ``limit`` sentences of the hits, by encoder cosine + term overlap + rank."""
    rows: list[tuple[SearchHit, int, int, str, float, float]] = []
    for hit in hits:
        c = hit.chunk
        chunk_cov = coverage(info, stems(c.text))
        for s in split_sentences(c.text):
            text = c.text[s.start : s.end]
            if len(text) < MIN_SENTENCE_CHARS:
                continue
            rows.append(
                (
                    hit,
                    c.start + s.start,
                    c.start + s.end,
                    text,
                    coverage(info, stems(text)),
                    chunk_cov,
                )
            )
    if not rows:
        return []
    # Cheap pre-ranking by overlap and hit rank; only the best go through the encoder.
    pre = sorted(
        range(len(rows)), key=lambda i: -(rows[i][4] + 0.5 * rows[i][5] - 0.05 * rows[i][0].rank)
    )
    keep = pre[:MAX_ENCODED]
    vecs = embedder.embed_batch([info.text] + [rows[i][3] for i in keep])
    cos = (vecs[1:] @ vecs[0]).astype(np.float64)
    out: list[Evidence] = []
    for j, i in enumerate(keep):
        hit, start, end, text, ov, cov = rows[i]
        c = hit.chunk
        score = 0.45 * float(cos[j]) + 0.4 * ov + 0.15 * cov - 0.02 * (hit.rank - 1)
        out.append(
            Evidence(
                document_id=c.document_id,
                doc_key=c.doc_key,
                title=c.title,
                source=c.source_uri,
                license=c.license,
                start=start,
                end=end,
                text=text,
                hit_rank=hit.rank,
                hit_score=hit.score,
                cosine=float(cos[j]),
                overlap=ov,
                context_overlap=cov,
                score=score,
                chunk_start=c.start,
                chunk_end=c.end,
            )
        )
    out.sort(key=lambda e: -e.score)
    return out[:limit]
