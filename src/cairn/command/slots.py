"""Typed slot extractors: the values a request gives an operation's parameters.

Each parameter is filled only from what its schema says and what the request holds:

* an enum parameter from one of its values, or from the words its description gives a value
  ("Apple=AAPL": "apple's stock" -> ``AAPL``);
* a date parameter (format ``date``/``date-time``, or named like a date, start, end or year)
  from the dates and ranges in the request, written the way the schema asks (ISO day, ISO
  date-time, year as an integer, ``MM/DD/YYYY`` when the description says so); a start/end
  pair takes the two ends of one range;
* a number from the numbers in the request, the one nearest the parameter's own words first;
* a string from a quoted phrase, a phrase after the parameter's own words ("named X"), a
  place after "in/at/near" for location-like parameters, or else the next unused phrase;
* a list of numbers from the numbers left; a list of strings from "x, y and z".

Nothing is invented: a parameter with no evidence stays empty (a required one is then asked
for). The returned :class:`Filled` says which words each value came from.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cairn.command import places, values
from cairn.command.operations import OperationDoc, ParamDoc, split_name
from cairn.command.spoken import DateSpan, digits, find_dates
from cairn.command.values import words_of

_NUMBER = re.compile(
    r"(?<![\w.])(?P<neg>-)?\$?(?P<n>\d+(?:,\d{3})*(?:\.\d+)?(?:e-?\d+)?)"
    r"(?:\s*(?P<scale>thousand|million|billion|trillion)\b|(?P<abbr>M|B|bn)\b)?"
    r"(?P<pct>\s*(?:%|percent\b))?"
    r"(?=[a-zA-Zµ°²³/]{0,4}\b|[^\w]|$)"
)
_SCALE = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_LIST = re.compile(r"\[[^\[\]]*\]")
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
_LOCATION_WORDS = ("location", "city", "place", "country", "state", "address", "region", "area",
                   "destination", "origin", "town", "venue", "where")  # fmt: skip
_START_WORDS = ("start", "from", "since", "begin", "after", "min", "first", "lower")
_END_WORDS = ("end", "to", "until", "till", "before", "max", "last", "upper", "through")
_DATE_WORDS = ("date", "day", "time", "start", "end", "from", "to", "since", "until", "year",
               "month", "period", "when")  # fmt: skip


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


def is_date_param(p: ParamDoc) -> bool:
    if p.type not in ("string", "integer", "any"):
        return False
    if p.format in ("date", "date-time"):
        return True
    parts = set(split_name(p.name).split())
    if p.type == "integer":
        return "year" in parts
    return bool(parts & {"date", "day", "year", "month", "period"}) or (
        bool(parts & {"start", "end", "from", "to", "since", "until"})
        and bool(re.search(r"\bdate|yyyy|\bday\b", p.description, re.IGNORECASE))
    )


_STREET = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Way|Court|Ct|Place|Pl|"
    r"Parkway|Pkwy|Terrace|Highway|Hwy|Square|Sq)"
)
_ADDRESS = re.compile(
    r"\b\d{1,6}\s+(?:[A-Z][\w'.-]*\s+){1,4}" + _STREET + r"\b\.?"
    r"(?:,\s*[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,3})?(?:,\s*[A-Z]{2}\b)?(?:\s+\d{5})?(?:,\s*USA\b)?"
)
_ADDRESS_WORDS = frozenset(("address", "loc", "location", "destination", "origin", "pickup",
                            "dropoff", "street", "from", "to", "place"))  # fmt: skip


def _named_as(p: ParamDoc, words: frozenset[str]) -> bool:
    """One of ``words`` is in ``p``'s name or the first sentence of its description."""
    head = re.split(r"[.;(]", p.description, maxsplit=1)[0]
    return bool(words & (set(split_name(p.name).split()) | set(words_of(head))))


def _asks_address(p: ParamDoc) -> bool:
    """A string parameter for a place a street address can fill."""
    return _named_as(p, _ADDRESS_WORDS)


_TIME = re.compile(
    r"\b(?:([01]?\d|2[0-3]):([0-5]\d)(?:\s*([ap])\.?\s?m\b\.?)?|(1[0-2]|0?[1-9])\s*([ap])\.?\s?m\b\.?)",
    re.IGNORECASE,
)


def _is_time_param(p: ParamDoc) -> bool:
    """A clock time as a string: ``show_time``, ``start_time`` ("HH:MM" or the like)."""
    parts = set(split_name(p.name).split())
    return p.type == "string" and not p.enum and "time" in parts and not parts & {"zone", "date"}


