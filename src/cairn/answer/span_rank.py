"""A learned short-answer choice: rank candidate spans of the answer sentence, or show none.

:func:`cairn.answer.span_check.checked_span` keeps the spans whose type, unit and role fit the
question and picks the best by a hand-set score. Here the same signals, and more, are features
of a small listwise ranker (a softmax over the sentence's candidate spans plus a "no short
answer" option) fitted on SQuAD 2.0 *fit* articles 1-8 (``python -m cairn_eval.span_fit``,
weights in ``span_rank.json``). Candidates are the span source's entities and noun chunks and
their sensible sub/super spans: without a leading determiner or "about"/"up to", a number with
the noun it counts ("45 tonnes"), two spans joined by "of"/"and". A span is shown only when its
probability reaches the fitted threshold and it passes the money/unit check (a share count is
never the answer to "how much did X pay?"); otherwise the answer shows the quote alone.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from cairn.answer.question import AnswerType, QuestionInfo, stem, stems
from cairn.answer.span import SpanCandidate, choose_span, type_fit
from cairn.answer.span_check import CURRENCY, Frame, checked_span, frame, relabelled, verb_stem
from cairn.models.packaged import packaged_path

WEIGHTS_PATH = packaged_path("span_rank.json")
_TOKEN = re.compile(r"\w+(?:[.,]\d+)*")
_LEAD = re.compile(
    r"^(?:the|a|an|its|their|his|her|our|this|that|these|those|some|about|around|roughly|"
    r"approximately|nearly|almost|over|under|just|only|up to|more than|less than|at least|"
    r"at most|as many as|as much as)\s+",
    re.IGNORECASE,
)
_JOINERS = (" of ", " and ", " or ", " of the ")
_POSSESSOR = re.compile(r"^[\w.-]+(?: [A-Z][\w.-]*)*'s? ")
_NUMBER_INSIDE = re.compile(r"\d[\d,]*(?:\.\d+)?")

_GROUPS = {
    "PERSON": "person",
    "ORG": "org",
    "NORP": "org",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "DATE": "time",
    "TIME": "time",
    "CARDINAL": "num",
    "QUANTITY": "num",
    "MONEY": "num",
    "PERCENT": "num",
    "ORDINAL": "num",
    "NP": "np",
}
GROUPS = ("person", "org", "place", "time", "num", "other", "np")
ROLES = ("subj", "obj", "patient", "agent", "attr", "pobj", "appos", "other", "none")
KINDS = ("base", "trim", "unit", "join", "sub")

BASE_FEATURES = (
    "type_fit",
    "type_clash",
    "novel",
    "all_novel",
    "in_question",
    "proximity",
    "log_tok_dist",
    "no_match",
    "role_match",
    "verb_match",
    "unit_match",
    "unit_clash",
    "money_match",
    "position",
    "log_len",
    "one_token",
    "long",
    "has_digit",
    "capital",
    "heuristic_pick",
    "checked_pick",
    "nested",
    "adjacent",
    "near",
    "head_in_span",
)
FEATURES: tuple[str, ...] = (
    BASE_FEATURES
    + tuple(f"role:{r}" for r in ROLES)
    + tuple(f"kind:{k}" for k in KINDS)
    + tuple(f"{t.value}|{g}" for t in AnswerType for g in GROUPS)
    + tuple(f"{t.value}|role:{r}" for t in AnswerType for r in ROLES)
)
_WH_HEAD = re.compile(r"\b(?:what|which)\s+(?:kind of |type of |sort of )?(\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class Ranked:
    """One candidate span with its kind ("base", "trim", "unit", "join") and features."""

    span: SpanCandidate
    kind: str
    features: Mapping[str, float]


def expand(sentence: str, cands: Sequence[SpanCandidate]) -> list[tuple[SpanCandidate, str]]:
    """The candidates with their sub/super spans, each (start, end) once, base spans first."""
    out: dict[tuple[int, int], tuple[SpanCandidate, str]] = {}

    def add(c: SpanCandidate, kind: str) -> None:
        if c.end > c.start and (c.start, c.end) not in out and c.text.strip():
            out[(c.start, c.end)] = (c, kind)

    for c in cands:
        add(c, "base")
    for c in cands:
        m = _LEAD.match(c.text)
        while m and m.end() < len(c.text):
            c = replace(c, text=c.text[m.end() :], start=c.start + m.end())
            add(c, "trim")
            m = _LEAD.match(c.text)
        p = _POSSESSOR.match(c.text)
        if p and p.end() < len(c.text):
            add(replace(c, text=c.text[p.end() :], start=c.start + p.end()), "trim")
    for c in cands:
        if c.label in ("DATE", "QUANTITY", "MONEY", "PERCENT", "CARDINAL") and " " in c.text:
            for n in _NUMBER_INSIDE.finditer(c.text):
                i, j = c.start + n.start(), c.start + n.end()
                add(replace(c, text=sentence[i:j], start=i, end=j, label="CARDINAL"), "sub")
    for c in cands:
        if c.unit_end is not None and c.unit_end > c.end:
            add(replace(c, text=sentence[c.start : c.unit_end], end=c.unit_end), "unit")
    ordered = sorted(cands, key=lambda c: (c.start, c.end))
    for left in ordered:
        for right in ordered:
            if right.start > left.end and sentence[left.end : right.start] in _JOINERS:
                add(replace(left, text=sentence[left.start : right.end], end=right.end), "join")
    return list(out.values())


def _group(label: str) -> str:
    return _GROUPS.get(label, "other")


def _role(role: str | None) -> str:
    if role is None:
        return "none"
    if role.startswith("pobj"):
        return "pobj"
    return role if role in ROLES else "other"


def rank_features(
    info: QuestionInfo, sentence: str, cands: Sequence[SpanCandidate], fr: Frame | None = None
) -> list[Ranked]:
    """Every expanded candidate of ``sentence`` that passes the money/unit check, with its
    feature values (sparse)."""
    fr = fr or frame(info)
    q_stems = stems(info.text) - {"the", "a", "an", "of"}
    toks = [(m.start(), m.end(), stem(m.group(0))) for m in _TOKEN.finditer(sentence)]
    matched = [i for i, (_, _, s) in enumerate(toks) if s in q_stems]
    heur = choose_span(info, sentence, relabelled(info, sentence, cands))[0]
    checked = checked_span(info, sentence, cands)
    sentence_verbs = {verb_stem(c.verb) for c in cands if c.verb}
    verb = next((v for v in fr.verbs if v in sentence_verbs), None)
    n = max(1, len(sentence))
    wh = _WH_HEAD.search(info.text)
    head = stem(wh.group(1)) if wh else None
    out = []
    seen: set[tuple[int, int]] = set()
    for c, kind in expand(sentence, cands):
        c = relabelled(info, sentence, [c])[0]  # "50,000" + "dlrs" reads as money
        if (c.start, c.end) in seen or not _fits_frame(info, fr, c):
            continue  # a share count never answers "how much did X pay?"
        seen.add((c.start, c.end))
        words = [stem(w) for w in _TOKEN.findall(c.text)]
        words = [w for w in words if w not in {"the", "a", "an", "of"}] or ["_"]
        novel = sum(1 for w in words if w not in q_stems) / len(words)
        inside = [i for i, (a, b, _) in enumerate(toks) if a >= c.start and b <= c.end]
        lo = inside[0] if inside else 0
        hi = inside[-1] if inside else 0
        dist = min((max(0, lo - i, i - hi) for i in matched if not lo <= i <= hi), default=-1)
        char_dist = min(
            (
                max(0, toks[i][0] - c.end, c.start - toks[i][1])
                for i in matched
                if not lo <= i <= hi
            ),
            default=-1,
        )
        fit = type_fit(info, c.label)
        currency = c.label == "MONEY" or (c.unit is not None and c.unit in CURRENCY)
        is_num = info.answer_type in (AnswerType.number, AnswerType.percent)
        role_match = 0.0
        if verb is not None and fr.role is not None and c.verb and verb_stem(c.verb) == verb:
            wanted = ("subj", "agent") if fr.role == "subject" else ("obj", "patient")
            role_match = 1.0 if c.role in wanted else -1.0
        f: dict[str, float] = {
            "type_fit": fit,
            "type_clash": float(bool(info.labels) and fit == 0.0),
            "novel": novel,
            "all_novel": float(novel == 1.0),
            "in_question": float(novel == 0.0),
            "proximity": 1.0 / (1.0 + char_dist / 25.0) if char_dist >= 0 else 0.0,
            "log_tok_dist": math.log1p(dist) if dist >= 0 else 0.0,
            "no_match": float(not matched),
            "role_match": role_match,
            "verb_match": float(bool(c.verb) and verb_stem(c.verb or "") in fr.verbs),
            "unit_match": float(
                fr.unit is not None and c.unit is not None and stem(c.unit) == fr.unit
            ),
            "unit_clash": float(
                fr.unit is not None and c.unit is not None and stem(c.unit) != fr.unit
            ),
            "money_match": float(is_num and fr.wants_money and currency)
            - float(is_num and fr.wants_money and not currency),
            "position": c.start / n,
            "log_len": math.log(len(words)),
            "one_token": float(len(words) == 1),
            "long": float(len(words) > 6),
            "has_digit": float(any(ch.isdigit() for ch in c.text)),
            "capital": sum(1 for w in c.text.split() if w[:1].isupper()) / len(c.text.split()),
            "heuristic_pick": float(heur is not None and _same(heur, c)),
            "checked_pick": float(checked is not None and _same(checked, c)),
            "nested": float(
                any(o.start <= c.start and c.end <= o.end and o is not c for o in cands)
            ),
            "adjacent": float(0 <= dist <= 1),
            "near": float(0 <= dist <= 4),
            "head_in_span": float(head is not None and head in words),
            f"role:{_role(c.role)}": 1.0,
            f"{info.answer_type.value}|role:{_role(c.role)}": 1.0,
            f"kind:{kind}": 1.0,
            f"{info.answer_type.value}|{_group(c.label)}": 1.0,
        }
        out.append(Ranked(c, kind, f))
    return out


def answer_key(text: str) -> str:
    """A span's text as SQuAD compares answers: lower case, no punctuation or articles."""
    t = "".join(ch for ch in text.lower() if ch.isalnum() or ch.isspace())
    return " ".join(w for w in t.split() if w not in ("a", "an", "the"))


