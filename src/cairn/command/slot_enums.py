"""Enum and yes/no slots: the enum value a request says, and whether it states a flag.

An enum takes one of its values, a word its description gives a value ("Apple=AAPL"), or a
common synonym of an action value ("remove" for ``delete``); a "True"/"False" enum and a
boolean parameter are stated by the parameter's own words, unless negated.
"""

from __future__ import annotations

import re
from typing import Any

from cairn.command.operations import ParamDoc, split_name
from cairn.command.slot_request import _STOP, _Request, _root, _stem

# common English words for the action words enums use (general language, no API named)
_ACTION_SYNONYMS: dict[str, tuple[str, ...]] = {
    "delete": ("remove", "erase", "get rid of", "drop"),
    "remove": ("delete", "erase", "get rid of"),
    "add": ("create", "insert", "remember", "append"),
    "create": ("add", "make a new", "new"),
    "complete": ("finish", "finished", "done", "mark as done", "completed"),
    "update": ("change", "modify", "edit", "rename"),
    "asc": ("ascending", "smallest to the largest", "smallest to largest", "lowest first"),
    "ascending": ("smallest to the largest", "smallest to largest", "lowest first"),
    "desc": ("descending", "largest to the smallest", "largest to smallest", "highest first"),
    "descending": ("largest to the smallest", "largest to smallest", "highest first"),
}


def _fill_enum(
    p: ParamDoc, req: _Request, others: frozenset[str] = frozenset()
) -> tuple[Any, str] | None:
    """The enum value the request says: a value itself before an alias the description gives
    it, a specific value before a catch-all ("postgres" before "all" in "all the PostgreSQL
    servers"), then the longest; a value of 6+ letters may start a longer word ("postgres"
    in "PostgreSQL"). A number followed by a word of another parameter's name (``others``:
    "two rooms" beside ``number_of_rooms``) counts that, not this enum."""
    best: tuple[tuple[bool, bool, int], Any, str] | None = None
    values_said = {str(v).lower() for v in p.enum}
    choices: list[tuple[str, Any]] = [(str(v), v) for v in p.enum]
    choices += [(split_name(str(v)), v) for v in p.enum if split_name(str(v)) != str(v).lower()]
    choices += list(p.aliases)
    said_choices = {w.lower() for w, _ in choices}
    for v in p.enum:  # "remove" says "delete", "finished" says "complete"
        for synonym in _ACTION_SYNONYMS.get(str(v).lower(), ()):
            if synonym not in said_choices:
                choices.append((synonym, v))
    for words, value in choices:
        if not words.strip():
            continue
        rank = (
            words.lower() in values_said or split_name(str(value)) == words.lower(),
            str(value).lower() not in _CATCH_ALL,
            len(words),
        )
        if p.aliases and words.isdigit() and not _year_of_a_year_param(p, words):
            # "5=May": the values have words, so a bare number ("the 5 hottest days") is
            # some other parameter's unless the parameter is named before it ("month 5")
            cue = r"\b" + r"\s+".join(map(re.escape, p.words.split())) + r"\s+" + words + r"\b"
            m = re.search(cue, req.low)
            if m and (best is None or rank > best[0]):
                best = (rank, value, m.group(0))
            continue
        said = re.escape(words.lower()).replace("\\&", r"\s*(?:&|and)\s*")  # S&P: s and p
        tail = r"[a-z]*" if len(words) >= 6 and words.isalpha() else r"(?:'s|s|'|es|d|ed|al)?"
        m = re.search(r"(?<![\w])" + said + tail + r"(?![\w])", req.low)
        if m and words.isdigit() and _counts_another(p, req, m.end(), others):
            m = None
        if m and words.isdigit() and _CLOCK_AFTER.match(req.low, m.end()):
            m = None  # "depart around 2 PM": a time, not two of anything
        if m and (best is None or rank > best[0]):
            best = (rank, value, m.group(0))
    if best is None:
        return _enum_by_root(p, req)
    return best[1], best[2]


_CLOCK_AFTER = re.compile(r"\s*(?:[ap]\.?m\b|:\d|\s*o'clock)")