def _time_said(p: ParamDoc, req: _Request) -> tuple[str, int, int] | None:
    """The first clock time the request says ("5:30pm", "19:30", "4 pm"), written as the
    description asks: "HH:MM" (24-hour; "HH:MM:SS" when it shows seconds), or as said when
    it names no format."""
    for m in _TIME.finditer(req.text):
        if not req.free(m.start(), m.end()):
            continue
        hour = int(m.group(1) or m.group(4))
        minute = int(m.group(2) or 0)
        half = (m.group(3) or m.group(5) or "").lower()
        if half == "p" and hour < 12:
            hour += 12
        elif half == "a" and hour == 12:
            hour = 0
        if not re.search(r"hh:mm|24[- ]hour|military", p.description, re.IGNORECASE):
            return m.group(0).strip(), m.start(), m.end()
        seconds = ":00" if re.search(r"hh:mm:ss", p.description, re.IGNORECASE) else ""
        return f"{hour:02d}:{minute:02d}{seconds}", m.start(), m.end()
    return None


def _format_date(p: ParamDoc, d: date, *, end: bool, grain: str) -> Any:
    desc = p.description.lower()
    if p.type == "integer" or ("year" in split_name(p.name).split() and p.format == ""):
        return d.year if p.type == "integer" else str(d.year)
    if p.format == "date-time" or "date-time" in desc or "iso 8601 timestamp" in desc:
        return f"{d.isoformat()}T{'23:59:59' if end else '00:00:00'}Z"
    written = re.search(r"\b(yyyy|mm|dd)([-/.])(yyyy|mm|dd)\2(yyyy|mm|dd)\b", desc)
    if written:  # "MM-DD-YYYY", "dd/mm/yyyy", "YYYY.MM.DD": the order the description asks
        codes = {"yyyy": "%Y", "mm": "%m", "dd": "%d"}
        return d.strftime(written.group(2).join(codes[written.group(i)] for i in (1, 3, 4)))
    if re.search(r"yyyy-mm(?!-)", desc) and grain in ("month",):
        return d.strftime("%Y-%m")
    return d.isoformat()


def _fill_dates(op: OperationDoc, req: _Request, out: Filled) -> None:
    date_params = [p for p in op.params if is_date_param(p) and not p.enum]
    if not date_params or not req.dates:
        return
    span = req.dates[0]
    starts = [p for p in date_params if _has(p.name, _START_WORDS)]
    ends = [p for p in date_params if _has(p.name, _END_WORDS)]
    others = [p for p in date_params if p not in starts and p not in ends]
    if starts or ends:
        if len(req.dates) >= 2 and span.grain != "range":
            first, last = req.dates[0], req.dates[1]
        else:
            first = last = span
        if first is last and span.single_day and starts and ends:
            out.loss += 0.5
        for p in starts[:1]:
            out.values[p.name] = _format_date(p, first.start, end=False, grain=first.grain)
            out.evidence[p.name] = first.text
        for p in ends[:1]:
            out.values[p.name] = _format_date(p, last.end, end=True, grain=last.grain)
            out.evidence[p.name] = last.text
    for p, s in zip(others, req.dates, strict=False):
        out.values[p.name] = _format_date(p, s.start, end=False, grain=s.grain)
        out.evidence[p.name] = s.text
        if not s.single_day and not (p.type == "integer" and s.grain == "year"):
            out.loss += 1.0
    for s in req.dates:
        req.used.append((s.at, s.at + len(s.text)))
    out.typed |= {p.name for p in date_params if p.name in out.values}
    taken = {out.evidence[p.name] for p in date_params if p.name in out.values}
    out.dates_taken = sum(1 for s in req.dates if any(s.text in t for t in taken))


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


def _fill_enum(p: ParamDoc, req: _Request) -> tuple[Any, str] | None:
    """The enum value the request says: a value itself before an alias the description gives
    it, a specific value before a catch-all ("postgres" before "all" in "all the PostgreSQL
    servers"), then the longest; a value of 6+ letters may start a longer word ("postgres"
    in "PostgreSQL")."""
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
        if p.aliases and words.isdigit():
            # "5=May": the values have words, so a bare number ("the 5 hottest days") is
            # some other parameter's unless the parameter is named before it ("month 5")
            cue = r"\b" + r"\s+".join(map(re.escape, p.words.split())) + r"\s+" + words + r"\b"
            m = re.search(cue, req.low)
            if m and (best is None or rank > best[0]):
                best = (rank, value, m.group(0))
            continue
        said = re.escape(words.lower()).replace("\\&", r"\s*(?:&|and)\s*")  # S&P: s and p
        tail = r"[a-z]*" if len(words) >= 6 and words.isalpha() else r"(?:'s|s|'|es|d|ed)?"
        m = re.search(r"(?<![\w])" + said + tail + r"(?![\w])", req.low)
        if m and (best is None or rank > best[0]):
            best = (rank, value, m.group(0))
    return (best[1], best[2]) if best else None


_CATCH_ALL = frozenset(("all", "any", "none", "dontcare", "default", "other", "both", "either"))