def _same(a: SpanCandidate, b: SpanCandidate) -> bool:
    return (a.start, a.end) == (b.start, b.end)


def _fits_frame(info: QuestionInfo, fr: Frame, c: SpanCandidate) -> bool:
    """The money/unit part of the frame check (the role part is a feature of its own)."""
    if info.answer_type not in (AnswerType.number, AnswerType.percent):
        return True
    currency = c.label == "MONEY" or (c.unit is not None and c.unit in CURRENCY)
    if fr.wants_money and not currency:
        return False
    if not fr.wants_money and currency and fr.unit is not None:
        return False
    return not (fr.unit is not None and c.unit is not None and stem(c.unit) != fr.unit)


@dataclass(frozen=True)
class SpanRanker:
    """Softmax over candidates' scores and a "none" score; show the best when p >= threshold."""

    weights: Mapping[str, float]
    none_score: float
    threshold: float
    note: str = ""

    def score(self, features: Mapping[str, float]) -> float:
        return sum(self.weights.get(k, 0.0) * v for k, v in features.items())

    def probabilities(self, ranked: Sequence[Ranked]) -> list[float]:
        scores = [self.score(r.features) for r in ranked] + [self.none_score]
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        total = sum(exp)
        return [e / total for e in exp[:-1]]

    def choose(
        self, info: QuestionInfo, sentence: str, cands: Sequence[SpanCandidate]
    ) -> tuple[SpanCandidate | None, float]:
        """The span to show and its probability, or (None, p) when none is likely enough."""
        ranked = rank_features(info, sentence, cands)
        best, p = self.best(ranked)
        return (best, p) if best is not None and p >= self.threshold else (None, p)

    def best(self, ranked: Sequence[Ranked]) -> tuple[SpanCandidate | None, float]:
        """The most probable answer text (spans that read the same pool their probability)
        and its most probable span."""
        if not ranked:
            return None, 0.0
        pooled: dict[str, float] = {}
        top: dict[str, tuple[float, SpanCandidate]] = {}
        for p, r in zip(self.probabilities(ranked), ranked, strict=True):
            key = answer_key(r.span.text)
            pooled[key] = pooled.get(key, 0.0) + p
            if key not in top or p > top[key][0]:
                top[key] = (p, r.span)
        key = max(pooled, key=lambda k: pooled[k])
        return top[key][1], pooled[key]

    def to_json(self) -> str:
        return json.dumps(
            {
                "features": list(FEATURES),
                "weights": {k: round(self.weights.get(k, 0.0), 6) for k in FEATURES},
                "none_score": round(self.none_score, 6),
                "threshold": round(self.threshold, 4),
                "note": self.note,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> SpanRanker:
        data = json.loads(text)
        return cls(
            {k: float(v) for k, v in data["weights"].items()},
            float(data["none_score"]),
            float(data["threshold"]),
            str(data.get("note", "")),
        )


@lru_cache(maxsize=1)
def packaged_ranker() -> SpanRanker:
    return SpanRanker.from_json(WEIGHTS_PATH.read_text(encoding="utf-8"))


def shown_span(
    info: QuestionInfo,
    sentence: str,
    cands: Sequence[SpanCandidate],
    ranker: SpanRanker | None = None,
) -> SpanCandidate | None:
    """The short answer ``ask`` shows beside the quote of ``sentence``, or None."""
    return (ranker or packaged_ranker()).choose(info, sentence, cands)[0]
