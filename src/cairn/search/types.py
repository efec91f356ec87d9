"""What a search returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from cairn.kb.types import ChunkRecord


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


@dataclass(frozen=True)
class SearchFilters:
    collections: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()  # SPDX ids; a chunk matches when its source's licence is one
    consent: tuple[str, ...] = ()  # e.g. ("granted", "unknown") to exclude refused sources
