"""The claim check: does this sentence support, contradict, or only mention the claim?

A cross-encoder with a three-way head: the claim and an evidence sentence are read together by
a 6-layer MiniLM (all-MiniLM-L6-v2's weights, fine-tuned by Cairn on SciFact claims_train
rationales, the fit part of Climate-FEVER and synthetic contradictions: negation, antonym,
changed number, swapped roles, swapped entity; see ``cairn_eval.nli_train``). Because it reads
both at once it tells "the Mongols defeated the Tran" from "the Tran defeated the Mongols",
which word overlap cannot.

The weights ship inside the package (``nli.onnx``, int8-stored matrices, sha256 checked before
use) and run on onnxruntime like the reader (the same loader, ``Reader``): no PyTorch, no
network. Loaded lazily on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Protocol

import numpy as np

from cairn.answer.reader import Reader
from cairn.models.packaged import packaged_path, recorded_sha256

NLI_PATH = packaged_path("nli.onnx")
NLI_SHA256 = recorded_sha256("nli.onnx") or ""
LABELS = ("supports", "contradicts", "neutral")
ENTAILED = 0.5  # P(supports) a generated sentence needs from what it cites


@dataclass(frozen=True)
class Judgement:
    """Probabilities of the three labels for one (claim, sentence) pair."""

    supports: float
    contradicts: float
    neutral: float

    @property
    def label(self) -> str:
        probs = (self.supports, self.contradicts, self.neutral)
        return LABELS[int(np.argmax(probs))]


class ClaimChecker(Protocol):
    """Judges each sentence against the claim (the real model, or a fake in unit tests)."""

    def judge(self, claim: str, sentences: Sequence[str]) -> list[Judgement]: ...


class NliModel(Reader):
    """An exported three-way checker (``cairn_eval.nli_train``) on onnxruntime."""

    def probabilities3(self, claim: str, sentences: Sequence[str]) -> np.ndarray:
        """(n, 3) probabilities in ``LABELS`` order."""
        if not sentences:
            return np.zeros((0, 3), dtype=np.float32)
        z = self.logits(claim, sentences).reshape(len(sentences), len(LABELS))
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float32)

    def judge(self, claim: str, sentences: Sequence[str]) -> list[Judgement]:
        return [Judgement(*map(float, row)) for row in self.probabilities3(claim, sentences)]


@lru_cache(maxsize=1)
def packaged_checker() -> NliModel | None:
    """The checker shipped with Cairn, or None when its file is absent."""
    if not NLI_PATH.is_file():
        return None
    return NliModel(NLI_PATH, expected_sha256=NLI_SHA256 or None)


CheckerArg = ClaimChecker | Literal["packaged"] | None


def resolve_checker(checker: CheckerArg) -> ClaimChecker | None:
    """``"packaged"``: the shipped claim check (None when its file is absent)."""
    return packaged_checker() if checker == "packaged" else checker


def entailment(checker: ClaimChecker, text: str, premises: Sequence[str]) -> tuple[bool, str]:
    """Is ``text`` entailed by one of ``premises``? (passed, reason). Fails when a premise
    contradicts it or none supports it with P >= ``ENTAILED``."""
    js = checker.judge(text, premises)
    if not js:
        return False, "no cited text to check against"
    con = max(js, key=lambda j: j.contradicts)
    sup = max(js, key=lambda j: j.supports)
    if con.contradicts >= ENTAILED and con.contradicts > sup.supports:
        return False, f"contradicted by the cited evidence (claim check P = {con.contradicts:.2f})"
    if sup.supports < ENTAILED:
        return False, f"not entailed by the cited evidence (claim check P = {sup.supports:.2f})"
    return True, f"entailed (claim check P = {sup.supports:.2f})"
