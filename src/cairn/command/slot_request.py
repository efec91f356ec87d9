"""The request as the slot fillers read it, the :class:`Filled` result, and shared word lists.

:func:`prepare` turns a request into a :class:`_Request`: digit-normalised text, the dates
and numbers it says, and the spans already taken by a value. The stop words and boundary
words here are shared by the fillers in the ``slot_*`` modules and re-exported by
:mod:`cairn.command.slots`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cairn.command import values
from cairn.command.operations import split_name
from cairn.command.spoken import DateSpan, digits, find_dates

_NUMBER = re.compile(
    r"(?<![\w.])(?P<neg>-)?\$?(?P<n>\d+(?:,\d{3})*(?:\.\d+)?(?:e-?\d+)?)"
    r"(?:\s*(?P<scale>thousand|million|billion|trillion)\b|(?P<abbr>M|B|bn)\b)?"
    r"(?P<pct>\s*(?:%|percent\b))?"
    r"(?=[a-zA-Zµ°²³/]{0,4}\b|[^\w]|$)"
)
_SCALE = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "for",
        "in",
        "on",
        "at",
        "to",
        "by",
        "with",
        "from",
        "and",
        "or",
        "is",
        "are",
        "was",
        "be",
        "me",
        "my",
        "i",
        "you",
        "your",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "what",
        "which",
        "who",
        "how",
        "please",
        "can",
        "could",
        "would",
        "will",
        "do",
        "does",
        "did",
        "get",
        "find",
        "give",
        "show",
        "tell",
        "list",
        "calculate",
        "compute",
        "fetch",
        "retrieve",
        "search",
        "look",
        "up",
        "about",
        "using",
        "use",
        "into",
        "as",
        "some",
        "any",
        "all",
        "per",
        "each",
        "than",
        "then",
        "there",
        "their",
        "our",
        "we",
        "us",
        "want",
        "need",
        "like",
        "know",
        "data",
    ]
)
_BOUNDARY = frozenset(
    [
        "in",
        "on",
        "at",
        "to",
        "by",
        "with",
        "from",
        "and",
        "or",
        "for",
        "of",
        "is",
        "are",
        "was",
        "using",
        "during",
        "between",
        "since",
        "until",
        "through",
        "after",
        "before",
        "that",
        "which",
        "who",
        "where",
        "when",
        "if",
        "per",
        "over",
        "under",
        "within",
        "featuring",
        "starring",
    ]
)


@dataclass
class Filled:
    """Parameter values read from a request, with the words each came from."""

    values: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # required parameters with no value
    # how much of what the request said the values lose: a month or a range put into one
    # date (1 each), a single day stretched over a start/end pair (0.5)
    loss: float = 0.0
    typed: set[str] = field(default_factory=set)  # filled from an enum word or a date
    dates_taken: int = 0  # how many of the request's dates and ranges some value holds

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass
class _Request:
    text: str  # digit-normalised, original case
    low: str
    dates: list[DateSpan]
    numbers: list[tuple[int, int, float | int]]  # start, end, value
    used: list[tuple[int, int]] = field(default_factory=list)
    # where "one"/"two" + a noun became a digit: such a count fills only the parameter its
    # noun names ("2 nights" -> nights), never a leftover ("two sides as 4 and 5")
    counts: set[int] = field(default_factory=set)

    def free(self, start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in self.used)


def _number(m: re.Match[str]) -> float | int:
    clean = m.group("n").replace(",", "")
    value: float | int = float(clean) if ("." in clean or "e" in clean) else int(clean)
    if m.group("scale"):
        value = value * _SCALE[m.group("scale")]
    elif m.group("abbr"):  # "$1.2M", "3bn": millions, billions (written against the number)
        value = value * (10**6 if m.group("abbr") == "M" else 10**9)
        value = int(value) if float(value).is_integer() else value
    if m.group("neg"):
        value = -value
    if m.group("pct"):
        value = round(value / 100, 10)
    return value


# "two nights", "one child": counts below three, which the spoken-number reader leaves as words
_SMALL_COUNT = re.compile(
    r"\b(one|two)\b(?=\s+(?!of\b|or\b|and\b|another\b|more\b|other\b|by\b)[a-z]{3,})"
)


def prepare(text: str, today: date | None = None) -> _Request:
    norm, counts, at = "", set(), 0
    spoken = digits(text)
    for m in _SMALL_COUNT.finditer(spoken):
        norm += spoken[at : m.start()]
        counts.add(len(norm))
        norm += "1" if m.group(1) == "one" else "2"
        at = m.end()
    norm += spoken[at:]
    dates = find_dates(norm, today)
    numbers = [(m.start(), m.end(), _number(m)) for m in _NUMBER.finditer(norm)]
    return _Request(norm, norm.lower(), dates, numbers, counts=counts)


def _word_set(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP}


_stem = values.stem


def _has(name: str, words: tuple[str, ...]) -> bool:
    parts = set(split_name(name).split())
    return any(w in parts for w in words)


def _root(word: str) -> str:
    """A word without -ing, -ed, -es, -e or -s when three letters stay: "rated", "rating" and
    "rate" -> "rat", "requires" and "required" -> "requir"."""
    m = re.fullmatch(r"([a-z]{3,}?)(?:ing|ed|es|e|s)", word)
    return m.group(1) if m else word
