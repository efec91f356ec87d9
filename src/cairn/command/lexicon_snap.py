"""Transcribed requests snapped onto the registered tools' own words (no model, no API names).

Speech-to-text mishears the names a schema knows best: "Klobecks share prices" for a
company whose description says ``Globex=GLBX``, "Umbrela" for ``Umbrella``. :func:`snap`
compares each word of a transcript, each pair of adjacent words read as one, and each long
word cut in two ("Intune" -> "In June"), with the lexicon of the registered operations
(:func:`lexicon_terms`: enum values, the names descriptions give them, operation and
parameter words, summary words) by two distances: edit distance over letters, and edit
distance over a phonetic key (:func:`phonetic_key`, a small Metaphone-like key that also
merges voiced and unvoiced consonants, which speech-to-text confuses). A near-miss is
replaced by the lexicon term only when both

* it is close (:data:`MAX_LETTER_DISTANCE` of the letters, or :data:`MAX_KEY_DISTANCE` of the
  phonetic key with at most :data:`MAX_LETTER_DISTANCE_WITH_KEY` of the letters), and
* the replacement makes the match better: the request becomes a complete call where it was
  not, the best operation gets more of its required parameters, or its score rises by
  :data:`MIN_GAIN` (see :class:`cairn.command.schema_match.OperationIndex`); replacements
  that only raised the score are undone when, all taken, the call is no better, and a request
  that no operation fitted is changed only when it becomes a complete call.

A transcript that already matches an operation completely is left as it is, as is every word
the lexicon or the matcher's stop list already holds; a common English word (one of the
packaged sentence encoder's vocabulary) is replaced only for a spelling slip (letters, not
sound), never cut in two, and two common words are never read as one. Replacements are tried
closest first; each round takes the one that helps most (a complete call first, then more
required parameters, then the closest), and a complete call ends the search. Only text heard
from speech goes through here (the pipeline calls it after speech-to-text); typed requests
are matched as typed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

from cairn.command.operations import OperationDoc, split_name
from cairn.command.slots import _STOP, _stem

if TYPE_CHECKING:
    from cairn.command.schema_match import Match, OperationIndex

MAX_LETTER_DISTANCE = 0.34  # edits per letter of the longer of the two
MAX_KEY_DISTANCE = 0.25  # edits per symbol of the longer phonetic key
MAX_LETTER_DISTANCE_WITH_KEY = 0.65
MIN_KEY = 3  # phonetic symbols a key needs to count
MIN_SPLIT_LETTERS = 5  # a word this long may be two heard as one
SPLIT_COST = 0.1  # a cut counts as this much distance more
MIN_GAIN = 0.02  # score rise that counts as better when nothing else changes
MAX_TRIES = 12  # replacements considered per request (each try is one match)
MAX_ROUNDS = 2  # replacements taken per request
MIN_TERM_LETTERS = 3
_WORD = re.compile(r"[A-Za-z][A-Za-z'&]*")
_JOIN = re.compile(r"[\s-]*")  # what may separate the two words of a pair


@dataclass(frozen=True)
class Snap:
    """One replacement: ``heard`` (as in the transcript) became ``term``."""

    heard: str
    term: str
    start: int
    end: int


@dataclass
class Snapped:
    """The text after snapping and the replacements made (none: ``text`` is the input)."""

    text: str
    snaps: list[Snap] = field(default_factory=list)


def _letters(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions) between ``a`` and ``b``."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


_KEY_RULES = (
    (r"^(?:kn|gn|pn|wr)", lambda m: m.group(0)[1]),
    (r"^x", lambda m: "s"),
    (r"^wh", lambda m: "w"),
    (r"ph", lambda m: "f"),
    (r"ck|q", lambda m: "k"),
    (r"sch", lambda m: "sk"),
    (r"t?ch|sh|ti(?=[ao])", lambda m: "X"),
    (r"th", lambda m: "0"),
    (r"dg(?=[eiy])", lambda m: "j"),
    (r"gh(?![aeiou])", lambda m: ""),
    (r"c(?=[eiy])", lambda m: "s"),
    (r"c", lambda m: "k"),
    (r"x", lambda m: "ks"),
)
# voiced and unvoiced pairs, which speech-to-text confuses, share one symbol
_KEY_MERGE = str.maketrans({"z": "s", "v": "f", "d": "t", "b": "p", "g": "k", "j": "X"})


def phonetic_key(word: str) -> str:
    """A rough sound key of ``word``: consonant classes in order, a leading vowel as ``A``,
    other vowels and h, w, y dropped, repeats collapsed ("Globex" and "Klobecks" -> both
    ``KLPKS``)."""
    s = re.sub(r"[^a-z]", "", word.lower())
    if not s:
        return ""
    for pattern, repl in _KEY_RULES:
        s = re.sub(pattern, repl, s)
    s = s.translate(_KEY_MERGE)
    head = "A" if s[0] in "aeiouy" else ""
    body = re.sub(r"[aeiouyhw]", "", s[1:] if head else s)
    out = head
    for ch in body.upper():
        if not out or out[-1] != ch:
            out += ch
    return out


def closeness(heard: str, term: str, *, by_sound: bool = True) -> float | None:
    """How far ``heard`` is from ``term`` (0 = same letters), or ``None`` when not close;
    ``by_sound=False``: by letters only."""
    a, b = _letters(heard), _letters(term)
    if not a or not b or a == b:
        return None
    letters = edit_distance(a, b) / max(len(a), len(b))
    if letters <= MAX_LETTER_DISTANCE:
        return letters
    if not by_sound:
        return None
    ka, kb = phonetic_key(a), phonetic_key(b)
    if len(ka) < MIN_KEY or len(kb) < MIN_KEY:  # short keys sound like too much
        return None
    key = edit_distance(ka, kb) / max(len(ka), len(kb))
    if key <= MAX_KEY_DISTANCE and letters <= MAX_LETTER_DISTANCE_WITH_KEY:
        return key + 0.05  # a sound match counts a little less than a spelling match
    return None


def lexicon_terms(ops: Iterable[OperationDoc]) -> list[str]:
    """The words a tool's schema gives a request: enum values (text ones), the names their
    descriptions give them, the words of operation and parameter names, and the content words
    of summaries and descriptions (4+ letters). Duplicates (ignoring case) left out."""
    seen: dict[str, str] = {}

    def add(term: str) -> None:
        clean = " ".join(term.split())
        key = _letters(clean)
        if len(key) >= MIN_TERM_LETTERS and key not in seen and not key.isdigit():
            seen[key] = clean

    for op in ops:
        for p in op.params:
            for value in p.enum[:200]:
                if isinstance(value, str) and re.search(r"[A-Za-z]", value):
                    add(value)
            for alias, _ in p.aliases:
                add(alias)
            for w in split_name(p.name).split():
                add(w)
        for w in split_name(op.name).split():
            add(w)
        for w in _WORD.findall(f"{op.summary} {op.description}"):
            if len(w) >= 4 and w.lower() not in _STOP:
                add(w)
    return list(seen.values())


def _known(terms: Sequence[str]) -> set[str]:
    words = {_stem(w.lower()) for t in terms for w in _WORD.findall(t)}
    return words | set(_STOP)


@dataclass(frozen=True)
class _Proposal:
    start: int
    end: int
    heard: str
    term: str
    distance: float


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole English words of the packaged sentence encoder's vocabulary (~22k): a heard word
    among them is a word, not a near-miss, unless it is a letter or so from a term."""
    from cairn.models.embed import MINILM_TOKENIZER

    try:
        vocab = json.loads(MINILM_TOKENIZER.read_text(encoding="utf-8"))["model"]["vocab"]
    except (OSError, ValueError, KeyError):  # pragma: no cover - vendored with the package
        return frozenset()
    return frozenset(w for w in vocab if w.isalpha() and w.islower())


