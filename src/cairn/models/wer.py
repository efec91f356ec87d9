"""Word error rate: how many words a transcript got wrong, after normalising both sides."""

from __future__ import annotations

import re

__all__ = ["normalize_transcript", "word_error_rate", "word_errors"]

_ONES = (  # noqa: SIM905
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()  # noqa: SIM905
_ABBREV = {"mr": "mister", "mrs": "missus", "dr": "doctor", "vs": "versus"}


def _number_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {_number_words(rest)}" if rest else "")
    if n < 1_000_000:
        thousands, rest = divmod(n, 1000)
        return f"{_number_words(thousands)} thousand" + (f" {_number_words(rest)}" if rest else "")
    return " ".join(_ONES[int(d)] for d in str(n))


def normalize_transcript(text: str) -> list[str]:
    """Words for scoring: lower case, no punctuation, hyphens split, small numbers spelt out,
    a few abbreviations expanded ("Mr." -> "mister"), apostrophes dropped ("don't" -> "dont")."""
    text = text.lower().replace("&", " and ")
    text = re.sub(r"[’'`]", "", text)
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 1,000 -> 1000
    text = re.sub(r"[^\w\s]|_", " ", text)
    words: list[str] = []
    for word in text.split():
        if word.isdigit():
            words.extend(_number_words(int(word)).split())
        else:
            words.append(_ABBREV.get(word, word))
    return words


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference word count), after normalising."""
    ref = normalize_transcript(reference)
    hyp = normalize_transcript(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1], len(ref)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word error rate of ``hypothesis`` against ``reference`` (0.0 is perfect).

    An empty reference scores 0.0 against an empty hypothesis and 1.0 against anything else.
    """
    errors, n = word_errors(reference, hypothesis)
    if n == 0:
        return 0.0 if errors == 0 else 1.0
    return errors / n