def _counts_another(p: ParamDoc, req: _Request, end: int, others: frozenset[str]) -> bool:
    nxt = re.match(r"\s*-?\s*([a-z]+)", req.low[end:])
    if nxt is None:
        return False
    word = _stem(nxt.group(1))
    return word in others and word not in {_stem(w) for w in p.words.split()}


def _year_of_a_year_param(p: ParamDoc, words: str) -> bool:
    """ "released in 2015" for a ``year`` enum of "2010".."2024" (and "dontcare"): a year said
    is that parameter's value itself, not a number some other parameter may want."""
    about_years = "year" in p.words.split() or "year" in p.description.lower().split()
    return about_years and re.fullmatch(r"(?:1[89]|20)\d\d", words) is not None


def _enum_by_root(p: ParamDoc, req: _Request) -> tuple[Any, str] | None:
    """ "mysterious" for Mystery, "thrill" for Thriller: a word said that shares its first
    six letters or more, and four fifths of the shorter word, with one enum value."""
    said = set(re.findall(r"[a-z]{6,}", req.low))
    found = []
    for v in p.enum:
        value = str(v).lower()
        if len(value) < 6 or not value.isalpha() or value in _CATCH_ALL:
            continue
        for w in said:
            common = next(
                (i for i, (a, b) in enumerate(zip(w, value, strict=False)) if a != b),
                min(len(w), len(value)),
            )
            if common >= 6 and common >= 0.8 * min(len(w), len(value)):
                found.append((v, w))
    return found[0] if len({v for v, _ in found}) == 1 else None


_CATCH_ALL = frozenset(("all", "any", "none", "dontcare", "default", "other", "both", "either"))


def _is_yes_enum(p: ParamDoc) -> bool:
    said = {str(v).lower() for v in p.enum}
    return {"true", "false"} <= said


def _yes_enum(p: ParamDoc, req: _Request) -> tuple[Any, str] | None:
    """An enum of "True" / "False" (/ "dontcare") is a yes/no, whatever words its description
    gives the values: "True" when the request says the parameter's own words ("has laundry
    service") or its last word ("suitable for children" for ``good_for_kids``), "False" when
    that word is negated ("not for kids"); unset otherwise."""
    value = {str(v).lower(): v for v in p.enum}
    if _says_free(p, req):
        return value["true"], "(stated)"
    if _phrase_stated(p, req):
        return value["true"], "(stated)"
    words = [w for w in split_name(p.name).split() if w not in _STOP]
    if not words:
        return None
    tokens = re.findall(r"[a-z']+", req.low)
    hits: list[int] = []
    # the last word ("kids"), else the first of two unless it only praises ("free" of
    # free_entry, not "good" of good_for_kids)
    for word in (words[-1], words[0] if len(words) == 2 and words[0] not in _PRAISE else ""):
        names = {_stem(word), *_SAME_THING.get(_stem(word), ())} if word else set()
        hits = [i for i, t in enumerate(tokens) if _stem(t) in names]
        if hits:
            break
    if not hits:
        return None
    negated = any(t in _NEGATIONS for t in tokens[max(0, hits[0] - 4) : hits[0]])
    return (value["false"], "(negated)") if negated else (value["true"], "(stated)")


_NO_FEE = re.compile(
    r"\b(?:no|without(?:\s+an?)?|zero|not\s+(?:have\s+|charge\s+)?an?)\s+"
    r"(?:entry\s+|entrance\s+|admission\s+|cover\s+)?(?:fees?|charges?|costs?)\b"
    r"|\bfree\s+of\s+charge\b"
)


def _says_free(p: ParamDoc, req: _Request) -> bool:
    """ "no entry fee", "free of charge": a yes/no named "free" said in other words."""
    return "free" in split_name(p.name).split() and bool(_NO_FEE.search(req.low))


_PRAISE = frozenset(("good", "best", "great", "nice", "top", "is", "has", "allow", "allows"))
# words people use for the same thing in a yes/no parameter's name
_SAME_THING: dict[str, tuple[str, ...]] = {
    "kid": ("child", "children", "famili", "family"),
    "kids": ("child", "children", "famili", "family"),
    "pet": ("dog", "dogs", "cat", "cats"),
    "wifi": ("internet", "wi-fi"),
}