def _cue_words(p: ParamDoc) -> set[str]:
    words = _word_set(p.words)
    head = re.split(r"[.,;(]", p.description, maxsplit=1)[0]
    return words | set(list(_word_set(head))[:6])


def _cue_distance(p: ParamDoc, req: _Request, n: tuple[int, int, float | int]) -> float | None:
    """How far the nearest of the parameter's own words is from number ``n`` (in words; a
    word of its description counts one more), nudged by the number's unit: "$" to an amount,
    "%" to a rate, "6 hours" to a parameter in hours (:func:`values.unit_affinity`)."""
    cues = _word_set(p.words)
    if p.type == "integer" and re.match(r"how many\b|number of\b", p.description, re.I):
        cues |= _word_set(re.split(r"[.,;(]", p.description, maxsplit=1)[0]) - {"many", "number"}
    cues |= {_root(w) for w in cues}  # "rated 4.2" cues ``rating``
    desc = values.description_cues(p) - cues
    before_text = req.low[max(0, n[0] - 50) : n[0]]
    before = re.findall(r"[a-z0-9]+", before_text)[-5:]
    # "3 bedrooms, 2 bathrooms": a cue behind a comma belongs to the number before it
    clause = len(re.findall(r"[a-z0-9]+", re.split(r"[,;]", before_text)[-1]))
    after = re.findall(r"[a-z]+|\d+", req.low[n[1] : n[1] + 30])[:3]
    after = after[: next((i for i, w in enumerate(after) if w.isdigit()), 3)]  # not the next's
    best: float | None = None
    for dist, w in enumerate(reversed(before)):
        own = _stem(w) in cues or _root(w) in cues
        if own or _stem(w) in desc:
            best = float(dist) + (not own) + (dist >= clause)
            break
    for dist, w in enumerate(after):
        own = _stem(w) in cues or _root(w) in cues
        d = dist + 0.5 + (not own)
        if (own or _stem(w) in desc) and (best is None or d < best):
            best = d
            break
    unit = values.unit_affinity(p, req.text, n[0], n[1])
    if unit == 0.0:
        best = min(best, 0.25) if best is not None else 0.25
    elif unit is not None:
        best = (best if best is not None else 2.0) + unit
    return best


def _number_for(p: ParamDoc, req: _Request, n: tuple[int, int, float | int]) -> Any:
    """The value number ``n`` gives ``p``, or None when its type does not take it (a percent
    stays a whole number for an integer parameter: "50%" -> 50)."""
    value = n[2]
    if p.type == "integer" and not isinstance(value, int):
        raw = req.text[n[0] : n[1]]
        if "%" in raw or "percent" in raw:
            whole = round(value * 100, 6)
            return int(whole) if float(whole).is_integer() else None
        return None
    scale = values.unit_scale(p, req.text, n[1])
    if scale != 1.0:  # "100µF" for a capacitance in farads: 0.0001
        value = float(f"{value * scale:.12g}")
        if p.type == "integer":
            return int(value) if value.is_integer() else None
    return float(value) if p.type == "number" and isinstance(value, int) else value


def _fill_numbers(op: OperationDoc, req: _Request, out: Filled) -> None:
    """Numbers to number parameters: the closest (parameter, number) pairs by the parameter's
    own words first; then required parameters take the numbers left, in order."""
    params = [p for p in op.params if p.type in ("integer", "number") and not p.enum]
    params = [p for p in params if p.name not in out.values]
    free = [n for n in req.numbers if req.free(n[0], n[1]) and not _counts_family(op, req, n)]
    placed: dict[str, tuple[int, int, float | int]] = {}
    for p, n in _said_in_order(params, req, free):
        _put_number(p, n, req, out)
        placed[p.name] = n
    params = [p for p in params if p.name not in out.values]
    free = [n for n in free if req.free(n[0], n[1])]
    pairs = []
    for p in params:
        for i, n in enumerate(free):
            if _number_for(p, req, n) is None:
                continue
            if n[0] in req.counts:  # a spoken count pairs only with the noun after it
                if _names_after(p, req, n):
                    pairs.append((0.5, i, p))
                continue
            d = _cue_distance(p, req, n)
            if _names_after(p, req, n):  # "4 ppl" for number_of_adults
                d = 0.5 if d is None else min(d, 0.5)
            if d is not None and d < 3:
                pairs.append((d, i, p))
    taken: set[int] = set()
    for _d, i, p in sorted(pairs, key=lambda x: (x[0], x[1])):
        if i in taken or p.name in out.values:
            continue
        _put_number(p, free[i], req, out)
        placed[p.name] = free[i]
        taken.add(i)
    for p in params:
        if p.name in out.values or not p.required:
            continue
        for i, n in enumerate(free):
            if i in taken or n[0] in req.counts or _number_for(p, req, n) is None:
                continue
            _put_number(p, n, req, out)
            placed[p.name] = n
            taken.add(i)
            break
    _order_families(op, placed, req, out)


