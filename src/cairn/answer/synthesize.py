"""``synthesize``: evidence for and against a claim across the collection, grouped per source.

Each relevant sentence is labelled by the claim check (``cairn.answer.nli``: a MiniLM
cross-encoder fine-tuned to say supports / contradicts / neutral for a claim and a sentence),
read together with the claim, no generative model involved. A source's verdict is its strongest
judgement: ``contradicts`` when some sentence contradicts the claim with P >= 0.5 and more
strongly than any of its sentences supports it, ``supports`` likewise, else ``mentions``.

When the checker's file is absent (or ``checker=None``), the earlier cue model decides:

* ``contradicts``: a small logistic model (``contradiction.json``, 15 weights, fitted on the
  SciFact *train* claims by ``python -m cairn_eval.claims --fit --save-weights``) over cues of
  the claim and the sentence finds a contradiction likely: a negation or "no effect" statement
  on one side only, opposite directions ("increases" vs "reduces", "higher" vs "lower", ...),
  a different number; or, for a sentence that restates the claim almost word for word, one of
  those cues alone (negation on one side only, an antonym, a different number);
* ``supports``: high term overlap and encoder similarity, and no contradiction;
* ``mentions``: relevant, but neither of the above.

Each source also gets a verdict (:func:`verdict`): its most relevant sentences, weighed
together, support or contradict the claim. Every item carries a citation whose offsets
resolve exactly into the document text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from cairn.answer.ask import check_collections, citation
from cairn.answer.evidence import select_evidence
from cairn.answer.nli import CheckerArg, Judgement, resolve_checker
from cairn.answer.question import analyse, stems
from cairn.answer.types import Citation, Evidence
from cairn.knowledge import KnowledgeBase
from cairn.models.packaged import packaged_path

_NEG = frozenset(
    {
        "not",
        "never",
        "no",
        "none",
        "nobody",
        "nothing",
        "neither",
        "nor",
        "without",
        "cannot",
        "lack",
        "lacks",
        "absence",
        "absent",
        "fail",
        "fails",
        "failed",
        "unable",
    }
)
# "no significant effect", "not associated with", "unchanged": the claim or sentence says
# there is no effect (a negation of the effect, whatever the direction).
_NULL = re.compile(
    r"\b(?:no|not|nor)\b[\w\s-]{0,25}?\b(?:significant\w*|effects?|differences?|associat\w*|"
    r"correlat\w*|changes?|impact|influence|evidence|benefit|increase\w*|decrease\w*|"
    r"affect\w*|alter\w*)\b|\bunchanged\b|\bunaffected\b|\bindependent of\b|\bsimilar\b|"
    r"\bcomparable\b|\bfail\w*\b|n't\b"
)
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z]+)*")
_NUM = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")
# Word beginnings that say something goes up / goes down.
_UP = (
    "increas", "elevat", "enhanc", "promot", "induc", "activat", "stimulat", "upregulat",
    "up-regulat", "rais", "higher", "greater", "more", "improv", "acceler", "augment", "boost",
    "amplif", "potentiat", "exacerbat", "gain", "rise", "rose", "risen", "worsen", "facilitat",
    "larger", "longer", "positive", "strengthen", "expand", "benefi",
)  # fmt: skip
_DOWN = (
    "decreas", "reduc", "lower", "less", "fewer", "inhibit", "suppress", "attenuat", "diminish",
    "impair", "block", "prevent", "downregulat", "down-regulat", "declin", "drop", "fall",
    "fell", "loss", "lose", "abolish", "abrogat", "negative", "imped", "slow", "deplet", "limit",
    "restrict", "repress", "weaken", "delay", "shorter", "smaller", "protect", "harm",
)  # fmt: skip
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
CHECK_DECIDES = 0.5  # a checker probability a sentence (or source) needs to take a side
RESTATES_OVERLAP = 0.9  # a sentence holding this share of the claim's terms restates it
NUMBER_OVERLAP = 0.5  # ... or this share, when it states another number than the claim
SUPPORT_OVERLAP = 0.6
SUPPORT_COSINE = 0.5
VERDICT_SENTENCES = 3  # most relevant sentences of a source weighed for its verdict
WEIGHTS_PATH = packaged_path("contradiction.json")
CONTRADICTION_FEATURES = (
    "claim_neg",
    "sentence_neg",
    "neg_xor",
    "claim_neg_only",
    "sentence_neg_only",
    "dir_conflict",
    "dir_agree",
    "effect_conflict",
    "effect_agree",
    "num_conflict",
    "cosine",
    "overlap",
    "neg_xor_x_overlap",
    "dir_conflict_x_overlap",
    "num_conflict_x_overlap",
)


@dataclass(frozen=True)
class ContradictionModel:
    """P(the sentence contradicts the claim | it is relevant), logistic over the cues."""

    weights: Mapping[str, float]
    bias: float
    threshold: float  # a sentence contradicts when P >= threshold
    doc_threshold: float  # a source contradicts when the mean P of its best sentences >= this
    note: str = ""

    def score(self, feats: Mapping[str, float]) -> float:
        z = self.bias + sum(self.weights.get(k, 0.0) * v for k, v in feats.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_json(self) -> str:
        return json.dumps(
            {
                "features": list(CONTRADICTION_FEATURES),
                "weights": {
                    k: round(float(self.weights.get(k, 0.0)), 6) for k in CONTRADICTION_FEATURES
                },
                "bias": round(self.bias, 6),
                "threshold": round(self.threshold, 4),
                "doc_threshold": round(self.doc_threshold, 4),
                "note": self.note,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> ContradictionModel:
        d = json.loads(text)
        return cls(
            {k: float(v) for k, v in d["weights"].items()},
            float(d["bias"]),
            float(d["threshold"]),
            float(d.get("doc_threshold", d["threshold"])),
            str(d.get("note", "")),
        )


# Hand-set weights used only when contradiction.json is missing.
_FALLBACK = ContradictionModel(
    {"claim_neg_only": 1.0, "neg_xor_x_overlap": 1.0, "dir_conflict": 1.0, "effect_conflict": 0.5},
    -1.0,
    0.5,
    0.5,
    "hand-set fallback",
)


@lru_cache(maxsize=1)
def default_contradiction_model() -> ContradictionModel:
    if WEIGHTS_PATH.is_file():
        return ContradictionModel.from_json(WEIGHTS_PATH.read_text(encoding="utf-8"))
    return _FALLBACK


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def negated(text: str) -> bool:
    """A negation or a "no effect" statement ("not", "no significant", "unchanged", ...)."""
    return bool(set(_tokens(text)) & _NEG) or bool(_NULL.search(text.lower()))


def direction(text: str) -> int:
    """+1 when the text says something goes up, -1 down, 0 neither (or both equally)."""
    toks = _tokens(text)
    up = sum(any(w.startswith(p) for p in _UP) for w in toks)
    down = sum(any(w.startswith(p) for p in _DOWN) for w in toks)
    return (up > down) - (down > up)


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUM.findall(text)}


def contradiction_features(
    claim: str, sentence: str, cosine: float, overlap: float
) -> dict[str, float]:
    """The cues :class:`ContradictionModel` weighs (names in ``CONTRADICTION_FEATURES``)."""
    cn, sn = negated(claim), negated(sentence)
    cd, sd = direction(claim), direction(sentence)
    ce, se = cd * (-1 if cn else 1), sd * (-1 if sn else 1)
    cnum, snum = _numbers(claim), _numbers(sentence)
    num = float(bool(cnum - snum) and bool(snum - cnum))
    xor = float(cn != sn)
    conflict = float(cd * sd < 0)
    return {
        "claim_neg": float(cn),
        "sentence_neg": float(sn),
        "neg_xor": xor,
        "claim_neg_only": float(cn and not sn),
        "sentence_neg_only": float(sn and not cn),
        "dir_conflict": conflict,
        "dir_agree": float(cd * sd > 0),
        "effect_conflict": float(ce * se < 0),
        "effect_agree": float(ce * se > 0),
        "num_conflict": num,
        "cosine": cosine,
        "overlap": overlap,
        "neg_xor_x_overlap": xor * overlap,
        "dir_conflict_x_overlap": conflict * overlap,
        "num_conflict_x_overlap": num * overlap,
    }


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
    judgement: Judgement | None = None  # the claim check's probabilities, when it ran


@dataclass(frozen=True)
class SourceGroup:
    source: str
    title: str | None
    doc_key: str
    items: tuple[ClaimEvidence, ...]
    verdict: Label = Label.mentions  # what the source's best sentences, weighed together, say
    contradiction: float = 0.0  # P(contradicts): the checker's best, or the cue model's mean
    support: float = 0.0  # the checker's best P(supports) over the source's sentences
    license: str | None = None
    date: str | None = None  # when the source was added to the knowledge base (YYYY-MM-DD)


SIDES: tuple[tuple[str, Label], ...] = (
    ("supporting", Label.supports),
    ("contradicting", Label.contradicts),
    ("mentioning", Label.mentions),
)


@dataclass(frozen=True)
class Synthesis:
    claim: str
    text: str
    counts: dict[str, int]  # sentences per label
    groups: tuple[SourceGroup, ...]
    verdict: str = ""  # one line: how many independent sources stand on each side
    checker: str = "cues"  # "nli" when the claim check labelled the sentences

    def side(self, label: Label) -> tuple[SourceGroup, ...]:
        """The sources whose verdict is ``label`` (independent ones: one per title)."""
        return tuple(g for g in independent(self.groups) if g.verdict is label)

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim": self.claim,
            "text": self.text,
            "verdict": self.verdict,
            "checker": self.checker,
            "counts": self.counts,
            "sides": {name: [_group_dict(g) for g in self.side(label)] for name, label in SIDES},
            "sources": [_group_dict(g) for g in self.groups],
        }


def _group_dict(g: SourceGroup) -> dict[str, Any]:
    return {
        "source": g.source,
        "title": g.title,
        "doc_key": g.doc_key,
        "license": g.license,
        "date": g.date,
        "verdict": g.verdict.value,
        "contradiction": round(g.contradiction, 4),
        "support": round(g.support, 4),
        "evidence": [
            {
                "label": i.label.value,
                "similarity": round(i.similarity, 4),
                "overlap": round(i.overlap, 4),
                "reason": i.reason,
                "probabilities": (
                    {
                        "supports": round(i.judgement.supports, 4),
                        "contradicts": round(i.judgement.contradicts, 4),
                        "neutral": round(i.judgement.neutral, 4),
                    }
                    if i.judgement
                    else None
                ),
                "citation": i.citation.to_dict(),
            }
            for i in g.items
        ],
    }


def independent(groups: Sequence[SourceGroup]) -> list[SourceGroup]:
    """One group per work: documents sharing a (normalised) title count once."""
    seen: set[str] = set()
    out = []
    for g in groups:
        key = " ".join((g.title or f"{g.source}#{g.doc_key}").lower().split())
        if key not in seen:
            seen.add(key)
            out.append(g)
    return out


def _explicit_cue(claim: str, ev: Evidence) -> str:
    """Why a sentence that restates the claim contradicts it ("" when nothing flips).

    A restatement holds ``RESTATES_OVERLAP`` of the claim's key terms; for a different
    number, whose absence itself lowers the overlap, ``NUMBER_OVERLAP`` and
    ``SUPPORT_COSINE`` suffice."""
    sentence = ev.text
    if ev.overlap >= RESTATES_OVERLAP:
        if negated(claim) != negated(sentence):
            return "negation on one side only"
        cw, sw = set(_tokens(claim)), set(_tokens(sentence))
        for a, b in _ANTONYMS:
            for x, y in ((a, b), (b, a)):
                if x in cw and y in sw and x not in sw:
                    return f"antonym: claim says {x!r}, source says {y!r}"
    if ev.overlap >= NUMBER_OVERLAP and ev.cosine >= SUPPORT_COSINE:
        c_only = _numbers(claim) - _numbers(sentence)
        s_only = _numbers(sentence) - _numbers(claim)
        if c_only and s_only:
            return f"different number: claim {sorted(c_only)}, source {sorted(s_only)}"
    return ""


def _cue_reason(feats: Mapping[str, float], p: float) -> str:
    cues = [
        name
        for key, name in (
            ("claim_neg_only", "the claim is negated, the source is not"),
            ("sentence_neg_only", "the source is negated (or says no effect), the claim is not"),
            ("dir_conflict", "opposite directions (up vs down)"),
            ("effect_conflict", "opposite effects once negation is counted"),
            ("num_conflict", "different numbers"),
        )
        if feats.get(key)
    ]
    return f"contradiction cues ({'; '.join(cues) or 'overall'}), P = {p:.2f}"


def contradiction_score(
    claim: str, ev: Evidence, model: ContradictionModel | None = None
) -> tuple[float, dict[str, float]]:
    feats = contradiction_features(claim, ev.text, ev.cosine, ev.overlap)
    return (model or default_contradiction_model()).score(feats), feats


def label_sentence(
    claim: str, ev: Evidence, model: ContradictionModel | None = None
) -> tuple[Label, str]:
    """Label one evidence sentence against the claim, with the reason."""
    cue = _explicit_cue(claim, ev)
    if cue:
        return Label.contradicts, cue
    if ev.overlap >= RELEVANT_OVERLAP:
        m = model or default_contradiction_model()
        p, feats = contradiction_score(claim, ev, m)
        if p >= m.threshold:
            return Label.contradicts, _cue_reason(feats, p)
    if ev.overlap >= SUPPORT_OVERLAP and ev.cosine >= SUPPORT_COSINE:
        return Label.supports, "same terms and meaning, no contradiction cue"
    return Label.mentions, "related, but does not state the claim"


def verdict(
    claim: str,
    evidence: Sequence[Evidence],
    model: ContradictionModel | None = None,
    *,
    top: int = VERDICT_SENTENCES,
) -> tuple[Label, float]:
    """What one source says about the claim: its ``top`` most relevant sentences (by
    ``0.45·cosine + 0.4·overlap``) weighed together. ``contradicts`` when a sentence restates
    the claim with a flipped cue, or their mean P(contradicts) >= ``model.doc_threshold``;
    otherwise ``supports`` when one of them supports it; else ``mentions``.
    Returns the label and the mean P(contradicts)."""
    if not evidence:
        return Label.mentions, 0.0
    m = model or default_contradiction_model()
    best = sorted(evidence, key=lambda e: -(0.45 * e.cosine + 0.4 * e.overlap))[:top]
    probs = [contradiction_score(claim, e, m)[0] for e in best]
    mean = sum(probs) / len(probs)
    if mean >= m.doc_threshold or any(_explicit_cue(claim, e) for e in best):
        return Label.contradicts, mean
    if any(e.overlap >= SUPPORT_OVERLAP and e.cosine >= SUPPORT_COSINE for e in best):
        return Label.supports, mean
    return Label.mentions, mean


def checked_label(j: Judgement) -> tuple[Label, str]:
    """A sentence's label from the claim check's probabilities, with the reason."""
    p = f"supports {j.supports:.2f}, contradicts {j.contradicts:.2f}, neutral {j.neutral:.2f}"
    if j.contradicts >= CHECK_DECIDES and j.contradicts > j.supports:
        return Label.contradicts, f"claim check: contradicts ({p})"
    if j.supports >= CHECK_DECIDES and j.supports >= j.contradicts:
        return Label.supports, f"claim check: supports ({p})"
    return Label.mentions, f"claim check: neither side ({p})"


def checked_verdict(judgements: Sequence[Judgement]) -> tuple[Label, float, float]:
    """A source's verdict from its sentences' judgements: the strongest side that reaches
    ``CHECK_DECIDES``. Returns the label, the best P(contradicts) and the best P(supports)."""
    con = max((j.contradicts for j in judgements), default=0.0)
    sup = max((j.supports for j in judgements), default=0.0)
    if con >= CHECK_DECIDES and con > sup:
        return Label.contradicts, con, sup
    if sup >= CHECK_DECIDES:
        return Label.supports, con, sup
    return Label.mentions, con, sup


def synthesize(
    kb: KnowledgeBase,
    claim: str,
    *,
    collections: Sequence[str] = (),
    k: int = 10,
    limit: int = 12,
    model: ContradictionModel | None = None,
    checker: CheckerArg = "packaged",
) -> Synthesis:
    """Evidence for and against ``claim``, grouped per source (see the module doc).

    ``checker``: the claim check that labels each sentence (``"packaged"`` by default);
    ``None`` uses the cue model only."""
    info = analyse(claim)
    check_collections(kb, collections)
    counts = {lab.value: 0 for lab in Label}
    if kb.stats().chunks == 0:
        return Synthesis(info.text, "The knowledge base is empty: nothing to weigh.", counts, ())
    nli = resolve_checker(checker)
    hits = kb.search(info.text, k=k, collections=collections)
    evidence = select_evidence(info, hits, kb.embedder, limit=limit) if hits else []
    relevant = [e for e in evidence if e.overlap >= RELEVANT_OVERLAP] if stems(info.text) else []
    judged = nli.judge(info.text, [e.text for e in relevant]) if nli and relevant else []
    dates = {s.uri: s.ingested_at[:10] for s in kb.sources()} if relevant else {}
    groups: dict[int, list[ClaimEvidence]] = {}
    per_doc: dict[int, list[Evidence]] = {}
    for n, ev in enumerate(relevant, start=1):
        j = judged[n - 1] if judged else None
        label, reason = checked_label(j) if j else label_sentence(info.text, ev, model)
        counts[label.value] += 1
        groups.setdefault(ev.document_id, []).append(
            ClaimEvidence(label, citation(n, ev), ev.cosine, ev.overlap, reason, j)
        )
        per_doc.setdefault(ev.document_id, []).append(ev)
    out = []
    for d, items in groups.items():
        first = per_doc[d][0]
        sup = 0.0
        if judged:
            label, p, sup = checked_verdict([i.judgement for i in items if i.judgement])
        else:
            label, p = verdict(info.text, per_doc[d], model)
        out.append(
            SourceGroup(
                first.source,
                first.title,
                first.doc_key,
                tuple(items),
                label,
                p,
                sup,
                first.license,
                dates.get(first.source),
            )
        )
    line = verdict_line(out)
    text = render(info.text, line, counts, out)
    return Synthesis(info.text, text, counts, tuple(out), line, "nli" if judged else "cues")


def verdict_line(groups: Sequence[SourceGroup]) -> str:
    """One line: how many independent sources support and contradict the claim."""
    ind = independent(groups)
    sup = sum(g.verdict is Label.supports for g in ind)
    con = sum(g.verdict is Label.contradicts for g in ind)
    men = len(ind) - sup - con

    def n(x: int, verb: str = "") -> str:
        ends = ("s", "") if x != 1 else ("", "s")
        return f"{x} independent source{ends[0]}" + (f" {verb}{ends[1]} it" if verb else "")

    if not sup and not con:
        also = f" ({n(men, 'only mention')})" if men else ""
        return f"Not enough evidence: no source supports or contradicts the claim{also}."
    if sup and not con:
        return f"Supported by {n(sup)}; none contradicts it."
    if con and not sup:
        return f"Contradicted by {n(con)}; none supports it."
    return f"Disputed: {n(sup, 'support')}, {n(con, 'contradict')}."


def render(claim: str, line: str, counts: dict[str, int], groups: Sequence[SourceGroup]) -> str:
    """The synthesis as text: the verdict line, then sources grouped by side."""
    if not groups:
        return f"Claim: {claim}\nNot enough evidence: the sources say nothing about this claim."
    lines = [f"Claim: {claim}", f"Verdict: {line}"]
    ind = independent(groups)
    for name, label in SIDES:
        side = [g for g in groups if g.verdict is label]
        n_ind = sum(g.verdict is label for g in ind)
        lines.append(f"{name.capitalize()} ({n_ind}):" if side else f"{name.capitalize()}: none")
        for g in side:
            meta = [g.source, f"licence {g.license or 'unknown'}"]
            if g.date:
                meta.append(f"added {g.date}")
            lines.append(f"  {g.title or g.doc_key} ({'; '.join(meta)})")
            shown = [i for i in g.items if i.label is label] or list(g.items[:1])
            for i in shown:
                c = i.citation
                lines.append(f"    [{c.n}] \u201c{c.quote}\u201d (chars {c.start}-{c.end})")
    lines.append(
        f"Sentences: {counts['supports']} supporting, {counts['contradicts']} contradicting, "
        f"{counts['mentions']} only mentioning."
    )
    return "\n".join(lines)
