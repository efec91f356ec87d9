"""The support check: does a cited sentence answer the question?

Support is a small logistic model over neural and symbolic signals (see docs/grounding.md):
the answer-sentence reader's logit (a cross-encoder Cairn fine-tuned from MiniLM, see
``reader.py``), encoder cosine between question and sentence, how much of the question's key
terms (names and numbers weigh more) the sentence and its chunk cover, whether a span of the
expected answer type was found, and whether that span is new (not already in the question).
Weights and the threshold are fitted on SQuAD 2.0 articles disjoint from the ones reported
and from the reader's training articles (``cairn_eval.qa``) and stored in ``verifier.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from cairn.answer.question import QuestionInfo, stems
from cairn.answer.types import Evidence
from cairn.models.packaged import packaged_path

WEIGHTS_PATH = packaged_path("verifier.json")
_NEG = frozenset({"not", "never", "no", "none", "nobody", "nothing", "neither", "nor", "n't"})

FEATURES = (
    "cosine",
    "overlap",
    "context_overlap",
    "missing_key",
    "type_fit",
    "has_span",
    "top_hit",
    "margin",
    "negation_mismatch",
    "typed",
    "n_terms",
    "any_missing",
    "overlap_x_cosine",
    "reader",
)
READER_CLIP = 8.0  # the reader's logit enters the support model clipped to +-8


def features(
    info: QuestionInfo,
    ev: Evidence,
    chunk_text: str,
    type_fit: float,
    has_span: bool,
    others: Sequence[Evidence],
    reader_logit: float = 0.0,
) -> dict[str, float]:
    chunk_stems = stems(chunk_text)
    missing_key = any(t.weight > 1.0 and t.stem not in chunk_stems for t in info.terms)
    rival = max((o.score for o in others if o.document_id != ev.document_id), default=0.0)
    sent_words = {w.lower() for w in ev.text.split()}
    return {
        "cosine": ev.cosine,
        "overlap": ev.overlap,
        "context_overlap": ev.context_overlap,
        "missing_key": 1.0 if missing_key else 0.0,
        "type_fit": type_fit,
        "has_span": 1.0 if has_span else 0.0,
        "top_hit": 1.0 if ev.hit_rank == 1 else 0.0,
        "margin": max(-0.5, min(0.5, ev.score - rival)),
        "negation_mismatch": 1.0 if info.negated and not (_NEG & sent_words) else 0.0,
        "typed": 1.0 if info.labels else 0.0,
        "n_terms": min(len(info.terms), 10) / 10.0,
        "any_missing": 1.0 if any(t.stem not in chunk_stems for t in info.terms) else 0.0,
        "overlap_x_cosine": ev.overlap * ev.cosine,
        "reader": max(-READER_CLIP, min(READER_CLIP, reader_logit)) / READER_CLIP,
    }


@dataclass(frozen=True)
class SupportModel:
    weights: Mapping[str, float]
    bias: float
    threshold: float  # answer when support >= threshold
    note: str = ""

    def score(self, feats: Mapping[str, float]) -> float:
        z = self.bias + sum(self.weights.get(k, 0.0) * v for k, v in feats.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_json(self) -> str:
        return json.dumps(
            {
                "features": list(FEATURES),
                "weights": {k: round(float(self.weights.get(k, 0.0)), 6) for k in FEATURES},
                "bias": round(self.bias, 6),
                "threshold": round(self.threshold, 4),
                "note": self.note,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> SupportModel:
        d = json.loads(text)
        return cls(
            {k: float(v) for k, v in d["weights"].items()},
            float(d["bias"]),
            float(d["threshold"]),
            str(d.get("note", "")),
        )


# Hand-set weights used only when verifier.json is missing.
_FALLBACK = SupportModel(
    {
        "cosine": 3.0,
        "overlap": 4.0,
        "context_overlap": 1.0,
        "missing_key": -2.0,
        "type_fit": 1.0,
        "has_span": 0.5,
        "top_hit": 0.5,
        "margin": 2.0,
        "negation_mismatch": -1.0,
    },
    bias=-5.0,
    threshold=0.5,
    note="hand-set fallback",
)


@lru_cache(maxsize=1)
def default_model() -> SupportModel:
    if WEIGHTS_PATH.is_file():
        return SupportModel.from_json(WEIGHTS_PATH.read_text(encoding="utf-8"))
    return _FALLBACK