def _root(word: str) -> str:
    """A word without -ing, -ed, -es, -e or -s when three letters stay: "rated", "rating" and
    "rate" -> "rat"; used only to match a number's cue words."""
    m = re.fullmatch(r"([a-z]{3,}?)(?:ing|ed|es|e|s)", word)
    return m.group(1) if m else word


# words that count people: "4 ppl" is a number of adults, guests or passengers
_PEOPLE = frozenset((
    "people", "person", "persons", "ppl", "adult", "adults", "guest", "guests", "passenger",
    "passengers", "traveler", "travelers", "traveller", "travellers", "pax",
))  # fmt: skip


def _names_after(p: ParamDoc, req: _Request, n: tuple[int, int, float | int]) -> bool:
    """The word right after number ``n`` is one of ``p``'s name words ("2 nights"), or both
    count people ("4 ppl" for ``number_of_adults``)."""
    nxt = re.match(r"\s+([a-z]+)", req.low[n[1] :])
    if nxt is None:
        return False
    own = _word_set(p.name.replace("_", " "))
    if nxt.group(1) in _PEOPLE and own & {_stem(w) for w in _PEOPLE}:
        return True
    said = _stem(nxt.group(1))  # "child" names "children": compare by prefix
    return any(w.startswith(said) or said.startswith(w) for w in own if min(len(w), len(said)) >= 3)


_ORDINALS = ("first", "second", "third", "fourth", "fifth")


def _family(name: str) -> tuple[str, int] | None:
    """A numbered parameter's family and place: ``mass2`` -> ("mass", 2), ``side_3`` ->
    ("side", 3), ``second_note_frequency`` -> ("note_frequency", 2); None for others."""
    m = re.fullmatch(r"(.*?\D)_?(\d)", name)
    if m:
        return m.group(1), int(m.group(2))
    for i, word in enumerate(_ORDINALS, 1):
        for pattern in (rf"{word}_?(.+)", rf"(.+?)_?{word}"):
            m = re.fullmatch(pattern, name, re.I)
            if m:
                return m.group(1).lower(), i
    return None


def _order_families(
    op: OperationDoc, placed: dict[str, tuple[int, int, float | int]], req: _Request, out: Filled
) -> None:
    """Numbered parameters (side1, side2, side3; first_x, second_x) take their numbers in the
    order the request says them: "sides of 5, 4 and 3" -> side1=5, side2=4, side3=3."""
    families: dict[str, list[tuple[int, ParamDoc]]] = {}
    for p in op.params:
        fam = _family(p.name)
        if fam is not None and p.name in placed:
            families.setdefault(fam[0], []).append((fam[1], p))
    for members in families.values():
        if len(members) < 2 or len({p.type for _, p in members}) > 1:
            continue
        members.sort(key=lambda m: m[0])
        spans = sorted(placed[p.name] for _, p in members)
        for (_, p), n in zip(members, spans, strict=True):
            out.values[p.name], out.evidence[p.name] = _number_for(p, req, n), req.text[n[0] : n[1]]


def _counts_family(op: OperationDoc, req: _Request, n: tuple[int, int, float | int]) -> bool:
    """ "its three sides are 5, 4 and 3" with side1..side3: the 3 before "sides" counts the
    numbered parameters; it is not one of their values."""
    nxt = re.match(r"\s+([a-z]+)", req.low[n[1] :])
    if nxt is None:
        return False
    sizes: dict[str, int] = {}
    for p in op.params:
        fam = _family(p.name)
        if fam is not None:
            sizes[fam[0]] = sizes.get(fam[0], 0) + 1
    word = _stem(nxt.group(1))  # "sides" -> "sid": compare by prefix
    return len(word) >= 3 and any(
        size >= 2 and n[2] == size and any(k.startswith(word) for k in key.split("_"))
        for key, size in sizes.items()
    )


_PAIR_BEFORE = re.compile(r"\b([a-z][a-z_]*)\s+and\s+([a-z][a-z_]*)\b[^,.;\d]{0,20}$")
_PAIR_BETWEEN = re.compile(r"\s*(?:[a-zµ°]{1,12}\s*)?(?:and|,|&)\s*")


def _said_in_order(
    params: list[ParamDoc], req: _Request, free: list[tuple[int, int, float | int]]
) -> list[tuple[ParamDoc, tuple[int, int, float | int]]]:
    """ "its base and height as 6cm and 10cm", "width and length are 3 and 5 respectively":
    two parameters named with "and", then two numbers with "and", pair up in order."""
    out: list[tuple[ParamDoc, tuple[int, int, float | int]]] = []
    for a, b in itertools.pairwise(free):
        if not _PAIR_BETWEEN.fullmatch(req.low[a[1] : b[0]]):
            continue
        m = _PAIR_BEFORE.search(req.low[max(0, a[0] - 60) : a[0]])
        if m is None:
            continue
        first = _named(params, m.group(1))
        second = _named(params, m.group(2))
        if first is None or second is None or first is second:
            continue
        if _number_for(first, req, a) is None or _number_for(second, req, b) is None:
            continue
        out += [(first, a), (second, b)]
        params = [p for p in params if p is not first and p is not second]
    return out


