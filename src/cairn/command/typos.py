"""Typed requests misspell long words ("acceleeration of 9.8"): a word one edit away from a
long word of the operation's parameter names is read as that word before values are found.

Only towards the operation's own parameter words of seven or more letters (so a request word
of six or more letters may be mended), and only when exactly one of them is that close; a
plural or other ending of the same word is not a typo ("durations" stays)."""

from __future__ import annotations

import re
from collections.abc import Iterable

MIN_LENGTH = 7


def one_edit(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by one inserted, deleted or changed letter, or two neighbours
    swapped (and are not equal)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        i = diff[0]
        return len(diff) == 2 and diff[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short))
    return short[i:] == long[i + 1 :]


def mend_typos(text: str, vocabulary: Iterable[str]) -> str:
    """``text`` with each word one edit away from exactly one long word of ``vocabulary``
    written as that word."""
    words = {w.lower() for w in vocabulary if len(w) >= MIN_LENGTH and w.isalpha()}
    if not words:
        return text

    def mend(m: re.Match[str]) -> str:
        said = m.group(0)
        low = said.lower()
        if low in words:
            return said
        close = [w for w in words if one_edit(low, w) and not _same_word(low, w)]
        return close[0] if len(close) == 1 else said

    return re.sub(rf"\b[A-Za-z]{{{MIN_LENGTH - 1},}}\b", mend, text)


def _same_word(said: str, word: str) -> bool:
    """ "durations" for "duration", "scored" for "scores": another ending, not a typo."""
    return said.startswith(word) or word.startswith(said) or said[:-1] == word[:-1]
