"""Sentence boundaries with character offsets, by rule (fast, deterministic, no model).

Splits after ``.``, ``!``, ``?`` (and closing quotes/brackets after them) when followed by
whitespace and then an upper-case letter, digit, quote or bracket; and at blank lines. Common
abbreviations ("e.g.", "Dr.", "U.S.", single initials) do not end a sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ABBREVIATIONS = frozenset(
    [
        "a.m",
        "p.m",
        "e.g",
        "i.e",
        "etc",
        "vs",
        "al",
        "fig",
        "figs",
        "eq",
        "eqs",
        "no",
        "nos",
        "vol",
        "ca",
        "cf",
        "approx",
        "dept",
        "est",
        "inc",
        "ltd",
        "co",
        "corp",
        "jr",
        "sr",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "mt",
        "gen",
        "col",
        "lt",
        "sgt",
        "rev",
        "hon",
        "pres",
        "gov",
        "sen",
        "rep",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
        "u.n",
        "e.u",
        "ph.d",
        "b.c",
        "a.d",
    ]
)

_BOUNDARY = re.compile(
    r"""([.!?]+["'\u201d\u2019)\]]*)(\s+)(?=["'\u201c\u2018(\[]?[A-Z0-9\u00C0-\u024F])"""
)
_PARAGRAPH = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def _is_abbreviation(text: str, dot_pos: int) -> bool:
    """True when the token that ends at ``dot_pos`` (the '.') is a known abbreviation."""
    i = dot_pos
    while i > 0 and not text[i - 1].isspace() and text[i - 1] not in "([\"'":
        i -= 1
    token = text[i:dot_pos].lower()
    if not token:
        return False
    if len(token) == 1 and token.isalpha():  # an initial: "J. Smith"
        return True
    return token in _ABBREVIATIONS


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans over ``text[start:end]``, stripped of surrounding whitespace."""
    end = len(text) if end is None else end
    spans: list[Span] = []
    for block_start, block_end in _blocks(text, start, end):
        cur = block_start
        for m in _BOUNDARY.finditer(text, block_start, block_end):
            punct_end = m.end(1)
            if (
                text[m.start(1)] == "."
                and len(m.group(1)) == 1
                and _is_abbreviation(text, m.start(1))
            ):
                continue
            _append(spans, text, cur, punct_end)
            cur = m.end(2)
        _append(spans, text, cur, block_end)
    return spans


def _blocks(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    cur = start
    for m in _PARAGRAPH.finditer(text, start, end):
        out.append((cur, m.start()))
        cur = m.end()
    out.append((cur, end))
    return out


def _append(spans: list[Span], text: str, s: int, e: int) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        spans.append(Span(s, e))
