"""Sentence-aware chunking that keeps character offsets into the source text.

Sentences are packed greedily into chunks of at most ``max_chars``; a chunk closes early at a
paragraph break once it holds ``min_chars``. A sentence longer than ``max_chars`` is cut at
whitespace. ``text[chunk.start:chunk.end] == chunk.text`` always holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from cairn.text.sentences import Span, split_sentences


@dataclass(frozen=True)
class ChunkSpan:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class ChunkerConfig:
    max_chars: int = 1200
    min_chars: int = 300

    def __post_init__(self) -> None:
        if not 50 <= self.max_chars <= 100_000:
            raise ValueError(f"max_chars must be in 50..100000, got {self.max_chars}")
        if not 0 <= self.min_chars <= self.max_chars:
            raise ValueError("min_chars must be in 0..max_chars")


def chunk_text(text: str, config: ChunkerConfig | None = None) -> list[ChunkSpan]:
    cfg = config or ChunkerConfig()
    pieces: list[Span] = []
    for s in split_sentences(text):
        pieces.extend(_cut_long(text, s, cfg.max_chars))
    chunks: list[ChunkSpan] = []
    start: int | None = None
    end = 0
    for piece in pieces:
        if start is None:
            start, end = piece.start, piece.end
            continue
        paragraph_break = "\n\n" in text[end : piece.start]
        too_long = piece.end - start > cfg.max_chars
        if too_long or (paragraph_break and end - start >= cfg.min_chars):
            chunks.append(ChunkSpan(start, end, text[start:end]))
            start = piece.start
        end = piece.end
    if start is not None:
        chunks.append(ChunkSpan(start, end, text[start:end]))
    return chunks


def _cut_long(text: str, span: Span, max_chars: int) -> list[Span]:
    if span.end - span.start <= max_chars:
        return [span]
    out = []
    s = span.start
    while span.end - s > max_chars:
        cut = text.rfind(" ", s + max_chars // 2, s + max_chars)
        if cut <= s:
            cut = s + max_chars
        out.append(Span(s, cut))
        s = cut
        while s < span.end and text[s].isspace():
            s += 1
    if s < span.end:
        out.append(Span(s, span.end))
    return out
