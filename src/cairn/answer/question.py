"""What a question asks for: its expected answer type and its key terms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from spacy.lang.en.stop_words import STOP_WORDS

from cairn.answer.types import AnswerError

MAX_QUESTION_CHARS = 1000
_WORD = re.compile(r"\w+(?:[.,]\d+)*", re.UNICODE)
_NEGATIONS = frozenset({"not", "never", "no", "none", "nobody", "nothing", "neither", "nor"})
_EXTRA_STOP = frozenset(
    {"did", "does", "do", "is", "was", "were", "are", "called", "name", "named"}
)


class AnswerType(StrEnum):
    person = "person"  # who
    date = "date"  # when, what year
    number = "number"  # how many / how much
    percent = "percent"
    place = "place"  # where
    thing = "thing"  # what / which: a noun phrase or entity
    reason = "reason"  # why / how: a clause (no typed span)


# spaCy labels that fit each type, best first.
TYPE_LABELS: dict[AnswerType, tuple[str, ...]] = {
    AnswerType.person: ("PERSON", "ORG", "NORP"),
    AnswerType.date: ("DATE", "TIME"),
    AnswerType.number: ("CARDINAL", "QUANTITY", "MONEY", "PERCENT"),
    AnswerType.percent: ("PERCENT", "CARDINAL"),
    AnswerType.place: ("GPE", "LOC", "FAC"),
    AnswerType.thing: (),
    AnswerType.reason: (),
}

_DATE_HEADS = "year years century centuries decade date day month period era time"
_PLACE_HEADS = (
    "country countries city cities state region continent place town nation location province"
    " island river"
)
_PERSON_HEADS = (
    "person man woman king queen emperor president leader scientist author general ruler who"
)
_HEAD_TYPES: dict[str, AnswerType] = {
    **dict.fromkeys(_DATE_HEADS.split(), AnswerType.date),
    **dict.fromkeys(_PLACE_HEADS.split(), AnswerType.place),
    **dict.fromkeys(("percentage", "percent", "proportion"), AnswerType.percent),
    **dict.fromkeys(_PERSON_HEADS.split(), AnswerType.person),
}


@dataclass(frozen=True)
class Term:
    word: str  # as written
    stem: str
    weight: float  # numbers and names weigh more


@dataclass(frozen=True)
class QuestionInfo:
    text: str
    answer_type: AnswerType
    terms: tuple[Term, ...]
    negated: bool

    @property
    def labels(self) -> tuple[str, ...]:
        return TYPE_LABELS[self.answer_type]


def validate_question(question: str) -> str:
    q = " ".join((question or "").split())
    if not q:
        raise AnswerError("empty-question", "the question is empty: ask something")
    if len(q) > MAX_QUESTION_CHARS:
        raise AnswerError(
            "question-too-long",
            f"the question is {len(q):,} characters; the limit is {MAX_QUESTION_CHARS:,} "
            "(ask a shorter question)",
        )
    if not _WORD.search(q):
        raise AnswerError("no-words", f"the question {q[:40]!r} has no words to look for")
    return q


def stem(word: str) -> str:
    w = word.lower().replace(",", "")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix) and not w.endswith("ss"):
            w = w[: -len(suffix)]
            break
    return w[:6]


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def stems(text: str) -> set[str]:
    return {stem(w) for w in words(text)}


def analyse(question: str) -> QuestionInfo:
    q = validate_question(question)
    toks = words(q)
    lower = [t.lower() for t in toks]
    terms: dict[str, Term] = {}
    for i, (w, lw) in enumerate(zip(toks, lower, strict=True)):
        if lw in STOP_WORDS or lw in _EXTRA_STOP or lw == "_":
            continue
        weight = 1.0
        if any(ch.isdigit() for ch in w):
            weight = 2.0
        elif w[:1].isupper() and i > 0:
            weight = 1.5
        s = stem(w)
        if s not in terms or terms[s].weight < weight:
            terms[s] = Term(w, s, weight)
    return QuestionInfo(
        q, _answer_type(lower), tuple(terms.values()), bool(_NEGATIONS & set(lower))
    )


def _answer_type(lower: list[str]) -> AnswerType:
    text = " ".join(lower)
    if re.search(r"\bhow (many|much)\b", text):
        return AnswerType.percent if "percent" in text else AnswerType.number
    if re.search(r"\bhow (long|old)\b", text):
        return AnswerType.date if "ago" in text else AnswerType.number
    if re.search(r"\bhow (tall|high|far|big|large|deep|wide|heavy|fast|hot|cold)\b", text):
        return AnswerType.number  # a measure: "how tall is the tower?" -> "31 metres"
    if re.search(r"\bwhen\b", text):
        return AnswerType.date
    if re.search(r"\b(who|whom|whose)\b", text):
        return AnswerType.person
    if re.search(r"\bwhere\b", text):
        return AnswerType.place
    m = re.search(r"\b(what|which)\s+(?:\w+\s+)?(\w+)", text)
    if m:
        for w in m.group(0).split()[1:]:
            head = _HEAD_TYPES.get(w)
            if head is not None:
                return head
    if re.search(r"\b(why|how)\b", text):
        return AnswerType.reason
    return AnswerType.thing
