"""``synthesize``: evidence for and against a claim across the collection, grouped per source.

Each relevant sentence is labelled by rule, not by a model:

* ``contradicts``: the sentence is about the same thing (high term overlap) but flips the
  claim's polarity (a negation cue on one side only), uses an antonym of a claim word
  (rise/fall, more/less, ...), or states a different number where the claim states one;
* ``supports``: high term overlap and encoder similarity, and no contradiction cue;
* ``mentions``: relevant, but neither of the above.

Every item carries a citation whose offsets resolve exactly into the document text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cairn.answer.ask import check_collections, citation
from cairn.answer.evidence import select_evidence
from cairn.answer.question import analyse, stems
from cairn.answer.types import Citation, Evidence
from cairn.knowledge import KnowledgeBase

_NEG = frozenset({"not", "never", "no", "none", "nobody", "nothing", "neither", "nor", "without"})
_NUM = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")
_ANTONYMS = (
    ("increase", "decrease"),
    ("rise", "fall"),
    ("more", "less"),
    ("more", "fewer"),
    ("higher", "lower"),
    ("larger", "smaller"),
    ("bigger", "smaller"),
    ("before", "after"),
    ("win", "lose"),
    ("won", "lost"),
    ("true", "false"),
    ("allow", "forbid"),
    ("allowed", "banned"),
    ("accept", "reject"),
    ("accepted", "rejected"),
    ("first", "last"),
    ("success", "failure"),
    ("safe", "dangerous"),
    ("above", "below"),
    ("gain", "loss"),
    ("support", "oppose"),
    ("always", "never"),
    ("increased", "decreased"),
    ("rose", "fell"),
)
RELEVANT_OVERLAP = 0.3
SUPPORT_OVERLAP = 0.6
SUPPORT_COSINE = 0.5


class Label(StrEnum):
    supports = "supports"
    contradicts = "contradicts"
    mentions = "mentions"


@dataclass(frozen=True)
class ClaimEvidence:
    label: Label
    citation: Citation
    similarity: float
    overlap: float
    reason: str


@dataclass(frozen=True)
class SourceGroup:
    source: str
    title: str | None
    doc_key: str
    items: tuple[ClaimEvidence, ...]


@dataclass(frozen=True)
class Synthesis:
    claim: str
    text: str
    counts: dict[str, int]
    groups: tuple[SourceGroup, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim": self.claim,
            "text": self.text,
            "counts": self.counts,
            "sources": [
                {
                    "source": g.source,
                    "title": g.title,
                    "doc_key": g.doc_key,
                    "evidence": [
                        {
                            "label": i.label.value,
                            "similarity": round(i.similarity, 4),
                            "overlap": round(i.overlap, 4),
                            "reason": i.reason,
                            "citation": i.citation.to_dict(),
                        }
                        for i in g.items
                    ],
                }
                for g in self.groups
            ],
        }


def _lower_words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"\w+(?:'t)?", text)}


def label_sentence(claim: str, ev: Evidence) -> tuple[Label, str]:
    cw, sw = _lower_words(claim), _lower_words(ev.text)
    if ev.overlap >= RELEVANT_OVERLAP + 0.2:
        c_neg = bool(cw & _NEG) or any(w.endswith("n't") for w in cw)
        s_neg = bool(sw & _NEG) or any(w.endswith("n't") for w in sw)
        if c_neg != s_neg:
            return Label.contradicts, "negation on one side only"
        for a, b in _ANTONYMS:
            for x, y in ((a, b), (b, a)):
                if x in cw and y in sw and x not in sw:
                    return Label.contradicts, f"antonym: claim says {x!r}, source says {y!r}"
        c_nums = {n.replace(",", "") for n in _NUM.findall(claim)}
        s_nums = {n.replace(",", "") for n in _NUM.findall(ev.text)}
        c_only, s_only = c_nums - s_nums, s_nums - c_nums
        if c_only and s_only:
            return Label.contradicts, (
                f"different number: claim {sorted(c_only)}, source {sorted(s_only)}"
            )
    if ev.overlap >= SUPPORT_OVERLAP and ev.cosine >= SUPPORT_COSINE:
        return Label.supports, "same terms and meaning, no contradiction cue"
    return Label.mentions, "related, but does not state the claim"


def synthesize(
    kb: KnowledgeBase,
    claim: str,
    *,
    collections: Sequence[str] = (),
    k: int = 10,
    limit: int = 12,
) -> Synthesis:
    info = analyse(claim)
    check_collections(kb, collections)
    counts = {lab.value: 0 for lab in Label}
    if kb.stats().chunks == 0:
        return Synthesis(info.text, "The knowledge base is empty: nothing to weigh.", counts, ())
    hits = kb.search(info.text, k=k, collections=collections)
    evidence = select_evidence(info, hits, kb.embedder, limit=limit) if hits else []
    relevant = [e for e in evidence if e.overlap >= RELEVANT_OVERLAP]
    claim_stems = stems(info.text)
    groups: dict[int, list[ClaimEvidence]] = {}
    meta: dict[int, Evidence] = {}
    for n, ev in enumerate(relevant if claim_stems else [], start=1):
        label, reason = label_sentence(info.text, ev)
        counts[label.value] += 1
        groups.setdefault(ev.document_id, []).append(
            ClaimEvidence(label, citation(n, ev), ev.cosine, ev.overlap, reason)
        )
        meta.setdefault(ev.document_id, ev)
    out = tuple(
        SourceGroup(meta[d].source, meta[d].title, meta[d].doc_key, tuple(items))
        for d, items in groups.items()
    )
    return Synthesis(info.text, _render(info.text, counts, out), counts, out)


def _render(claim: str, counts: dict[str, int], groups: Sequence[SourceGroup]) -> str:
    if not groups:
        return f"Claim: {claim}\nThe sources say nothing about this claim."
    lines = [
        f"Claim: {claim}",
        f"{counts['supports']} supporting, {counts['contradicts']} contradicting, "
        f"{counts['mentions']} only mentioning, across {len(groups)} sources.",
    ]
    for g in groups:
        lines.append(f"{g.title or g.doc_key} ({g.source}):")
        for i in g.items:
            c = i.citation
            lines.append(
                f"  [{c.n}] {i.label.value}: \u201c{c.quote}\u201d (chars {c.start}-{c.end})"
            )
    return "\n".join(lines)
