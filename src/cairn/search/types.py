"""What a search returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from cairn.kb.types import ChunkRecord, SearchFilters

__all__ = ["Mode", "SearchFilters", "SearchHit"]  # SearchFilters lives in cairn.kb.types


class Mode(StrEnum):
    keyword = "keyword"
    dense = "dense"
    hybrid = "hybrid"


@dataclass(frozen=True)
class SearchHit:
    chunk: ChunkRecord
    score: float
    rank: int  # 1-based
    signals: dict[str, float] = field(
        default_factory=dict
    )  # per-signal score: keyword, dense, graph
    highlight: tuple[int, int] | None = None  # best matching sentence, offsets into the document

    def to_dict(self, document_text: Callable[[int], str]) -> dict[str, object]:
        """The JSON view of a hit (``cairn search --json``, ``GET /api/search``).

        The highlight lies inside its chunk, and a chunk's text is the document's text between
        its offsets, so the highlight is cut from the chunk: ``document_text(document_id)`` is
        read only if it does not (not expected).
        """
        c = self.chunk
        start, end = self.highlight or (c.start, c.end)
        if c.start <= start <= end <= c.end:
            quote = c.text[start - c.start : end - c.start]
        else:
            quote = document_text(c.document_id)[start:end]
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "document_id": c.doc_key,
            "title": c.title,
            "source": c.source_uri,
            "source_id": c.source_id,
            "collection": c.collection,
            "license": c.license,
            "chunk": {"start": c.start, "end": c.end},
            "highlight": {"start": start, "end": end, "text": quote},
            "signals": {k: round(v, 6) for k, v in self.signals.items()},
        }