def _phrase_stated(p: ParamDoc, req: _Request) -> bool:
    """A yes/no parameter is stated when the request holds its own words, generic ones
    ("is", "has", "status", "enabled") aside, each as a word or a word it starts ("details" ->
    "detailed", "closed" -> "closed"), and not negated ("no garage", "without a pool")."""
    return _phrase_said(p, req) is True


def _phrase_said(p: ParamDoc, req: _Request) -> bool | None:
    """What the request says of a yes/no parameter: True when it holds the parameter's own
    words (see :func:`_phrase_stated`), False when it holds them negated ("non-smoking", "no
    garage"), None when it does not hold them."""
    if _says_free(p, req):
        return True
    generic = ("is", "has", "have", "include", "use", "with", "status", "flag", "enabled",
               "enable", "mode", "visibility", "allowed", "option", "setting")  # fmt: skip
    own = [w for w in split_name(p.name).split() if w not in _STOP or w in generic]
    words = [w for w in own if w not in generic]
    if not words:  # "include_status": the thing to include is the word to hear
        words = [w for w in own if w not in ("is", "has", "have", "include", "use", "with")]
    if not words:
        return None
    tokens = [  # "multi-player": "multi", "player" and "multiplayer", in their place
        part
        for said in re.findall(r"[a-z']+(?:-[a-z']+)*", req.low)
        for part in ([*said.split("-"), said.replace("-", "")] if "-" in said else [said])
    ]

    def says(w: str, w2: str) -> bool:
        if w2 in _SAID_AS.get(w, ()):  # "extra luggage" for additional_luggage
            return True
        if len(w) >= 6 and _root(w) == _root(w2):  # "requires" for auth_required
            return True
        return w2 == _stem(w) or (len(w) >= 4 and w2.startswith(_stem(w))) or _same_root(w, w2)

    hits = [i for i, t in enumerate(tokens) if t not in _STOP and says(words[0], t)]
    if not hits or not all(any(says(w, t) for t in tokens if t not in _STOP) for w in words):
        return None
    before = tokens[max(0, hits[0] - 4) : hits[0]]
    return not any(t in _NEGATIONS for t in before)


# the same word in other words, in a yes/no parameter's name
_SAID_AS: dict[str, tuple[str, ...]] = {"additional": ("extra",), "extra": ("additional",)}

_NEGATIONS = frozenset((
    "no", "not", "without", "never", "don't", "dont", "nor", "exclude", "excluding", "except",
    "non", "shouldn't", "isn't", "aren't", "doesn't", "won't", "can't", "cannot", "neither",
))  # fmt: skip


def _same_root(word: str, said: str) -> bool:
    """ "standardize" is stated by "standardization", "normalise" by "normalised": long words
    whose only difference is a final "e" and what follows it."""
    return len(word) >= 7 and word.endswith("e") and said.startswith(word[:-1])


def enum_list_said(p: ParamDoc, req: _Request) -> tuple[list[Any], str] | None:
    """The values of an array's item enum that the request says, in the order said ("points
    and rebounds" -> ``["Points", "Rebounds"]``, "a tennis court" -> ``["Tennis Court"]``);
    a catch-all value ("all") is not read from a word."""
    spans = [(m.start(), m.end(), _stem(m.group(0))) for m in re.finditer(r"[a-z0-9]+", req.low)]
    stems = [s for _, _, s in spans]
    found: list[tuple[int, Any]] = []
    for v in p.item_enum:
        target = [_stem(w) for w in re.findall(r"[a-z0-9]+", split_name(str(v)).lower())]
        if not target or str(v).lower() in _CATCH_ALL or all(t in _STOP for t in target):
            continue
        for i in range(len(stems) - len(target) + 1):
            start, end = spans[i][0], spans[i + len(target) - 1][1]
            if stems[i : i + len(target)] == target and req.free(start, end):
                found.append((start, v))
                req.used.append((start, end))  # "violin lessons" is not also "violins"
                break
    if not found:
        return None
    found.sort(key=lambda f: f[0])
    return [v for _, v in found], ", ".join(str(v) for _, v in found)
