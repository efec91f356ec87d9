"""Values an answer is made of: citations that resolve to exact document offsets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from cairn.errors import CairnError


class AnswerError(CairnError):
    """A question cannot be asked as given (empty, too long, unknown collection, ...)."""


@dataclass(frozen=True)
class Citation:
    """A numbered citation: ``kb.document_text(document_id)[start:end] == quote`` always."""

    n: int
    document_id: int  # the store's document id (for ``kb.document_text``)
    doc_key: str  # stable id within the source (a JSONL ``_id`` or a path)
    title: str | None
    source: str  # absolute path or URL of the source
    license: str | None
    start: int  # character offsets into the document text
    end: int
    quote: str
    hop: int = 0  # 1 or 2 in a two-hop answer (answer/two_hop.py); 0 for a single hop

    def to_dict(self) -> dict[str, Any]:
        """The JSON view; ``hop`` only in a two-hop answer (single-hop output is unchanged)."""
        out = asdict(self)
        if not self.hop:
            del out["hop"]
        return out


@dataclass(frozen=True)
class HopLink:
    """One link of a two-hop chain: citation ``from_n`` names ``bridge``, which leads to
    citation ``to_n`` (``bridge`` is None for a comparison: two sides, no bridge)."""

    from_n: int
    bridge: str | None
    to_n: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Evidence:
    """A sentence from a search hit, scored against the question."""

    document_id: int
    doc_key: str
    title: str | None
    source: str
    license: str | None
    start: int  # offsets into the document text
    end: int
    text: str
    hit_rank: int  # rank of the search hit the sentence comes from (1-based)
    hit_score: float
    cosine: float  # encoder cosine question <-> sentence
    overlap: float  # weighted share of the question's key terms found in the sentence
    context_overlap: float  # the same over the sentence's whole chunk
    score: float  # combined ranking score
    chunk_start: int = 0
    chunk_end: int = 0


@dataclass(frozen=True)
class Candidate:
    """A possible answer: a sentence, the short span copied from it, and its support."""

    evidence: Evidence
    span: str | None  # verbatim substring of evidence.text
    span_label: str | None
    span_start: int | None  # offsets into the document text
    span_end: int | None
    support: float  # verifier probability that the sentence answers the question
    features: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        e = self.evidence
        return {
            "doc_key": e.doc_key,
            "title": e.title,
            "start": e.start,
            "end": e.end,
            "sentence": e.text,
            "span": self.span,
            "span_label": self.span_label,
            "support": round(self.support, 4),
            "features": {k: round(v, 4) for k, v in self.features.items()},
        }


@dataclass(frozen=True)
class SentenceCheck:
    """A generated sentence and the verdict of the support check against what it cites."""

    text: str
    cites: tuple[int, ...]  # source numbers as given to the model (1-based)
    passed: bool
    reason: str  # "verbatim", "supported", or why it was dropped
    cosine: float = 0.0  # best encoder cosine sentence <-> cited evidence

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "cites": list(self.cites),
            "passed": self.passed,
            "reason": self.reason,
            "cosine": round(self.cosine, 4),
        }


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # what the user reads; every sentence is a verbatim quote or passed the check
    short_answer: str | None
    abstained: bool
    citations: tuple[Citation, ...]
    support: float = 0.0
    threshold: float = 0.0
    reason: str = ""  # why it abstained, or why generation fell back ("" when all went well)
    candidates: tuple[Candidate, ...] = ()  # filled when explain=True
    mode: str = "extractive"  # or "generative": sentences phrased by an LLM, each checked
    dropped: tuple[str, ...] = ()  # generated sentences that failed the support check
    checks: tuple[SentenceCheck, ...] = ()  # every generated sentence with its verdict
    decided_by: str = ""  # which reader and support model decided (cairn.answer.adapted)
    chain: tuple[HopLink, ...] = ()  # a two-hop answer: how its citations link

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "text": self.text,
            "short_answer": self.short_answer,
            "abstained": self.abstained,
            "reason": self.reason,
            "support": round(self.support, 4),
            "threshold": round(self.threshold, 4),
            "mode": self.mode,
            "citations": [c.to_dict() for c in self.citations],
            "candidates": [c.to_dict() for c in self.candidates],
            "dropped": list(self.dropped),
            "checks": [c.to_dict() for c in self.checks],
            "decided_by": self.decided_by,
            "chain": [link.to_dict() for link in self.chain],
        }
