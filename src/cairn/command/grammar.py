"""A symbolic intent grammar: request text -> :class:`Command`, or ``None`` when nothing matches.

Three steps:

1. :func:`normalise` makes typed text and transcribed speech look alike: lowercase, fillers
   ("um", "please", "could you", "hey cairn") dropped, spelled numbers turned into digits
   ("twenty nineteen" -> 2019), sentence punctuation removed (file names and URLs kept).
2. :func:`extract_filters` takes explicit filters out of the text: a collection ("in my
   research collection"), absolute dates ("between 2010 and 2015", "since 2019", "in 2019";
   "last year" is relative and stays in the text), licences ("only CC-BY sources").
3. :data:`RULES`, ordered regex templates with named groups, are tried in turn; the first whose
   builder returns a command wins. Requests that need context ("forget it", "chart it", a bare
   noun) become ``clarify`` commands with a question, never a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cairn.command.model import Command, Intent

# -- normalisation -------------------------------------------------------------------------

_FILLERS = {"um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "hm", "mm", "mmm", "ah", "eh"}
_ANYWHERE = re.compile(r"\b(?:please|kindly|you know|i mean)\b")
_LEADING = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay)\s+cairn|cairn|hey|hi|hello|ok|okay|so|well|alright|right|"
    r"now|and|oh|just|quickly|actually|"
    r"(?:could|can|would|will)\s+you(?:\s+(?:just|quickly|maybe))?|"
    r"(?:i\s+want|i\s+need|i\s+would\s+like|id\s+like|i\s+d\s+like)\s+you\s+to|"
    r"(?:i\s+would\s+like|id\s+like|i\s+want|i\s+wanna|i\s+wish)\s+to|i\s+wanna|"
    r"lets|let\s+us)\b\s*"
)
_TRAILING = re.compile(r"\s*\b(?:please|thanks|thank\s+you|cairn|for\s+me)$")
_EDGE_PUNCT = "\"'“”‘’`?!,;:()[]{}<>¿¡…*«»"
_APOSTROPHES = re.compile(r"(?<=\w)['’](?=\w)")
_SPOKEN_EXT = re.compile(
    r"\s+dot\s+(md|txt|pdf|html?|docx?|json|jsonl|csv|tsv|xml|epub|com|org|net|io|edu|gov)\b"
)

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_NUMBER_WORDS = set(_UNITS) | set(_TEENS) | set(_TENS) | set(_SCALES)


def _cardinal(words: list[str]) -> int | None:
    """'two thousand and five' -> 2005, 'fifteen hundred' -> 1500; None when not well formed."""
    total = current = 0
    prev = ""  # class of the previous word: unit, teen, tens, hundred, scale, and
    for i, w in enumerate(words):
        if w == "and":
            if prev not in ("hundred", "scale") or i == len(words) - 1:
                return None
            prev = "and"
        elif w in _UNITS:
            if prev in ("unit", "teen"):
                return None
            current += _UNITS[w]
            prev = "unit"
        elif w in _TEENS:
            if prev in ("unit", "teen", "tens"):
                return None
            current += _TEENS[w]
            prev = "teen"
        elif w in _TENS:
            if prev in ("unit", "teen", "tens"):
                return None
            current += _TENS[w]
            prev = "tens"
        elif w == "hundred":
            if prev not in ("unit", "teen", "tens") or current % 100 == 0 or current >= 100:
                return None
            current *= 100
            prev = "hundred"
        elif w in _SCALES:
            if prev in ("", "and", "scale"):
                return None
            total += current * _SCALES[w]
            current = 0
            prev = "scale"
        else:
            return None
    return total + current if prev else None


def _two_digits(words: list[str]) -> tuple[int, int] | None:
    """A year half at the start of ``words``: (value, words used), e.g. 'sixty six' -> 66."""
    if not words:
        return None
    w = words[0]
    if w in _TEENS:
        return _TEENS[w], 1
    if w in _TENS:
        if len(words) > 1 and words[1] in _UNITS and words[1] != "zero":
            return _TENS[w] + _UNITS[words[1]], 2
        return _TENS[w], 1
    if w in ("oh", "o") and len(words) > 1 and words[1] in _UNITS and words[1] != "zero":
        return _UNITS[words[1]], 2
    return None


def _year(words: list[str]) -> tuple[int, int] | None:
    """'twenty nineteen' -> 2019, 'ten sixty six' -> 1066, 'nineteen oh five' -> 1905."""
    if not words or not (words[0] in _TEENS or words[0] == "twenty"):
        return None
    century = _TEENS.get(words[0], 20)
    rest = _two_digits(words[1:])
    if rest is None:
        return None
    return century * 100 + rest[0], 1 + rest[1]


def _numbers_to_digits(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        w = tokens[i]
        if w not in _NUMBER_WORDS or (w == "one" and not _continues_number(tokens, i)):
            out.append(w)
            i += 1
            continue
        year = _year(tokens[i : i + 3])
        if year is not None:
            out.append(str(year[0]))
            i += year[1]
            continue
        best: tuple[int, int] | None = None
        j = i + 1
        while j <= len(tokens) and (tokens[j - 1] in _NUMBER_WORDS or tokens[j - 1] == "and"):
            value = _cardinal(tokens[i:j])
            if value is not None:
                best = (value, j)
            j += 1
        if best is None:
            out.append(w)
            i += 1
        else:
            out.append(str(best[0]))
            i = best[1]
    return out


def _continues_number(tokens: list[str], i: int) -> bool:
    """'one' is a number only inside a compound ('one hundred', 'twenty one')."""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    prev = tokens[i - 1] if i else ""
    return nxt in _SCALES or prev in _TENS or nxt in ("point",)


def normalise(text: str) -> str:
    """Lowercase, drop fillers and sentence punctuation, spelled numbers to digits."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _APOSTROPHES.sub("", text)
    tokens = []
    for raw in text.split():
        tok = raw.strip(_EDGE_PUNCT)
        tok = tok.rstrip(".")
        tok = tok.strip(_EDGE_PUNCT)
        if tok and tok not in _FILLERS and re.search(r"\w", tok):
            tokens.append(tok)
    tokens = _numbers_to_digits(tokens)
    text = " ".join(tokens)
    text = re.sub(r"\b(\d+) point (?:oh|o|zero)\b", r"\1.0", text)
    text = re.sub(r"\b(\d+) point (\d+)\b", r"\1.\2", text)
    text = _SPOKEN_EXT.sub(r".\1", text)
    text = _ANYWHERE.sub(" ", text)
    text = " ".join(text.split())
    previous = None
    while previous != text:
        previous = text
        text = _LEADING.sub("", text).strip()
        text = _TRAILING.sub("", text).strip()
    return text