def proposals(text: str, terms: Sequence[str], known: set[str]) -> list[_Proposal]:
    """Near-miss replacements in ``text``, closest first: single words, then pairs of
    adjacent words read as one ("glow bex" -> "Globex"). Known words (the lexicon's, stop words) are
    never replaced, alone or in a pair."""
    words = list(_WORD.finditer(text))
    spans: list[tuple[int, int]] = []
    for i, w in enumerate(words):
        if _stem(w.group(0).lower()) not in known and len(w.group(0)) >= 2:
            spans.append((w.start(), w.end()))
        if i + 1 < len(words):
            nxt = words[i + 1]
            pair = {w.group(0).lower(), nxt.group(0).lower()}
            if (
                _JOIN.fullmatch(text[w.end() : nxt.start()])
                and not {_stem(x) for x in pair} & known
                and not pair <= english_words()
            ):
                spans.append((w.start(), nxt.end()))
    english = english_words()
    out: list[_Proposal] = []
    for start, end in spans:
        heard = text[start:end]
        common = heard.lower() in english  # a word: only its spelling may be a slip
        best = sorted(
            (d, t) for t in terms if (d := closeness(heard, t, by_sound=not common)) is not None
        )
        for d, t in best[:2]:
            out.append(_Proposal(start, end, heard, t, d))
    for w in words:  # one word heard for two: "Intune" -> "In June"
        heard = w.group(0)
        if (
            len(heard) >= MIN_SPLIT_LETTERS
            and _stem(heard.lower()) not in known
            and heard.lower() not in english
        ):
            out += _splits(heard, w.start(), terms)
    out.sort(key=lambda p: (p.distance, p.start))
    return out