def _named(params: list[ParamDoc], word: str) -> ParamDoc | None:
    """The one parameter whose name holds ``word`` (stemmed), or None when none or several."""
    hits = [p for p in params if _stem(word) in _word_set(p.name.replace("_", " "))]
    return hits[0] if len(hits) == 1 else None


def _put_number(p: ParamDoc, n: tuple[int, int, float | int], req: _Request, out: Filled) -> None:
    req.used.append((n[0], n[1]))
    out.values[p.name], out.evidence[p.name] = _number_for(p, req, n), req.text[n[0] : n[1]]


def _phrase_after(req: _Request, start: int, max_words: int = 5) -> tuple[int, int] | None:
    rest = req.text[start:]
    m = re.match(r"\s*(?:the\s+|a\s+|an\s+)?", rest, re.IGNORECASE)
    pos = start + (m.end() if m else 0)
    words = list(re.finditer(r"[\w'&.\-]+(?:,\s*[A-Z]{2}\b)?", req.text[pos:]))
    taken: list[re.Match[str]] = []
    for w in words:
        token = w.group(0).lower().rstrip(".")
        gap = req.text[pos + (taken[-1].end() if taken else 0) : pos + w.start()]
        if taken and re.search(r"[?!;:()]|\.\s", gap):
            break
        if token in _BOUNDARY or len(taken) >= max_words:
            break
        if not req.free(pos + w.start(), pos + w.end()):
            break
        taken.append(w)
        if _ends_sentence(w.group(0), req.text[pos + w.end() : pos + w.end() + 2]):
            break  # "Ji Sung Park. Can you ...": the value ends with its sentence
    if not taken:
        return None
    return pos + taken[0].start(), pos + taken[-1].end()


def _ends_sentence(token: str, after: str) -> bool:
    """A word with a full stop, then a space: the end of a sentence unless an abbreviation
    ("Inc.", "Dr.") or an initial ("J.")."""
    return (
        token.endswith(".")
        and after[:1].isspace()
        and not _ABBREVIATION.search(token)
        and not re.fullmatch(r"(?:[A-Za-z]\.)+", token)
    )


def _sentence_cut(text: str) -> str:
    """``text`` up to the end of its first sentence (see :func:`_ends_sentence`)."""
    for m in re.finditer(r"\S+\.(?=\s)", text):
        if _ends_sentence(m.group(0), text[m.end() : m.end() + 1]):
            return text[: m.end()]
    return text


def _fill_string(
    p: ParamDoc, req: _Request, *, cued_only: bool = False, topic: frozenset[str] = frozenset()
) -> tuple[str, int, int] | None:
    """A phrase for a string parameter; ``cued_only``: only one that follows the parameter's
    own name ("the song_id is X", "directed by X"), as for an optional parameter. A phrase
    after a preposition that starts with a ``topic`` word (the operation's own name: "the
    names of proteins found in ..." for ``get_proteins``) is what is asked for, not a value."""
    name_words = [w for w in split_name(p.name).split() if w not in _STOP]
    if name_words:
        cue = r"\b" + r"[\s_]+".join(re.escape(w) for w in name_words) + r"s?\b"
        cue += r"(?:\s+(?:is|of|by|named|called|=|:|as))?"
        for m in re.finditer(cue, req.low):
            span = _phrase_after(req, m.end())
            if span and req.free(*span) and _clean(req.text[span[0] : span[1]]):
                return _without_own_name(p, _clean(req.text[span[0] : span[1]])), *span
            before = _named_before(req, m.start(), m.start() + len(m.group(0).split()[0]))
            if before is not None:
                return before
    if cued_only:
        return None
    if _has(p.name, _LOCATION_WORDS) or any(
        w in p.description.lower() for w in ("city", "location")
    ):
        place = re.compile(
            r"[A-Z][\w'.-]*(?:\s+(?:of\s+)?[A-Z][\w'.-]*)*(?:,\s*[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*)*)?"
        )
        for m in re.finditer(r"\b(?:in|at|near|for|from|to)\s+(?:the\s+)?", req.low):
            got = place.match(req.text, m.end())
            if got and req.free(got.start(), got.end()):
                where = re.split(r"\.\s", got.group(0))[0]  # not into the next sentence
                return _clean(where), got.start(), got.start() + len(where)
    for m in re.finditer(
        r"(?<=[a-z,] )(?:[A-Z][\w'.&-]*)(?:\s+(?:of\s+|de\s+)?[A-Z][\w'.&-]*)*", req.text
    ):
        if req.free(m.start(), m.end()) and m.group(0).lower() not in _STOP:
            name = _sentence_cut(m.group(0))  # "Berkshire Hathaway. Retrieve" -> the firm
            return _clean(name), m.start(), m.start() + len(name)
    for m in re.finditer(r"\b(?:named|called|titled|of|for|about|on|in|by)\s+", req.low):
        span = _phrase_after(req, m.end(), max_words=4)
        if span and req.free(*span):
            text = _clean(req.text[span[0] : span[1]])
            if text and _stem(text.split()[0].lower()) in topic:
                continue
            if text and text.lower() not in _STOP and not _NUMBER.fullmatch(text):
                return _without_own_name(p, text), *span
    return None