# -- language ----------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


_ENGLISH_WORDS = """the a an of to in on for about from with and or is are was were be do does
did what who when where why how which that this it my me i you your can could would should will
have has had any all some find search show list tell give get remember forget delete remove chart
plot help please documents sources notes say says papers call api weather there not no"""
_FOREIGN_WORDS = """el la los las un una unos que qué dice dicen mis tus sobre del por para
como cómo cuál dónde cuándo está están es son y o le les des du une est sont mes tes quels quelles
quel parlent dit disent pour avec dans sur qui où quand pourquoi der die das den dem ein eine und
ist sind meine deine über mit für wie wo wann warum sagen sagt nicht ich il lo gli di che sono
della delle degli per nel nella dei het een van zijn wat hoe waar não são uma em com os as meu
minha hola estas esta tengo tienes puedes quiero buscar busca gracias bonjour merci je tu vous
nous peux pouvez cherche trouve danke bitte kannst zeige suche finde ciao grazie voglio cerca
trova hallo"""
_ENGLISH = frozenset(_words(_ENGLISH_WORDS))
# Words that are also common in English do not count as foreign.
_FOREIGN = frozenset(_words(_FOREIGN_WORDS)) - _ENGLISH - {"die", "as", "os", "son", "le"}


def looks_non_english(text: str) -> bool:
    """A cheap heuristic: mostly non-Latin letters, or more foreign function words than English."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    if latin / len(letters) < 0.5:
        return True
    words = re.findall(r"[^\W\d_]+", text.lower())
    foreign = sum(1 for w in words if w in _FOREIGN)
    english = sum(1 for w in words if w in _ENGLISH)
    if re.search(r"[¿¡ñßõãœ]", text.lower()) and foreign >= 1:
        return True
    return foreign >= 2 and foreign > english


# -- filters -------------------------------------------------------------------------------


@dataclass
class Filters:
    collection: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    licenses: list[str] = field(default_factory=list)

    def as_slots(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.collection:
            out["collection"] = self.collection
        if self.date_from:
            out["date_from"] = self.date_from
        if self.date_to:
            out["date_to"] = self.date_to
        if self.licenses:
            out["licenses"] = list(self.licenses)
        return out


_STOP = r"(?:my|the|our|in|from|of|about|on|for|and|with|under|to|a|an|all|everything)"
_NAME = rf"(?!{_STOP}\b)[\w][\w.\-]*"
_COLLECTION_RES = (
    re.compile(
        rf"\b(?:(?:in|from|within|inside|across|of|on|using|through|into)\s+)?"
        rf"(?:my|the|our)\s+(?P<c>{_NAME}(?:\s+{_NAME}){{0,3}}?)\s+collection\b"
    ),
    re.compile(
        rf"\b(?:in|from|within|inside)\s+(?:the\s+)?collection\s+(?:called\s+|named\s+)?"
        rf"(?P<c>{_NAME})"
    ),
)

_YEAR = r"(?:1[0-9]{3}|20[0-9]{2})"
_MONTH_NAMES = tuple(
    _words("january february march april may june july august september october november december")
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        _MONTH_NAMES,
        start=1,
    )
}
_MONTH = r"(?:" + "|".join(_MONTHS) + r")"


def _date(name: str) -> str:
    return rf"(?:(?P<{name}m>{_MONTH})\s+)?(?P<{name}y>{_YEAR})"


_DATE_RES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            rf"\b(?:published\s+|written\s+|dated\s+)?between\s+{_date('a')}\s+and\s+{_date('b')}\b"
        ),
        "range",
    ),
    (
        re.compile(
            rf"\b(?:published\s+|written\s+|dated\s+)?from\s+{_date('a')}\s+"
            rf"(?:to|until|till|through|and)\s+{_date('b')}\b"
        ),
        "range",
    ),
    (re.compile(r"\bin\s+the\s+(?P<dec>1[0-9]{2}0|20[0-9]0)s\b"), "decade"),
    (
        re.compile(
            rf"\b(?:published\s+|written\s+|dated\s+)?(?:since|from)\s+{_date('a')}\s+"
            rf"(?:onwards?|on)\b"
        ),
        "from",
    ),
    (re.compile(rf"\b(?:published\s+|written\s+|dated\s+)?since\s+{_date('a')}\b"), "from"),
    (re.compile(rf"\b(?:published\s+|written\s+|dated\s+)?after\s+{_date('a')}\b"), "after"),
    (re.compile(rf"\b(?:published\s+|written\s+|dated\s+)?before\s+{_date('b')}\b"), "before"),
    (
        re.compile(
            rf"\b(?:published\s+|written\s+|dated\s+)?(?:until|till|up\s+to|through)\s+{_date('b')}\b"
        ),
        "to",
    ),
    (
        re.compile(rf"\b(?:published\s+|written\s+|dated\s+)?(?:in|during|from)\s+{_date('a')}\b"),
        "in",
    ),
)

_CC = r"cc[\s-]?by(?P<mods>(?:[\s-](?:nc|sa|nd)){0,2})(?:[\s-](?P<ccv>[1-4](?:\.[05])?))?"
_LICENCE = (
    rf"(?:{_CC}|creative\s+commons(?:\s+attribution)?(?P<cmods>(?:\s+(?:non\s*commercial|"
    r"share\s*alike|no\s*derivatives?))*)|cc[\s-]?0|cc[\s-]?zero|public\s+domain|mit|"
    r"apache(?:[\s-]v?(?P<apv>[12](?:\.[01])?))?|l?gpl(?:[\s-]?v?(?P<gpv>[23])(?:\.0)?)?|bsd|mpl|odbl)"
)
_LICENCE_NOUN = (
    r"(?:sources|documents|docs|papers|files|material|content|ones|stuff|articles|texts|data)"
)
_LICENCE_RES = (
    # "only CC-BY sources", "CC-BY only": the filter words go, the rest of the sentence stays
    re.compile(
        rf"\b(?:only|just)\s+(?:an?\s+|the\s+)?(?P<lic>{_LICENCE})(?:[\s-]licen[sc]ed)?"
        rf"\s+(?:licen[sc]ed\s+)?{_LICENCE_NOUN}\b"
    ),
    re.compile(rf"\b(?P<lic>{_LICENCE})(?:[\s-]licen[sc]ed)?\s+(?:sources\s+)?only\b"),
    # "under the MIT licence", "licensed under CC BY 4.0"
    re.compile(
        rf"\b(?:only\s+)?(?:licen[sc]ed\s+)?(?:under|with)\s+(?:an?\s+|the\s+)?(?P<lic>{_LICENCE})"
        r"(?:\s+licen[sc]es?)?\b"
    ),
    re.compile(rf"\b(?:only|just)\s+(?P<lic>{_LICENCE})\b"),
    # "the CC-BY-NC sources", "MIT-licensed code": the noun stays
    re.compile(
        rf"\b(?P<lic>{_LICENCE})(?:[\s-]licen[sc]ed)?(?=\s+(?:licen[sc]ed\s+)?{_LICENCE_NOUN}\b)"
    ),
)
_CC_VERSIONS = ("1.0", "2.0", "2.5", "3.0", "4.0")


def licence_ids(match: re.Match[str]) -> list[str]:
    """SPDX ids for a licence phrase; an unversioned family means all its versions."""
    lic = match.group("lic")
    if (lic.startswith("cc") and "by" in lic) or lic.startswith("creative"):
        mods_text = (match.group("mods") or match.group("cmods") or "").lower()
        mods = []
        if re.search(r"nc|non\s*commercial", mods_text):
            mods.append("NC")
        if re.search(r"sa|share\s*alike", mods_text):
            mods.append("SA")
        if re.search(r"nd|no\s*deriv", mods_text):
            mods.append("ND")
        base = "-".join(["CC-BY", *mods])
        version = match.group("ccv")
        if version:
            return [f"{base}-{version if '.' in version else version + '.0'}"]
        return [f"{base}-{v}" for v in _CC_VERSIONS]
    if re.match(r"cc[\s-]?(0|zero)|public", lic):
        return ["CC0-1.0"]
    if lic == "mit":
        return ["MIT"]
    if lic.startswith("apache"):
        v = match.group("apv")
        if v:
            return [f"Apache-{v if '.' in v else v + '.0'}"]
        return ["Apache-1.0", "Apache-1.1", "Apache-2.0"]
    if "gpl" in lic:
        prefix = "LGPL" if lic.startswith("l") else "GPL"
        v = match.group("gpv")
        versions = [v] if v else (["2", "3"] if prefix == "GPL" else ["2.1", "3"])
        return [
            f"{prefix}-{x if '.' in x else x + '.0'}-{s}"
            for x in versions
            for s in ("only", "or-later")
        ]
    if lic == "bsd":
        return ["BSD-2-Clause", "BSD-3-Clause"]
    if lic == "mpl":
        return ["MPL-2.0"]
    return ["ODbL-1.0"]


def _iso(m: re.Match[str], name: str, *, end: bool = False, shift: int = 0) -> str:
    year = int(m.group(f"{name}y")) + shift
    month = m.group(f"{name}m")
    if month and not shift:
        return f"{year:04d}-{_MONTHS[month]:02d}"
    return f"{year:04d}"


def extract_filters(text: str, *, dates: bool = True) -> tuple[Filters, str]:
    """Take collection, date and licence filters out of ``text``; return them and the rest."""
    f = Filters()
    for rx in _COLLECTION_RES:
        m = rx.search(text)
        if m:
            f.collection = m.group("c")
            text = _cut(text, m)
            break
    for rx in _LICENCE_RES:
        m = rx.search(text)
        if m:
            f.licenses = licence_ids(m)
            text = _cut(text, m)
            break
    if dates:
        for rx, kind in _DATE_RES:
            m = rx.search(text)
            if not m:
                continue
            if kind == "range":
                f.date_from, f.date_to = _iso(m, "a"), _iso(m, "b", end=True)
            elif kind == "decade":
                start = int(m.group("dec"))
                f.date_from, f.date_to = str(start), str(start + 9)
            elif kind == "from":
                f.date_from = _iso(m, "a")
            elif kind == "after":
                f.date_from = _iso(m, "a", shift=1) if not m.group("am") else _iso(m, "a")
            elif kind == "before":
                f.date_to = _iso(m, "b", shift=-1) if not m.group("bm") else _iso(m, "b")
            elif kind == "to":
                f.date_to = _iso(m, "b")
            else:
                f.date_from = f.date_to = _iso(m, "a")
            text = _cut(text, m)
            break
    return f, _tidy(text)


def _cut(text: str, m: re.Match[str]) -> str:
    return (text[: m.start()] + " " + text[m.end() :]).strip()


_DANGLING = re.compile(
    r"(?:\s+\b(?:in|from|of|on|under|with|for|within|and|only|published|written|that|are|is)\b)+$"
)


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    previous = None
    while previous != text:
        previous = text
        text = _DANGLING.sub("", text).strip()
        text = re.sub(r"^(?:and|also|only)\s+", "", text)
    return text


# -- rules ---------------------------------------------------------------------------------

_DEICTIC = (
    r"(?:it|that|this|them|those|these|they|one|that\s+one|this\s+one|the\s+one|"
    r"the\s+(?:first|second|third|fourth|last|other|next|previous|same|latest)(?:\s+one)?|"
    r"the\s+other\s+ones?|everything|all|all\s+of\s+(?:them|it)|both)"
)
_DOC_NOUN = (
    r"(?:papers?|documents?|docs?|articles?|reports?|notes?|files?|sources?|stuff|things|"
    r"material|materials|texts?|records?|pdfs?|pages?|entries|items|results|anything|something|"
    r"everything)"
)
_ABOUT = (
    r"(?:on|about|regarding|concerning|mentioning|that\s+mention|which\s+mention|related\s+to|"
    r"covering|discussing|relating\s+to|dealing\s+with|to\s+do\s+with|with|of)"
)
_STORE = (
    r"(?:knowledge\s+base|kb|library|sources|documents|notes|cairn|database|memory|index|archive)"
)
_KB = (
    r"(?:knowledge\s+base|kb|library|sources|documents|collection|collections|notes|cairn|"
    r"database|memory|index|archive|files)"
)


@dataclass(frozen=True)
class Rule:
    """One template: ``pattern`` is matched (``fullmatch``) against the text of ``stage``."""

    name: str
    intent: Intent
    pattern: re.Pattern[str]
    build: Callable[[re.Match[str], Filters], Command | None]
    stage: str = "raw"  # raw: normalised text; filtered: with filters taken out; question: no dates


def _clarify(question: str, confidence: float = 1.0) -> Command:
    return Command(intent="clarify", clarification=question, confidence=confidence)


def _out_of_scope(reason: str) -> Command:
    return Command(intent="out_of_scope", clarification=reason, confidence=0.9)


def _strip_doc_nouns(query: str) -> str:
    q = query.strip()
    q = re.sub(
        rf"^(?:(?:all|any|some|every)\s+)?(?:(?:the|my|our|your)\s+)?(?:{_DOC_NOUN}\s+)+"
        rf"(?:(?:i|we)\s+(?:have|got|saved)\s+)?{_ABOUT}\s+",
        "",
        q,
    )
    q = re.sub(r"^(?:what|whatever)\s+(?:i|we)\s+(?:have|got|saved)\s+(?:on|about)\s+", "", q)
    q = re.sub(r"^(?:on|about|regarding|for)\s+", "", q)
    q = re.sub(
        r"\s+(?:papers|documents|docs|articles|reports|notes|files|sources|stuff|material)$",
        "",
        q,
    )
    return _tidy(q)


def _is_deictic(text: str) -> bool:
    return (
        re.fullmatch(rf"(?:the\s+)?{_DEICTIC}(?:\s+(?:one|ones|again))?", text.strip()) is not None
    )


def _with_query(intent: Intent, query: str, f: Filters, what: str, conf: float) -> Command:
    query = _tidy(query)
    if not query or _is_deictic(query):
        return _clarify(f"What should I {what}? Say it in full, e.g. '{what} solar panels'.")
    return Command(intent=intent, query=query, confidence=conf, **f.as_slots())


def _search(m: re.Match[str], f: Filters) -> Command | None:
    query = _strip_doc_nouns(m.group("q"))
    if re.fullmatch(rf"(?:all\s+)?(?:(?:my|the|our)\s+)?{_DOC_NOUN}", query):
        return None  # "show me all my files" is a listing, not a search
    return _with_query("search", query, f, "search for", 0.9)


def _ask(m: re.Match[str], f: Filters) -> Command | None:
    query = m.group("q")
    query = re.sub(
        r"\s+(?:according\s+to|in|from|based\s+on)\s+(?:my|the|our)\s+(?:\w+\s+){0,2}"
        r"(?:sources|notes|documents|papers|files|knowledge\s+base|kb|library)$",
        "",
        query,
    )
    return _with_query("ask", query, f, "ask about", 0.85)


def _question(m: re.Match[str], f: Filters) -> Command | None:
    text = m.group(0)
    if len(text.split()) < 3:
        return None
    return _ask(m, f)


def _synthesize(m: re.Match[str], f: Filters) -> Command | None:
    query = re.sub(r"^(?:the\s+)?(?:idea|claim|statement|notion|view)\s+(?:that\s+)?", "", m["q"])
    query = re.sub(r"^(?:that|whether)\s+", "", query)
    return _with_query("synthesize", query, f, "weigh the evidence on", 0.9)


def _chart(m: re.Match[str], f: Filters) -> Command | None:
    query = _tidy(m.group("q"))
    kind = m.groupdict().get("k") or m.groupdict().get("k2")
    trail = re.search(
        r"\s+(?:as|in)\s+(?:a\s+|an\s+)?(?P<k>bar|line|pie|scatter)(?:\s*(?:chart|graph|plot|diagram))?$",
        query,
    )
    if trail:
        kind = kind or trail.group("k")
        query = query[: trail.start()]
    query = re.sub(r"^(?:of|for|showing)\s+", "", query)
    if not query or _is_deictic(query):
        return _clarify(
            "What should I chart? Name the data, e.g. 'chart the number of sources by year'."
        )
    return Command(
        intent="chart",
        query=_tidy(query),
        chart_kind=kind if kind in ("bar", "line", "pie", "scatter") else None,  # type: ignore[arg-type]
        confidence=0.9,
        **f.as_slots(),
    )


def _remember(m: re.Match[str], f: Filters) -> Command | None:
    fact = m.group("q").strip()
    if _is_deictic(fact) or len(fact.split()) < 2:
        return _clarify("What should I remember? Say the fact, e.g. 'remember that ...'.")
    return Command(intent="remember", query=fact, confidence=0.95)


def _forget(m: re.Match[str], f: Filters) -> Command | None:
    target = m.group("s").strip()
    target = re.sub(rf"\s+from\s+(?:my|the|our)\s+(?:\w+\s+)?{_STORE}$", "", target)
    target = re.sub(r"\s+from\s+cairn$", "", target)
    everything = re.fullmatch(
        rf"(?:all|everything|every\s+\w+)(?:\s+(?:of\s+)?(?:my|the|our))?(?:\s+{_DOC_NOUN}|\s+{_KB})?"
        rf"(?:\s+(?:in|from)\s+(?:my|the)\s+(?P<c>[\w.\- ]+?)\s+collection)?",
        target,
    )
    if everything:
        if everything.group("c"):
            return Command(intent="forget", collection=everything.group("c"), confidence=0.85)
        return _clarify(
            "That would delete everything. Which source should I forget? "
            "Name one (file name, URL or id), or say 'list my sources'."
        )
    named = re.search(r"\b(?:called|named|titled)\s+", target)
    if named:
        target = target[named.end() :]
    target = re.sub(
        r"^(?:the\s+|my\s+|this\s+|a\s+)?(?:(?:source|file|document|doc|pdf|article|paper|page|"
        r"url|link|note|entry)s?\s+)?(?:with\s+id\s+|id\s+|number\s+)?",
        "",
        target,
    )
    target = re.sub(r"^(?:about|on)\s+(?:the\s+)?", "", target)
    if not named:
        target = re.sub(
            r"\s+(?:source|file|document|doc|pdf|article|paper|page|notes?)$", "", target
        ).strip()
    vague = re.search(
        r"\b(?:i|we)\s+(?:added|uploaded|ingested|saved|had)\b|\b(?:yesterday|today|earlier|"
        r"recently|last|latest|previous|before)\b",
        target,
    )
    if not target or _is_deictic(target) or vague:
        return _clarify(
            "Which source should I forget? Give its file name, URL or id "
            "('list my sources' shows them)."
        )
    return Command(intent="forget", source=target, confidence=0.9)


_API_WORD = r"(?:api|apis|service|endpoint|web\s+service)"


def _snake(words: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", words.strip().lower()).strip("_")


def _api_params(rest: str) -> dict[str, str | int | float | bool]:
    params: dict[str, str | int | float | bool] = {}
    for key, value in re.findall(r"\b([a-z_][\w]*)\s*=\s*(\S+)", rest):
        params[key] = _coerce(value)
    rest = re.sub(r"\s*\b(?:with\s+)?[a-z_][\w]*\s*=\s*\S+", "", rest)
    rest = _tidy(re.sub(r"^(?:for|about|on|with|to|and|regarding)\s+", "", rest.strip()))
    if rest:
        params = {"q": rest, **params}
    return params


def _coerce(value: str) -> str | int | float | bool:
    if value in ("true", "yes"):
        return True
    if value in ("false", "no"):
        return False
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    if re.fullmatch(r"-?\d+\.\d+", value):
        return float(value)
    return value


def _call_api(m: re.Match[str], f: Filters) -> Command | None:
    service = m.groupdict().get("svc") or ""
    service = re.sub(r"^(?:the|my|our|a|an)\s+", "", service.strip())
    if not service or service in ("the", "an", "a", "that", "this", "some", "any"):
        return _clarify(
            "Which API should I call, and with what? e.g. 'call the weather API for Paris'."
        )
    operation = _snake(service)
    op = m.groupdict().get("op")
    if op:
        operation += "." + _snake(re.sub(r"^(?:the|a|an)\s+", "", op))
    params = _api_params(m.groupdict().get("rest") or "")
    if m.groupdict().get("q"):
        params = {"q": _tidy(m.group("q")), **params}
    return Command(intent="call_api", api_operation=operation, api_params=params, confidence=0.85)


def _weather(m: re.Match[str], f: Filters) -> Command | None:
    return Command(
        intent="call_api",
        api_operation="weather",
        api_params={"q": _tidy(m.group("q"))},
        confidence=0.75,
    )


def _help(m: re.Match[str], f: Filters) -> Command | None:
    return Command(intent="help", confidence=0.95)


def _list(m: re.Match[str], f: Filters) -> Command | None:
    return Command(intent="list_sources", confidence=0.9, **f.as_slots())


def _fixed_clarify(question: str) -> Callable[[re.Match[str], Filters], Command | None]:
    def build(m: re.Match[str], f: Filters) -> Command | None:
        return _clarify(question)

    return build


def _fixed_oos(reason: str) -> Callable[[re.Match[str], Filters], Command | None]:
    def build(m: re.Match[str], f: Filters) -> Command | None:
        return _out_of_scope(reason)

    return build


def _r(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_REMEMBER_VERB = (
    r"(?:remember|memori[sz]e|note\s+down|write\s+down|jot\s+down|make\s+a\s+note|"
    r"take\s+a\s+note|save\s+a\s+note|add\s+a\s+note|keep\s+in\s+mind|bear\s+in\s+mind|"
    r"dont\s+forget|do\s+not\s+forget|never\s+forget|save\s+this|save\s+the\s+fact|"
    r"add\s+(?:a\s+note\s+)?to\s+my\s+notes|note|store|log|record)"
)
_FORGET_VERB = (
    r"(?:forget(?:\s+about)?|delete|remove|erase|drop|purge|wipe(?:\s+out)?|get\s+rid\s+of|"
    r"throw\s+away|discard|trash|unlearn)"
)
_CHART_NOUN = r"(?:chart|graph|plot|diagram|histogram|visuali[sz]ation|scatterplot|bar\s+chart)"
_CHART_KINDS = r"(?P<k>bar|line|pie|scatter)"
_SOURCES = (
    r"(?:sources|documents|docs|files|papers|articles|notes|collections|things|stuff|items|"
    r"texts|records|pdfs)"
)
_OOS_ACTION = (
    "I can search, answer from and summarise your own sources, call APIs you have set up and "
    "draw charts; I cannot {what}."
)

RULES: tuple[Rule, ...] = (
    # -- follow-ups that need context: ask back -------------------------------------------
    Rule(
        "deictic",
        "clarify",
        _r(
            rf"(?:(?:and|but|ok|okay|yes|yeah|no)\s+)?{_DEICTIC}(?:\s+(?:one|ones|again|too|please))?"
        ),
        _fixed_clarify(
            "Which one do you mean? I keep no context between requests yet; say it in full."
        ),
    ),
    Rule(
        "follow-up",
        "clarify",
        _r(
            r"(?:and\s+)?(?:what|how)\s+about\b.*|do\s+the\s+same\b.*|same\s+(?:again|for)\b.*|"
            r"(?:same|again|more|yes|yeah|yep|no|nope|sure|go\s+on|continue|next|repeat(?:\s+that)?|"
            r"redo|undo|show\s+me\s+more|tell\s+me\s+more|more\s+please|"
            r"do\s+(?:it|that|this)(?:\s+again)?)"
        ),
        _fixed_clarify(
            "I keep no context between requests yet: what do you want, in full? "
            "e.g. 'search for X since 2019'."
        ),
    ),
    # -- remember ---------------------------------------------------------------------------
    Rule(
        "remember",
        "remember",
        _r(rf"{_REMEMBER_VERB}(?:\s+(?:that|this|the\s+following|saying|:))?(?:\s+(?P<q>.+))?"),
        lambda m, f: (
            _remember(m, f)
            if m.group("q")
            else _clarify("What should I remember? Say the fact, e.g. 'remember that ...'.")
        ),
    ),
    # -- forget -----------------------------------------------------------------------------
    Rule(
        "forget",
        "forget",
        _r(rf"{_FORGET_VERB}(?:\s+(?P<s>.+))?"),
        lambda m, f: (
            _forget(m, f)
            if m.group("s")
            else _clarify("Which source should I forget? Give its file name, URL or id.")
        ),
    ),
    # -- help -------------------------------------------------------------------------------
    Rule(
        "help",
        "help",
        _r(
            r"(?:help|help\s+me|usage|commands|examples|menu|options|\?|"
            r"what\s+(?:else\s+)?can\s+(?:you|i|cairn)\s+(?:do|say|ask)(?:\s+(?:you|here|for\s+me))?|"
            r"what\s+(?:kind|kinds|sort|sorts|type|types)\s+of\s+(?:things|questions|stuff|requests|"
            r"commands)\s+can\s+(?:i|you)\s+.*|"
            r"what\s+(?:commands|requests|questions|things)\s+(?:do|can)\s+you\s+.*|"
            r"what\s+are\s+(?:the|your)\s+(?:commands|options|features)|"
            r"(?:show|give|tell)\s+me\s+(?:some\s+|a\s+few\s+)?(?:examples|commands|options|"
            r"what\s+(?:i|you)\s+can\s+(?:do|say|ask)).*|"
            r"how\s+(?:does|do)\s+(?:this|it|cairn|you|this\s+app|this\s+thing)\s+work|"
            r"how\s+(?:do|can|should)\s+i\s+(?:use|start|get\s+started|start\s+with|work\s+with)"
            r"(?:\s+(?:this|it|you|cairn|this\s+app|this\s+thing).*)?|"
            r"how\s+(?:do|can)\s+i\s+(?:add|ingest|import|upload|load|index|search|delete|remove|"
            r"forget|ask|chart|plot|connect|register|set\s+up|install|list)\b.*\b(?:documents?|"
            r"sources?|files?|pdfs?|notes|cairn|collections?|knowledge\s+base|apis?|charts?|"
            r"you|this)\b.*|"
            r"(?:im|i\s+am)\s+(?:lost|stuck|confused).*|who\s+are\s+you|what\s+are\s+you)"
        ),
        _help,
    ),
    # -- call an API (explicit) ------------------------------------------------------------
    Rule(
        "call-api-nameless",
        "clarify",
        _r(rf"(?:call|use|query|ask|hit|check|ping|try)\s+(?:the\s+|an\s+|some\s+)?{_API_WORD}"),
        _fixed_clarify(
            "Which API should I call, and with what? e.g. 'call the weather API for Paris'."
        ),
    ),
    Rule(
        "call-api-operation",
        "call_api",
        _r(
            rf"(?:run|call|invoke|use)\s+(?:the\s+)?(?P<op>[\w.]+)\s+(?:operation|endpoint|method)\s+"
            rf"(?:of|on|from|in)\s+(?:the\s+)?(?P<svc>[\w\- ]+?)\s+{_API_WORD}(?P<rest>\s+.*)?"
        ),
        _call_api,
    ),
    Rule(
        "call-api-get-from",
        "call_api",
        _r(
            rf"(?:get|fetch|look\s+up|retrieve|pull|grab|find|check|give\s+me|show\s+me)\s+"
            rf"(?:me\s+)?(?P<op>(?:the\s+|a\s+)?[\w ]+?)\s+(?:for|of|in|on|at)\s+(?P<q>.+?)\s+"
            rf"(?:from|with|using|via|through|on)\s+(?:the\s+|my\s+)?(?P<svc>[\w\- ]+?)\s+"
            rf"{_API_WORD}(?P<rest>\s+.*)?"
        ),
        _call_api,
    ),
    Rule(
        "call-api",
        "call_api",
        _r(
            rf"(?:call|use|query|ask|hit|check|ping|try|run|invoke|consult|search)\s+"
            rf"(?:the\s+|my\s+|our\s+)?(?P<svc>[\w\- ]+?)\s+{_API_WORD}"
            rf"(?P<rest>\s+(?:for|about|on|with|to|and|regarding)\b.*)?"
        ),
        _call_api,
    ),
    Rule(
        "weather",
        "call_api",
        _r(
            r"(?:whats|what\s+is|hows|how\s+is|tell\s+me|give\s+me|get|check)\s+"
            r"(?:the\s+)?(?:weather|forecast|weather\s+forecast|temperature)(?:\s+like)?\s+"
            r"(?:in|for|at)\s+(?P<q>.+)"
        ),
        _weather,
    ),
    # -- out of scope -----------------------------------------------------------------------
    Rule(
        "oos-arithmetic",
        "out_of_scope",
        _r(
            r".*\b\d+(?:\.\d+)?\s*(?:\+|-|\*|x|/|plus|minus|times|divided\s+by|multiplied\s+by)"
            r"\s*\d+(?:\.\d+)?\b.*"
        ),
        _fixed_oos(_OOS_ACTION.format(what="do arithmetic or unit conversions")),
    ),
    Rule(
        "oos-actions",
        "out_of_scope",
        _r(
            r"(?:book|reserve|order|buy|purchase|pay|rent|hire|schedule)\b.*|"
            r"set\s+(?:an?\s+|the\s+|my\s+)?(?:alarm|timer|reminder|appointment|meeting).*|"
            r"remind\s+me\b.*|wake\s+me\b.*|"
            r"play\b.*|pause\b.*|skip\b.*|"
            r"(?:send|text|email|e-mail|message|dm|tweet|post)\b.*|"
            r"(?:turn|switch)\s+(?:on|off|up|down)\b.*|(?:turn|switch)(?:\s+\w+){1,3}\s+(?:on|off|up|down)|"
            r"(?:dim|brighten|lock|unlock|open|close)\s+the\b.*|"
            r"call\s+(?!the\b)\w+.*|(?:navigate|drive|take\s+me)\s+to\b.*|directions\s+to\b.*|"
            r"translate\b.*"
        ),
        _fixed_oos(
            _OOS_ACTION.format(what="act in the world (bookings, messages, devices, media)")
        ),
    ),
    Rule(
        "oos-chat",
        "out_of_scope",
        _r(
            r"(?:tell\s+me\s+a\s+(?:joke|story)|sing\b.*|"
            r"(?:write|compose)\s+(?:me\s+)?(?:a|an|some)\s+(?:poem|story|song|essay|joke|limerick|"
            r"haiku).*|"
            r"what\s+time\s+is\s+it.*|whats\s+the\s+(?:time|date)\b.*|what\s+day\s+is\s+it.*|"
            r"how\s+are\s+you.*)"
        ),
        _fixed_oos(_OOS_ACTION.format(what="chat, tell the time or write creatively")),
    ),
    # -- list sources -----------------------------------------------------------------------
    Rule(
        "list",
        "list_sources",
        _r(
            rf"(?:(?:list|show|display|give|tell)(?:\s+me)?|what\s+are|which\s+are|see)\s+"
            rf"(?:all\s+)?(?:of\s+)?(?:my|the|our|all)?\s*(?:{_SOURCES}|everything|collections)"
            rf"(?:\s+(?:i|we)\s+(?:have|got|added|saved|ingested|uploaded))?(?:\s+(?:there\s+are|"
            rf"are\s+there|in|i\s+have|so\s+far))?|"
            rf"list\s+(?:all|everything)|"
            rf"(?:what|which)\s+{_SOURCES}\s+(?:do|did)\s+(?:i|we)\s+(?:have|add|save|ingest|upload)"
            rf"(?:\s+(?:in|so\s+far))?|"
            rf"(?:what|which)\s+{_SOURCES}\s+(?:are|have\s+i|have\s+we)\s+"
            rf"(?:in|there|added|got|saved|ingested|uploaded)(?:\s+(?:in|there))?|"
            rf"(?:whats|what\s+is|what\s+do\s+i\s+have|what\s+have\s+i\s+got)\s+in(?:\s+(?:my|the|our)"
            rf"\s+{_KB})?|"
            rf"what\s+(?:have|did)\s+(?:i|we)\s+(?:added|add|ingested|ingest|uploaded|upload|saved|save)"
            rf"(?:\s+so\s+far)?|"
            rf"how\s+many\s+{_SOURCES}\s+(?:do\s+i\s+have|are\s+(?:there|in)(?:\s+(?:my|the)\s+{_KB})?"
            rf"|have\s+i\s+(?:added|got))(?:\s+in)?"
        ),
        _list,
        stage="filtered",
    ),
    # -- chart ------------------------------------------------------------------------------
    Rule(
        "chart-noun",
        "chart",
        _r(
            rf"(?:(?:make|create|draw|show|give|build|generate|produce|plot|render|i\s+want|"
            rf"i\s+need)(?:\s+me)?\s+)?(?:a\s+|an\s+|the\s+)?{_CHART_KINDS}?\s*"
            rf"(?:{_CHART_NOUN}|graph)\s+(?:of|for|showing|with|about|from)\s+(?P<q>.+)"
        ),
        _chart,
        stage="filtered",
    ),
    Rule(
        "chart-verb",
        "chart",
        _r(r"(?:chart|plot|graph|visuali[sz]e|draw|tabulate)\s+(?P<q>.+)"),
        _chart,
        stage="filtered",
    ),
    Rule(
        "chart-bare",
        "clarify",
        _r(
            r"(?:chart|plot|graph|visuali[sz]e|draw)(?:\s+(?:a|the))?(?:\s+(?:bar|line|pie|scatter))?"
            r"(?:\s+(?:chart|graph|plot))?"
        ),
        _fixed_clarify(
            "What should I chart? Name the data, e.g. 'chart the number of sources by year'."
        ),
    ),
    # -- synthesize -------------------------------------------------------------------------
    Rule(
        "synth-summarise",
        "synthesize",
        _r(
            rf"(?:summari[sz]e|sum\s+up|give\s+me\s+(?:a\s+summary|an\s+overview|the\s+gist)\s+of|"
            rf"(?:an\s+)?overview\s+of|review|weigh(?:\s+up)?|compare|contrast)\s+"
            rf"(?:the\s+)?(?:(?:evidence|arguments|case|literature|research|findings|studies|"
            rf"state\s+of\s+(?:the\s+)?(?:art|research))\s+)?"
            rf"(?:(?:what|everything)\s+(?:my|the|our)\s+{_SOURCES}\s+(?:say|says|said|have)\s+|"
            rf"(?:my|the|our)\s+{_SOURCES}\s+)?"
            rf"(?:for\s+and\s+against|for|against|on|about|that|regarding|of|concerning|into)?\s*"
            rf"(?P<q>.+)"
        ),
        _synthesize,
        stage="filtered",
    ),
    Rule(
        "synth-claim",
        "synthesize",
        _r(
            rf"(?:is\s+it\s+(?:true|right|correct|a\s+fact)|is\s+there\s+(?:any\s+|good\s+|strong\s+|"
            rf"solid\s+|much\s+)?evidence|whats\s+the\s+evidence|what\s+is\s+the\s+evidence|"
            rf"how\s+strong\s+is\s+the\s+evidence|(?:fact\s*check|fact-check|check|verify|"
            rf"confirm|debunk)(?:\s+the\s+(?:claim|idea|statement))?|"
            rf"do\s+(?:my|the|our)\s+{_SOURCES}\s+(?:support|agree|back\s+up|confirm|contradict|"
            rf"disagree|say)(?:\s+(?:on|with|about))?)\s*"
            rf"(?:that|for|against|on|whether|if)?\s+(?P<q>.+)"
        ),
        _synthesize,
        stage="filtered",
    ),
    # -- search -----------------------------------------------------------------------------
    Rule(
        "search-verb",
        "search",
        _r(
            r"(?:search(?:\s+for)?|search\s+(?:my|the|our)\s+\w+(?:\s+\w+)?\s+for|"
            r"look\s+(?:for|up)|look\s+through\s+(?:my|the)\s+\w+\s+for|hunt\s+for|"
            r"find(?:\s+me)?|pull\s+up|dig\s+up|bring\s+up|fetch(?:\s+me)?|retrieve|"
            r"show(?:\s+me)?|get(?:\s+me)?|give\s+me|list|i\s+need|i\s+want|"
            r"(?:im|i\s+am)\s+(?:looking|searching)\s+for|looking\s+for|searching\s+for|"
            r"grep(?:\s+(?:my|the)\s+\w+)?\s+for|grep|"
            r"(?:have\s+i|do\s+i|did\s+i|have\s+we|do\s+we)\s+(?:have|got|save|saved)|got|"
            r"what\s+(?:do|have|did)\s+(?:i|we)\s+(?:have|got)\s+(?:on|about)|"
            r"(?:do\s+you\s+have|have\s+you\s+got)|is\s+there|are\s+there)"
            r"\s+(?P<q>.+)"
        ),
        _search,
        stage="filtered",
    ),
    Rule(
        "search-noun",
        "search",
        _r(rf"(?P<q>(?:(?:any|all|some)\s+)?(?:{_DOC_NOUN})\s+{_ABOUT}\s+.+)"),
        _search,
        stage="filtered",
    ),
    Rule(
        "search-bare",
        "clarify",
        _r(r"(?:search|find|look|look\s+up|look\s+for|search\s+for|show\s+me|get)"),
        _fixed_clarify("What should I search for? e.g. 'search for solar panels since 2019'."),
    ),
    # -- ask --------------------------------------------------------------------------------
    Rule(
        "ask-collection",
        "ask",
        _r(
            rf"(?:what|wh)\s+(?:does|do|did|can)\s+(?:(?:my|the|our)\s+(?:\w+\s+)?{_KB}\s+)?"
            rf"(?:say|tell\s+me|have\s+to\s+say|mention|know)\s+(?:about|on|regarding|of)\s+(?P<q>.+)|"
            rf"what\s+(?:did|do|have)\s+(?:i|we)\s+(?:write|written|save|saved|note|noted|read|"
            rf"learn|learned|learnt|find|found)\s+(?:about|on|regarding)\s+(?P<q2>.+)|"
            rf"(?:tell\s+me|teach\s+me)\s+(?:everything\s+|more\s+|something\s+)?(?:about|on)\s+"
            rf"(?P<q3>.+)|"
            rf"ask\s+(?:my|the)\s+(?:\w+\s+)?{_KB}\s+(?:about|whether|if)?\s*(?P<q4>.+)|"
            rf"(?:explain|describe|define|clarify)(?:\s+to\s+me)?\s+(?P<q5>.+)"
        ),
        lambda m, f: _ask_any(m, f),
        stage="filtered",
    ),
    Rule(
        "question",
        "ask",
        _r(
            r"(?:according\s+to\s+(?:my|the|our)\s+(?:\w+\s+)?(?:sources|notes|documents|papers|"
            r"files|collection|knowledge\s+base)\s+)?"
            r"(?P<q>(?:who|whom|whose|what|whats|which|when|where|why|how|hows|is|are|was|were|do|"
            r"does|did|can|could|should|would|will|has|have|had|wheres|whos|whens)\b.*)"
        ),
        _question,
        stage="question",
    ),
)


def _ask_any(m: re.Match[str], f: Filters) -> Command | None:
    for name in ("q", "q2", "q3", "q4", "q5"):
        value = m.groupdict().get(name)
        if value:
            return _with_query("ask", value, f, "ask about", 0.85)
    return None


_VERBLESS_MAX_WORDS = 4


def parse(text: str) -> Command | None:
    """The command the grammar reads in ``text``, or ``None`` when no template matches."""
    norm = normalise(text)
    if not norm:
        return _clarify("I did not catch a request. What would you like me to do?")
    stages: dict[str, tuple[Filters, str]] = {"raw": (Filters(), norm)}
    for rule in RULES:
        if rule.stage not in stages:
            stages[rule.stage] = extract_filters(norm, dates=rule.stage != "question")
        filters, subject = stages[rule.stage]
        m = rule.pattern.fullmatch(subject)
        if m is None:
            continue
        command = rule.build(m, filters)
        if command is None:
            continue
        return command
    if len(norm.split()) <= _VERBLESS_MAX_WORDS:
        return _clarify(
            f"What should I do with '{norm}'? e.g. 'search for {norm}' or 'what is {norm}?'",
            confidence=0.9,
        )
    return None


def rule_names() -> list[str]:
    return [r.name for r in RULES]