def _splits(heard: str, at: int, terms: Sequence[str]) -> list[_Proposal]:
    """``heard`` cut in two where one side is (close to) a lexicon term: that side becomes the
    term, the other stays as heard, as a word of its own."""
    found: dict[str, float] = {}
    for cut in range(2, len(heard) - 1):
        left, right = heard[:cut], heard[cut:]
        for t in terms:
            for part, other, joined in (
                (left, right, f"{t} {right}"),
                (right, left, f"{left} {t}"),
            ):
                if len(_letters(part)) < 2 or len(_letters(other)) < 2:
                    continue
                d = 0.0 if _letters(part) == _letters(t) else closeness(part, t)
                if d is not None and d + SPLIT_COST < found.get(joined, 9.0):
                    found[joined] = d + SPLIT_COST
    best = sorted((d, j) for j, d in found.items())[:4]
    return [_Proposal(at, at + len(heard), heard, j, d) for d, j in best]


def _quality(m: Match) -> tuple[int, int, float]:
    best = m.best
    if best is None:
        return (0, 0, 0.0)
    complete = int(m.command is not None and m.command.intent == "call_api")
    filled = len(best.op.required) - len(best.filled.missing)
    return (complete, filled, best.score)


def _better(new: tuple[int, int, float], old: tuple[int, int, float]) -> bool:
    if new[:2] != old[:2]:
        return new[:2] > old[:2]
    return new[2] >= old[2] + MIN_GAIN


def _apply(text: str, snaps: Sequence[Snap]) -> str:
    for s in sorted(snaps, key=lambda s: -s.start):
        text = text[: s.start] + s.term + text[s.end :]
    return text


def snap(
    text: str,
    index: OperationIndex,
    *,
    today: date | None = None,
    terms: Sequence[str] | None = None,
) -> Snapped:
    """``text`` (a transcript) with its near-misses of the tools' lexicon replaced, each
    only when it makes the match better; unchanged when it already matches completely."""
    if not index.ops or not text.strip():
        return Snapped(text)
    current = index.match(text, today=today)
    if current.command is not None and current.command.intent == "call_api":
        return Snapped(text)
    terms = list(terms) if terms is not None else lexicon_terms(index.ops)
    quality = start = _quality(current)
    taken: list[Snap] = []
    tried = proposals(text, terms, _known(terms))[:MAX_TRIES]
    for _ in range(MAX_ROUNDS):  # each round takes the replacement that helps most
        found: tuple[tuple[int, int, float, float], list[Snap]] | None = None
        for p in tried:
            if any(p.start < s.end and s.start < p.end for s in taken):
                continue
            trial = [*taken, Snap(p.heard, p.term, p.start, p.end)]
            q = _quality(index.match(_apply(text, trial), today=today))
            rank = (q[0], q[1], -p.distance, q[2])
            if _better(q, quality) and (found is None or rank > found[0]):
                found = (rank, trial)
        if found is None:
            break
        taken = found[1]
        quality = (found[0][0], found[0][1], found[0][3])
        if quality[0]:
            break  # a complete call: nothing more to gain
    # a higher score alone is not worth a change, nor is turning a request no operation fitted
    # into a question about one: only a complete call, or a better call than there was
    if not taken or quality[:2] == start[:2] or not (quality[0] or current.command is not None):
        return Snapped(text)
    return Snapped(_apply(text, taken), taken)