_ABBREVIATION = re.compile(r"\b(?:Inc|Ltd|Co|Corp|Jr|Sr|St|Dr|Mr|Mrs|Ms|Bros)\.$")


def _clean(text: str) -> str:
    """A phrase without the punctuation around it or a possessive ("Ronaldo's" -> "Ronaldo");
    an abbreviation keeps its full stop ("Apple Inc.")."""
    text = text.strip(" ,?!;:")
    if text.endswith(".") and not _ABBREVIATION.search(text):
        text = text.rstrip(".")
    return re.sub(r"(?:'s|’s|')$", "", text).strip(" ,")


def _without_own_name(p: ParamDoc, text: str) -> str:
    """ "hill slope" for ``slope_type`` -> "hill", "2019-2020 season" for ``season`` ->
    "2019-2020": a lower-case last word that is the parameter's own name is not the value
    (a capitalised one is: "Premier League" for ``league``)."""
    words = text.split()
    own = {_stem(w) for w in split_name(p.name).split()}
    if len(words) > 1 and words[-1].islower() and _stem(words[-1]) in own:
        return " ".join(words[:-1])
    if len(words) > 1 and words[0].lower().rstrip(".:#") in _ID_LABELS:
        return " ".join(words[1:])  # "UUID AB1010CD" -> "AB1010CD", "id SUPERFANCY"
    return text


_ID_LABELS = frozenset(("id", "uuid", "guid", "identifier", "no", "number", "code", "ref"))


_CAPITALS_END = re.compile(r"((?:[A-Z][\w'.&-]*\s+)*[A-Z][\w'.&-]*)$")
_VALUE_END = re.compile(r"((?:[A-Z][\w'.&-]*\s+)*[A-Z][\w'.&-]*|\d[\d/-]*)\s+$")


def _named_before(req: _Request, start: int, end: int) -> tuple[str, int, int] | None:
    """The value in front of a parameter's name when nothing follows it: "the Premier
    League" (a capitalised name holds the word), "the Spring season", "in 2022 season"."""
    if req.text[start:end][:1].isupper():
        m = _CAPITALS_END.search(req.text[:end])
        if m and m.start() < start and req.free(m.start(), m.end()):
            return m.group(1), m.start(), m.end()
        return None
    m = _VALUE_END.search(req.text[:start])
    if m and req.free(m.start(1), m.end(1)) and m.group(1).lower() not in _STOP:
        return m.group(1), m.start(1), m.end(1)
    return None


def _fill_list(
    p: ParamDoc, req: _Request, *, brackets_only: bool = False
) -> tuple[list[Any], str] | None:
    for m in _LIST.finditer(req.text):
        if not req.free(m.start(), m.end()):
            continue
        try:
            value = json.loads(m.group(0).replace("'", '"'))
        except ValueError:
            continue
        req.used.append((m.start(), m.end()))
        if p.items == "number":
            value = [float(v) if isinstance(v, int) else v for v in value]
        return value, m.group(0)
    if brackets_only:
        return None
    if p.items in ("integer", "number", ""):
        free = [n for n in req.numbers if req.free(n[0], n[1])]
        if len(free) >= 2 or (free and p.items):
            for n in free:
                req.used.append((n[0], n[1]))
            return [n[2] for n in free], " ".join(str(n[2]) for n in free)
    if p.items == "string":
        quoted = _quoted_run(req)
        if quoted is not None:
            return quoted
        found = re.search(
            r"([\w'&# .-]+?(?:,\s*[\w'&# .-]+?)*,?\s+and\s+[\w'&# .-]+?)(?=[.?!]|$)", req.text
        )
        if found:
            items = re.split(r",\s*(?:and\s+)?|\s+and\s+", found.group(1))
            tail = [i.strip().strip("'\"") for i in items if i.strip()]
            if len(tail) >= 2:
                tail[1:] = [_list_item(t) for t in tail[1:]]
                width = min(3, max(len(t.split()) for t in tail[1:]))
                tail[0] = _last_words(tail[0], width)
                if all(tail):
                    return tail, found.group(1)
    return None


