"""``POST /api/synthesize``: evidence for and against a claim, sources grouped by side.

The typed response mirrors :meth:`cairn.answer.synthesize.Synthesis.to_dict`: a one-line
verdict (how many independent sources stand on each side, or "Not enough evidence"), the sides
(supporting / contradicting / only mentioning), each source with its licence, the date it was
added and its quoted sentences with exact offsets and the claim check's probabilities.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from cairn.server.native_api import JSON_ONLY, ServicesDep

router = APIRouter(prefix="/api", tags=["cairn"])


class SynthesizeRequest(BaseModel):
    claim: str = Field(min_length=1, max_length=2000)
    collections: list[str] = Field(default_factory=list)
    k: int = Field(default=10, ge=1, le=50)


class Probabilities(BaseModel):
    supports: float
    contradicts: float
    neutral: float


class CitationOut(BaseModel):
    n: int
    document_id: int
    doc_key: str
    title: str | None
    source: str
    license: str | None
    start: int
    end: int
    quote: str


class EvidenceOut(BaseModel):
    label: str  # supports | contradicts | mentions
    similarity: float
    overlap: float
    reason: str
    probabilities: Probabilities | None
    citation: CitationOut


class SourceOut(BaseModel):
    source: str
    title: str | None
    doc_key: str
    license: str | None
    date: str | None  # when the source was added to the knowledge base
    verdict: str
    contradiction: float
    support: float
    evidence: list[EvidenceOut]


class Sides(BaseModel):
    supporting: list[SourceOut]
    contradicting: list[SourceOut]
    mentioning: list[SourceOut]


class SynthesisOut(BaseModel):
    claim: str
    text: str
    verdict: str
    checker: str  # "nli" (the trained claim check) or "cues" (its fallback)
    counts: dict[str, int]
    sides: Sides
    sources: list[SourceOut]


@router.post("/synthesize", dependencies=JSON_ONLY, response_model=SynthesisOut)
def synthesize_endpoint(svc: ServicesDep, body: SynthesizeRequest) -> dict[str, Any]:
    """Sources that support, contradict or only mention a claim, with a one-line verdict."""
    from cairn.answer.synthesize import synthesize

    return synthesize(svc.kb, body.claim, collections=body.collections, k=body.k).to_dict()
