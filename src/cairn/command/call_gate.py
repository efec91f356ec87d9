"""Whether any registered operation fits a request: a logistic model over the fast path's scores.

The fast path (:mod:`cairn.command.schema_match`) scores every operation on what its schema
says. A single cut on the best score separates requests an operation fits from those none fits
poorly when the operations are many and alike (BFCL's live categories: AUC 0.86 on the design
ids). This gate reads more of the candidates' evidence (how far ahead the best one is, how much
of its schema the request filled, whether it was named outright, how long the request is) and
gives the probability that an operation fits. Below :attr:`CallGate.cut` no operation fits and
the request goes to the other intents; above it the best operation is called, or a question
names its missing required parameter.

Every feature is computed from the schema and the request alone (no API-specific word lists),
so the gate carries to any OpenAPI document. The weights ship in ``call_gate.json``, fitted by
``python -m cairn_eval.call_gate_fit`` on BFCL's even (design) ids and on Cairn's own design
requests; the odd ids are what BENCHMARKS.md reports.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from cairn.models.packaged import packaged_path

if TYPE_CHECKING:
    from cairn.command.schema_match import Candidate

WEIGHTS_PATH = packaged_path("call_gate.json")

FEATURES: tuple[str, ...] = (
    "score",  # the fast path's weighted score of the best operation
    "meaning",  # its cosine with the request
    "name",  # share of its name's words in the request (capped at 1)
    "named",  # its name written out in the request ("call getStockPrices ...")
    "words",  # share of the request's content words in its lexicon
    "lead",  # its score minus the runner-up's (0 with one operation)
    "meaning_lead",  # its cosine minus the runner-up's (0 with one operation)
    "log_operations",  # how many operations compete
    "required",  # how many required parameters it has
    "no_required",  # it has none (anything "fills" it)
    "filled_share",  # values found / parameters it has
    "typed_share",  # required values read from enum words or dates / required (0 with none)
    "missing",  # some required value was not found
    "loss",  # what its values lose of the request (a range put into one date)
    "log_words",  # how long the request is
    "filled",  # how many values were found for it
    "alone",  # it is the only operation (nothing to lead)
)


def features(cands: Sequence[Candidate], text: str) -> dict[str, float]:
    """The gate's inputs for one request from its scored candidates (best first)."""
    best = cands[0]
    second = cands[1] if len(cands) > 1 else None
    n_req = len(best.op.required)
    filled = best.filled
    return {
        "score": best.score,
        "meaning": best.meaning,
        "name": min(best.name, 1.0),
        "named": float(best.name > 1.0),
        "words": best.words,
        # with one operation there is no runner-up to lead (0, not the whole score)
        "lead": best.score - second.score if second else 0.0,
        "meaning_lead": best.meaning - second.meaning if second else 0.0,
        "log_operations": math.log(len(cands)),
        "required": float(n_req),
        "no_required": float(n_req == 0),
        "filled_share": len(filled.values) / max(1, len(best.op.params)),
        "typed_share": (
            sum(1 for p in best.op.required if p.name in filled.typed) / n_req if n_req else 0.0
        ),
        "missing": float(bool(filled.missing)),
        "loss": filled.loss,
        "log_words": math.log(len(text.split()) + 1),
        "filled": float(len(filled.values)),
        "alone": float(second is None),
    }


@dataclass(frozen=True)
class CallGate:
    """Logistic weights over :data:`FEATURES` and the probability cut above which to call."""

    weights: Mapping[str, float]
    bias: float
    cut: float
    note: str = ""

    def probability(self, cands: Sequence[Candidate], text: str) -> float:
        if not cands:
            return 0.0
        f = features(cands, text)
        z = self.bias + sum(self.weights.get(k, 0.0) * v for k, v in f.items())
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def to_json(self) -> str:
        return json.dumps(
            {
                "features": list(FEATURES),
                "weights": {k: round(float(self.weights.get(k, 0.0)), 6) for k in FEATURES},
                "bias": round(self.bias, 6),
                "cut": round(self.cut, 4),
                "note": self.note,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> CallGate:
        data = json.loads(text)
        unknown = set(data["weights"]) - set(FEATURES)
        if unknown:
            raise ValueError(f"call gate weights name unknown features: {sorted(unknown)}")
        return cls(
            {k: float(v) for k, v in data["weights"].items()},
            float(data["bias"]),
            float(data["cut"]),
            str(data.get("note", "")),
        )


@lru_cache(maxsize=1)
def packaged_gate() -> CallGate | None:
    """The shipped gate; ``None`` before it is fitted (the fast path then uses its score cut)."""
    if not WEIGHTS_PATH.is_file():
        return None
    return CallGate.from_json(WEIGHTS_PATH.read_text(encoding="utf-8"))