def _quoted_run(req: _Request) -> tuple[list[Any], str] | None:
    """ "'Age', 'Income' and 'Education'": two or more quoted phrases joined by commas or
    "and" are the list, whatever surrounds them."""
    quotes = [q for q in values.quoted_phrases(req.text) if req.free(q[1], q[2])]
    best: list[tuple[str, int, int]] = []
    run: list[tuple[str, int, int]] = []
    for q in quotes:
        gap = req.text[run[-1][2] + 1 : q[1] - 1] if run else ""
        if run and re.fullmatch(r"\s*(?:,\s*(?:and\s+|or\s+)?|and\s+|or\s+|&\s+)", gap):
            run.append(q)
        else:
            run = [q]
        if len(run) > len(best):
            best = list(run)
    if len(best) < 2:
        return None
    req.used.append((best[0][1], best[-1][2]))
    return [q[0] for q in best], req.text[best[0][1] - 1 : best[-1][2] + 1]


def _list_item(item: str) -> str:
    """A later list item ends at the first word that starts a new phrase ("G for 4
    measures" -> "G", "the Dow Jones over the past 5 days" -> "Dow Jones")."""
    words = item.split()
    while words and words[0].lower() in ("the", "a", "an", "also"):
        words = words[1:]
    cut = next((i for i, w in enumerate(words) if i and w.lower() in _BOUNDARY), len(words))
    return " ".join(words[:cut])


def _last_words(item: str, width: int) -> str:
    """The first list item: up to ``width`` words from its end, stopping at a linking word
    ("a progression of C" -> "C", "specifications of open hole" -> "open hole")."""
    taken: list[str] = []
    for w in reversed(item.split()):
        if w.lower() in _BOUNDARY or w.lower() in _STOP or len(taken) >= width:
            break
        taken.insert(0, w)
    return " ".join(taken)


def fill(op: OperationDoc, text: str, today: date | None = None) -> Filled:
    """The values ``text`` gives ``op``'s parameters (typed as the schema says)."""
    req = prepare(text, today)
    out = Filled()
    for p in op.params:  # enums first: their words are the most specific
        if p.enum:
            got = _yes_enum(p, req) if _is_yes_enum(p) else _fill_enum(p, req)
            if got is not None:
                out.values[p.name], out.evidence[p.name] = got
                out.typed.add(p.name)
    _fill_dates(op, req, out)
    for p in op.params:  # "at 5:30pm" for a show_time: "17:30", before the numbers take 5
        if _is_time_param(p) and p.name not in out.values:
            said = _time_said(p, req)
            if said is not None:
                req.used.append((said[1], said[2]))
                out.values[p.name], out.evidence[p.name] = said[0], req.text[said[1] : said[2]]
    for p in op.params:  # lists before single numbers: "[1, 2, 3]" is one value
        if p.type == "array" and p.required and p.name not in out.values:
            lst = _fill_list(p, req, brackets_only=True)
            if lst is not None:
                out.values[p.name], out.evidence[p.name] = lst
    lists = [p for p in op.params if p.type == "array" and p.items in ("integer", "number")]
    _put_found(values.number_lists([p for p in lists if p.name not in out.values], req.text,
                                   req.free), req, out)  # fmt: skip
    _fill_numbers(op, req, out)
    for p in op.params:  # what is left of the numbers and "x, y and z" to required lists
        if p.type == "array" and p.required and p.name not in out.values:
            lst = _fill_list(p, req)
            if lst is not None:
                out.values[p.name], out.evidence[p.name] = lst
    strings = [p for p in op.params if p.type == "string" and not p.enum and not is_date_param(p)]
    strings = [p for p in strings if p.name not in out.values]
    for p in strings:  # "2150 Shattuck Ave, Berkeley, CA" to a pick-up location or address
        if _asks_address(p):
            m = next((m for m in _ADDRESS.finditer(req.text) if req.free(m.start(), m.end())), None)
            if m is not None:
                req.used.append((m.start(), m.end()))
                out.values[p.name], out.evidence[p.name] = m.group(0).rstrip(" ,."), m.group(0)
    strings = [p for p in strings if p.name not in out.values]
    _put_found(values.string_values(strings, req.text, req.free), req, out)
    topic = frozenset(_stem(w) for w in split_name(op.name.rsplit(".", 1)[-1]).split()) - _STOP
    for p in op.params:
        if p.name in out.values or p.enum:
            continue
        if p.type == "string" and not is_date_param(p):
            phrase = _fill_string(p, req, cued_only=not p.required, topic=topic)
            if phrase is not None:
                req.used.append((phrase[1], phrase[2]))
                out.values[p.name], out.evidence[p.name] = phrase[0], phrase[0]
        elif p.type == "boolean":
            stated = _phrase_stated(p, req)
            if stated or p.required:
                out.values[p.name] = stated
                out.evidence[p.name] = "(stated)" if stated else "(not stated)"
    people = [p for p in op.params if p.type == "string" and not p.enum and _is_person(p)]
    for find in (_person_as_role, _person_after_cue):  # "Jim Henson as the director" first
        for p in people:  # an optional person: "with Lupita Nyong'o", "by Ed Sheeran"
            person = None if p.name in out.values else find(p, req)
            if person is not None:
                req.used.append((person[1], person[2]))
                out.values[p.name], out.evidence[p.name] = person[0], person[0]
    for p in op.params:  # "Long Beach" for a "City, State" parameter: "Long Beach, CA"
        if isinstance(out.values.get(p.name), str):
            out.values[p.name] = places.with_state(p, out.values[p.name], req.text)
    out.missing = [p.name for p in op.params if p.required and p.name not in out.values]
    return out


_PERSON_WORDS = frozenset((
    "cast", "actor", "actors", "actress", "star", "stars", "starring", "artist", "artists",
    "singer", "author", "writer", "director", "composer", "performer", "musician", "band",
))  # fmt: skip
_FULL_NAME = r"([A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+){1,3})"
_PERSON_CUE = re.compile(
    r"\b(?:with|featuring|features?|featured|feat\.|starring|stars|starred|by|acted by|"
    r"played by|sung by)\s+" + _FULL_NAME
)
_AS_ROLE = re.compile(_FULL_NAME + r"\s+as\s+(?:the\s+|an?\s+)?([a-z]+)")


def _is_person(p: ParamDoc) -> bool:
    """A parameter that names a person by role: cast, artist, author, director..."""
    return _named_as(p, _PERSON_WORDS)


def _person_as_role(p: ParamDoc, req: _Request) -> tuple[str, int, int] | None:
    """ "Jim Henson as the director" for ``directed_by``: a full name followed by "as" and
    one of the parameter's own words."""
    own = {_stem(w) for w in split_name(p.name).split()} | {
        _stem(w) for w in words_of(p.description)
    }
    for m in _AS_ROLE.finditer(req.text):
        role = _stem(m.group(2))
        if any(w.startswith(role[:5]) or role.startswith(w[:5]) for w in own if len(w) >= 4):
            name = m.group(1).split(". ")[-1]  # "... Connelly. Jim Henson as the director"
            if " " in name and req.free(m.end(1) - len(name), m.end(1)):
                return name, m.end(1) - len(name), m.end(1)
    return None


def _person_after_cue(_p: ParamDoc, req: _Request) -> tuple[str, int, int] | None:
    """The first free full name ("Lupita Nyong'o", two to four capitalised words) after
    "with", "featuring", "starring", "by"...: a role's person where the request does not
    name the role."""
    for m in _PERSON_CUE.finditer(req.text):
        name = _clean(re.split(r"\.\s", m.group(1))[0])  # not into the next sentence
        if (
            " " in name
            and req.free(m.start(1), m.start(1) + len(name))
            and name.lower() not in _STOP
        ):
            return name, m.start(1), m.start(1) + len(name)
    return None


def _put_found(found: values.Found, req: _Request, out: Filled) -> None:
    for name, (value, start, end) in found.items():
        req.used.append((start, end))
        out.values[name], out.evidence[name] = value, req.text[start:end]


def _is_yes_enum(p: ParamDoc) -> bool:
    said = {str(v).lower() for v in p.enum}
    return {"true", "false"} <= said


def _yes_enum(p: ParamDoc, req: _Request) -> tuple[Any, str] | None:
    """An enum of "True" / "False" (/ "dontcare") is a yes/no, whatever words its description
    gives the values: "True" when the request says the parameter's own words ("has laundry
    service") or its last word ("suitable for children" for ``good_for_kids``), "False" when
    that word is negated ("not for kids"); unset otherwise."""
    value = {str(v).lower(): v for v in p.enum}
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
    generic = ("is", "has", "have", "include", "use", "with", "status", "flag", "enabled",
               "enable", "mode")  # fmt: skip
    words = [w for w in split_name(p.name).split() if w not in generic]
    if not words:
        return False
    tokens = re.findall(r"[a-z']+", req.low)

    def says(w: str, w2: str) -> bool:
        return w2 == _stem(w) or (len(w) >= 4 and w2.startswith(_stem(w))) or _same_root(w, w2)

    hits = [i for i, t in enumerate(tokens) if t not in _STOP and says(words[0], t)]
    if not hits or not all(any(says(w, t) for t in tokens if t not in _STOP) for w in words):
        return False
    before = tokens[max(0, hits[0] - 4) : hits[0]]
    return not any(t in _NEGATIONS for t in before)


_NEGATIONS = frozenset((
    "no", "not", "without", "never", "don't", "dont", "nor", "exclude", "excluding", "except",
))  # fmt: skip


def _same_root(word: str, said: str) -> bool:
    """ "standardize" is stated by "standardization", "normalise" by "normalised": long words
    whose only difference is a final "e" and what follows it."""
    return len(word) >= 7 and word.endswith("e") and said.startswith(word[:-1])
