"""Value finders the slot extractors share, each read from the request and a parameter's schema.

* :func:`quoted_phrases`: phrases in quotes, where an apostrophe inside a phrase ("it's")
  does not end it;
* :func:`cue_before`: how close a parameter's own words (name first, then its description)
  stand before a position, so that "the subject 'X' and the message 'Y'" gives each phrase
  to the parameter it follows;
* :func:`unit_affinity`: what a number's unit says about the parameter it belongs to ("$5000"
  to an amount, "7%" to a rate, "6 hours" to a parameter described in hours, "20 kg" to a
  mass and never to a temperature: :func:`dimension_words` knows the physical units);
* :func:`described_values`: the values a description lists for a free string parameter
  ("such as 'bitter', 'sweet'", "'add' to add a new task"), read as a soft enum;
* :func:`number_groups`: the numbers of a request in runs ("12, 24, 36"), and the bracketed
  or parenthesised tuples ("(40.7, -74.0)"), for list parameters;
* :func:`pattern_value`: e-mail addresses, URLs and file paths for parameters that ask for them.

Nothing here names an API: every rule reads the parameter's name, type and description.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cairn.command.operations import ParamDoc, split_name

# a quote opens after a space, a bracket or the start, and closes before a space, punctuation
# or the end; "it's" inside a quoted phrase does not close it
_SINGLE = re.compile(
    r"(?:(?<=^)|(?<=[\s(\[:=,]))'(?P<q>[^'\n]+?(?:'[a-z][^'\n]*?)*)'(?=[\s.,;:!?)\]]|$)"
)
_DOUBLE = re.compile(r"[\"“](?P<q>[^\"”\n]{1,300})[\"”]")
_NOISE = frozenset((
    "the", "a", "an", "of", "for", "in", "on", "at", "to", "by", "with", "from", "and", "or",
    "is", "are", "was", "be", "as", "that", "this", "it", "its", "which", "who", "what", "when",
    "where", "how", "number", "value", "values", "name", "names", "given", "specified",
    "specific", "list", "type", "string", "integer", "float", "the",
))  # fmt: skip
_MONEY = frozenset((
    "amount", "price", "cost", "deposit", "investment", "principal", "dollar",
    "dollars", "usd", "money", "salary", "budget", "income", "payment", "loan", "fee", "fees",
    "balance", "capital", "revenue", "spend", "spending", "fund", "funds", "worth", "sum",
    "dividend", "dividends", "paid", "pay", "equity", "profit", "earnings", "sales", "value",
    "asset", "assets", "debt", "expense", "expenses", "premium", "wage", "rent", "cash",
    "bonus", "savings", "donation", "valuation", "liabilities", "bill", "tip",
))  # fmt: skip
_RATE = frozenset((
    "rate", "rates", "percent", "percentage", "ratio", "probability", "interest", "return",
    "returns", "growth", "yield", "discount", "tax", "fraction", "proportion", "share",
))  # fmt: skip
_UNIT_AFTER = re.compile(r"\s*(°?[a-zA-Zµ]+)")
# physical units and the words a parameter that takes them uses (general knowledge, no API):
# "20 kg" belongs to a mass, "300 K" to a temperature, "440Hz" to a frequency
_DIMENSIONS: tuple[tuple[frozenset[str], tuple[str, ...]], ...] = tuple(
    (frozenset(units.split()), tuple(words.split()))
    for units, words in (
        ("kg kilogram kilo gram mg milligram lb lbs pound ton tonn tonne ounc oz",
         "mass weight"),
        ("K C F kelvin °c °f °C °F celsiu fahrenheit degre", "temperatur temp"),
        ("meter metr cm centimeter centimetr mm millimeter millimetr km kilometer kilometr "
         "mile ft foot feet inch yard",
         "length distanc height width depth radius diamet side base altitud elevat perimet"),
        ("sec second ms millisecond minut mins hour hr hrs day week month year",
         "time durat period second minut hour day week month year interv"),
        ("Hz kHz MHz GHz hz khz mhz ghz hertz", "frequen"),
        ("mol", "quantit mole amount"),
        ("L ml mL liter litr milliliter millilitr gallon", "volum capacit"),
        ("mph kmh kph knot", "speed veloc"),
        ("Pa kPa atm bar psi atmospher", "pressur"),
        ("J kJ joul calory kcal kWh kwh", "energ heat work"),
        ("W kW watt horsepower hp", "power"),
        ("V volt", "voltag potential"),
        ("A amp amper mA", "current"),
        ("ohm", "resist"),
        ("farad µF uF nF pF", "capacit"),
        ("H henry mH", "inductan"),
        ("N newton", "forc"),
    )
)  # fmt: skip


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def stem(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def name_cues(p: ParamDoc) -> set[str]:
    """The stems of the parameter's name words; a joined word also gives its first part
    ("username" -> "user", "hostname" -> "host", "zipcode" -> "zip")."""
    words = [w for w in split_name(p.name).split() if w not in _NOISE]
    joined = [m.group(1) for w in words if (m := _JOINED.fullmatch(w))]
    return {stem(w) for w in words + joined}


_JOINED = re.compile(r"([a-z]{3,})(?:name|code|id)")


def description_cues(p: ParamDoc) -> set[str]:
    head = re.split(r"[.;(]|, (?:such as|e\.g\.|for example)", p.description, maxsplit=1)[0]
    return {stem(w) for w in words_of(head) if w not in _NOISE and len(w) > 2} - name_cues(p)


def quoted_phrases(text: str) -> list[tuple[str, int, int]]:
    """Each quoted phrase with its character span (inside the quotes), in order."""
    found = [(m.group("q"), m.start("q"), m.end("q")) for m in _DOUBLE.finditer(text)]
    for m in _SINGLE.finditer(text):
        if all(m.end("q") <= a or m.start("q") >= b for _, a, b in found):
            found.append((m.group("q"), m.start("q"), m.end("q")))
    return sorted(found, key=lambda f: f[1])


def cue_before(
    p: ParamDoc, text: str, at: int, window: int = 6, topic: frozenset[str] = frozenset()
) -> float | None:
    """Words between the nearest of ``p``'s own words and position ``at`` (name words count
    as they are, description words one more), or None when none is within ``window``.
    Description words in ``topic`` (the operation's own name: "price" for
    ``fetch_artwork_price``) describe the whole call, not this parameter: they do not count."""
    before = [stem(w) for w in words_of(text[max(0, at - 80) : at])][-window:]
    names, desc = name_cues(p), description_cues(p) - topic
    for dist, w in enumerate(reversed(before)):
        if w in names:
            return float(dist)
        if w in desc:
            return dist + 1.0
    return None


_MONEY_STEMS = _MONEY | {stem(w) for w in _MONEY}
_RATE_STEMS = _RATE | {stem(w) for w in _RATE}


def unit_affinity(p: ParamDoc, text: str, start: int, end: int) -> float | None:
    """How well the unit said with the number at ``text[start:end]`` fits ``p``: 0 for a fit
    (a money sign to an amount, a percent to a rate, "hours" to a parameter in hours), 3 for
    a clash (a percent to a count), None when the number carries no unit."""
    said = text[start:end]
    after = _UNIT_AFTER.match(text, end)
    unit = stem(after.group(1).lower()) if after else ""
    own = name_cues(p) | {stem(w) for w in words_of(p.description)}
    money = "$" in said or unit in ("dollar", "usd", "euro", "buck")
    pct = "%" in said or unit in ("percent", "percentage")
    if money:
        return 0.0 if own & _MONEY_STEMS else 3.0
    if pct:
        return 0.0 if own & _RATE_STEMS else 3.0
    if unit and len(unit) > 2 and unit in own:
        return 0.0
    attached = after is not None and not after.group(0)[0].isspace()
    words = dimension_words(after.group(1), attached) if after else ()
    if words:
        return 0.0 if any(o.startswith(w) for o in own for w in words) else 3.0
    return None


_PREFIX_NAMES = {"pico": 1e-12, "nano": 1e-9, "micro": 1e-6, "milli": 1e-3, "centi": 1e-2,
                 "kilo": 1e3, "mega": 1e6, "giga": 1e9}  # fmt: skip
_PREFIX_SYMBOLS = {"p": 1e-12, "n": 1e-9, "µ": 1e-6, "μ": 1e-6, "u": 1e-6, "m": 1e-3, "c": 1e-2,
                   "k": 1e3, "M": 1e6, "G": 1e9}  # fmt: skip
_BASE_NAMES = {"farad": "F", "henry": "H", "henrie": "H", "meter": "m", "metre": "m",
               "gram": "g", "second": "s", "volt": "V", "amp": "A", "ampere": "A", "ohm": "Ω",
               "watt": "W", "hertz": "Hz", "joule": "J", "liter": "L", "litre": "L",
               "pascal": "Pa", "newton": "N"}  # fmt: skip
_BASE_SYMBOLS = frozenset(("F", "H", "m", "g", "s", "V", "A", "Ω", "W", "Hz", "J", "L", "l", "Pa",
                           "N"))  # fmt: skip
_IN_UNIT = re.compile(r"\bin\s+(?:the\s+)?([a-zA-Zµμ]+)\b|\(([a-zA-ZµμΩ]{1,4})\)")


def si_unit(unit: str) -> tuple[str, float] | None:
    """An SI unit's base and prefix factor: "µF" -> ("F", 1e-6), "kilograms" -> ("g", 1000),
    "henries" -> ("H", 1); None for anything else (minutes and miles are not scaled)."""
    word = unit.lower()
    for plural in ("ies", "es", "s"):
        if len(word) > 4 and word.endswith(plural) and word[: -len(plural)] in _BASE_NAMES:
            word = word[: -len(plural)]
            break
    else:
        word = word[:-1] if len(word) > 4 and word.endswith("s") else word
    for name, factor in [("", 1.0), *_PREFIX_NAMES.items()]:
        if word.startswith(name) and word[len(name) :] in _BASE_NAMES:
            return _BASE_NAMES[word[len(name) :]], factor
    if unit in _BASE_SYMBOLS:
        return unit.upper() if unit == "l" else unit, 1.0
    if len(unit) >= 2 and unit[0] in _PREFIX_SYMBOLS and unit[1:] in _BASE_SYMBOLS:
        base = unit[1:]
        return base.upper() if base == "l" else base, _PREFIX_SYMBOLS[unit[0]]
    return None


def unit_scale(p: ParamDoc, text: str, end: int) -> float:
    """The factor that turns a number said with a prefixed SI unit into the unit ``p``'s
    description asks for: "100µF" to a capacitance "in farads" -> 1e-6, "50 cm" to a length
    "in meters" -> 0.01; 1 when either unit is unknown or they measure different things."""
    after = _UNIT_AFTER.match(text, end)
    if after is None:
        return 1.0
    said = si_unit(after.group(1))
    if said is None or (len(after.group(1)) == 1 and after.group(0)[0].isspace()):
        return 1.0
    for m in _IN_UNIT.finditer(p.description):
        wanted = si_unit(m.group(1) or m.group(2))
        if wanted is not None and wanted[0] == said[0]:
            return said[1] / wanted[1]
    return 1.0


def dimension_words(unit: str, attached: bool = True) -> tuple[str, ...]:
    """The word stems of the quantity a physical unit measures ("kg" -> mass, weight); empty
    for a word that is not a unit. A one-letter unit counts only when it is written against
    the number ("5m") or is a capital ("300 K"), so that "2 s" or "3 a" stay words."""
    if len(unit) == 1 and not attached and unit.islower():
        return ()
    key = unit if len(unit) <= 3 else stem(unit.lower())
    for units, words in _DIMENSIONS:
        if key in units or (len(key) > 3 and key.lower() in units):
            return words
    return ()


def described_values(p: ParamDoc) -> list[str]:
    """Values a description names for a free string: quoted words ("such as 'bitter',
    'sweet'", "'add' to add a task") and words after "e.g."/"such as"."""
    out = [m.group(1) for m in re.finditer(r"['\"]([^'\"]{1,40})['\"]", p.description)]
    for m in re.finditer(r"(?:such as|e\.g\.,?|for example,?)\s+([^.;()]+)", p.description):
        for part in re.split(r",\s*|\s+or\s+|\s+and\s+", m.group(1)):
            part = part.strip(" '\"")
            if re.fullmatch(r"[A-Z]{2}", part):
                continue  # the state of "'Berkeley, CA'" is not a value of its own
            if part and len(part.split()) <= 3:
                out.append(part)
    seen: dict[str, str] = {}
    for v in out:
        seen.setdefault(v.lower(), v)
    return list(seen.values())


def said_value(values: Sequence[str], low: str) -> tuple[str, int, int] | None:
    """The longest of ``values`` the request says (as a word, or its stem: "completed" says
    "complete"), with its span in ``low``."""
    best: tuple[str, int, int] | None = None
    for v in values:
        w = v.lower().strip()
        if not w or not re.search(r"[a-z]", w):
            continue
        root = re.escape(w if len(w) < 5 else stem(w))
        m = re.search(r"(?<![\w])" + root + r"(?:s|es|d|ed|ing|'s)?(?![\w])", low)
        if m and (best is None or len(v) > len(best[0])):
            best = (v, m.start(), m.end())
    return best


@dataclass(frozen=True)
class NumberGroup:
    values: tuple[float | int, ...]
    start: int
    end: int
    bracketed: bool


_TUPLE = re.compile(r"[(\[]\s*-?\d[\d.,\s\-eE]*[)\]]")
_NUM = re.compile(r"-?\d+(?:\.\d+)?")
_RUN = re.compile(
    r"(?<![\w.\-])-?\d+(?:\.\d+)?(?:(?:\s*,\s*|\s*,?\s+and\s+|\s+)-?\d+(?:\.\d+)?)+"
    r"(?![\w]|\.\d)"  # a full stop may end the run: "15, 30, 45."
)


def _num(s: str) -> float | int:
    return float(s) if "." in s else int(s)


def number_groups(text: str) -> list[NumberGroup]:
    """Bracketed tuples "(1.5, -2)" first; then runs of numbers joined only by commas, "and"
    or spaces ("12, 24, 36 and 48")."""
    groups: list[NumberGroup] = []
    for m in _TUPLE.finditer(text):
        nums = _NUM.findall(m.group(0))
        if len(nums) >= 2:
            groups.append(NumberGroup(tuple(_num(n) for n in nums), m.start(), m.end(), True))
    for m in _RUN.finditer(text):
        if any(g.start <= m.start() < g.end for g in groups):
            continue
        nums = _NUM.findall(m.group(0))
        groups.append(NumberGroup(tuple(_num(n) for n in nums), m.start(), m.end(), False))
    return sorted(groups, key=lambda g: g.start)


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://[^\s'\"<>]+|www\.[^\s'\"<>]+")
# an identifier: letters and digits (with / _ -), at least one digit: "rs6034464",
# "2022/AL2562", "Q3CC-CRT3-SZ2G", "546382"
_ID = re.compile(r"(?<![\w@/.-])(?=[\w/-]*\d)[A-Za-z0-9]+(?:[/_-][A-Za-z0-9]+)*(?![\w@])")
_ID_WORDS = frozenset(("id", "identifier", "serial", "docket", "sku", "isbn", "code", "ref"))
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\w.\-~]*/)+[\w.\-]+|\b[\w\-]+\.(?:[a-z]{2,4})\b(?!\.)")


def pattern_value(p: ParamDoc, text: str) -> tuple[str, int, int] | None:
    """An e-mail address, URL or file path for a parameter whose name or description asks
    for one."""
    own = set(split_name(p.name).split()) | set(words_of(p.description))
    named = set(split_name(p.name).split())
    for kind, pattern in (("email", _EMAIL), ("url", _URL), ("path", _PATH), ("id", _ID)):
        wants = {
            "email": own & {"email", "mail", "recipient"} or "to" in named,
            "url": own & {"url", "link", "website", "endpoint", "uri"},
            "path": own & {"path", "file", "filename", "directory", "folder", "dataset", "image"},
            "id": named & _ID_WORDS,
        }[kind]
        if not wants:
            continue
        for m in pattern.finditer(text):
            if kind == "path" and (_EMAIL.fullmatch(m.group(0)) or m.group(0)[-1].isdigit()):
                continue
            if kind == "id":  # only right after the parameter's own words: "ID rs6034464"
                d = cue_before(p, text, m.start(), window=3)
                if d is None or d > 2:
                    continue
            value = m.group(0).rstrip(".,?!)")
            return value, m.start(), m.start() + len(value)
    return None


_ASKS = frozenset((
    "email", "mail", "recipient", "to", "url", "link", "website", "endpoint", "uri", "path",
    "file", "filename", "directory", "folder", "dataset", "image", *_ID_WORDS,
))  # fmt: skip
Free = Callable[[int, int], bool]
Found = dict[str, tuple[Any, int, int]]


def _greedy(
    params: Sequence[ParamDoc],
    spans: Sequence[tuple[Any, int, int]],
    text: str,
    topic: frozenset[str] = frozenset(),
) -> tuple[Found, set[int]]:
    """Each span to the parameter whose own words stand nearest before it; required
    parameters left over take the spans left, in order."""
    pairs = []
    for p in params:
        for i, (_, start, _end) in enumerate(spans):
            d = cue_before(p, text, max(0, start - 1), topic=topic)
            if d is not None:
                pairs.append((d, i, p))
    found: Found = {}
    taken: set[int] = set()
    for _d, i, p in sorted(pairs, key=lambda x: (x[0], x[1])):
        if i not in taken and p.name not in found:
            found[p.name] = spans[i]
            taken.add(i)
    for p in params:
        if p.required and p.name not in found:
            left = [i for i in range(len(spans)) if i not in taken]
            if left:
                found[p.name] = spans[left[0]]
                taken.add(left[0])
    return found, taken


def string_values(
    params: Sequence[ParamDoc],
    text: str,
    free: Free,
    topic: frozenset[str] = frozenset(),
    chosen: frozenset[str] = frozenset(),
) -> Found:
    """Values for free string parameters, in order of how specific the evidence is: an
    address, link or path the parameter asks for; a value its description names (not one
    already ``chosen``, lower case, for another parameter's enum: "For 'delete', it is the
    item's id"); a quoted phrase after the parameter's own words (required ones take the
    quotes left); ``topic``: the stems of the operation's name (see :func:`cue_before`)."""
    found: Found = {}
    low = text.lower()
    # one address to one parameter: those whose name asks for it before those whose
    # description mentions it ("to_address" before "subject: the subject of the email")
    asking = sorted(params, key=lambda p: not (set(split_name(p.name).split()) & _ASKS))
    for p in asking:
        got = pattern_value(p, text)
        if got and free(got[1], got[2]) and not _inside(got, found):
            found[p.name] = got
    quotes = [q for q in quoted_phrases(text) if free(q[1], q[2]) and not _inside(q, found)]
    left = [p for p in params if p.name not in found]
    for q in list(quotes):  # a quote the parameter's name stands right beside
        named = _named_beside(q, left, text)
        if named is not None:
            found[named.name] = q
            quotes.remove(q)
            left.remove(named)
    for p in list(left):
        said = said_value([v for v in described_values(p) if v.lower() not in chosen], low)
        if said and free(said[1], said[2]) and not _inside(said, found):
            found[p.name] = said
            left.remove(p)
    quotes = [q for q in quotes if not _inside(q, found)]
    by_quote, _ = _greedy(left, quotes, text, topic)
    found.update(by_quote)
    return found


# "the 'Get Weird' album", "'admin_user' as username": the name right after the quote
_NAME_AFTER = re.compile(r"['\"”]?\s+(?:as\s+)?(?:the\s+|an?\s+|my\s+)?([a-z]+)")
# "the database should be 'finance_db'", "host IP as '192.168.0.10'": the name right before
_NAME_BEFORE = re.compile(
    r"\b([a-z]+)(?:\s+(?:is|should\s+be|will\s+be|must\s+be|as|set\s+to)|\s*[:=])?\s*['\"“]$"
)


def _named_beside(
    q: tuple[str, int, int], params: Sequence[ParamDoc], text: str
) -> ParamDoc | None:
    """The one parameter whose name is said right after or right before the quote ``q``."""
    after = _NAME_AFTER.match(text, q[2])
    before = _NAME_BEFORE.search(text[: q[1]].lower())
    for m in (after, before):
        if m is None:
            continue
        word = stem(m.group(1).lower())
        named = [p for p in params if word in name_cues(p)]
        if len(named) == 1:
            return named[0]
    return None


def _inside(span: tuple[Any, int, int], found: Found) -> bool:
    return any(not (span[2] <= a or span[1] >= b) for _, a, b in found.values())


def number_lists(params: Sequence[ParamDoc], text: str, free: Free) -> Found:
    """Lists of numbers: a bracketed tuple or a run of numbers, each to the list parameter
    named nearest before it."""
    groups = [g for g in number_groups(text) if free(g.start, g.end)]
    spans: list[tuple[Any, int, int]] = []
    for g in groups:
        spans.append((list(g.values), g.start, g.end))
    found, _ = _greedy(params, spans, text)
    out: Found = {}
    for p in params:
        if p.name in found:
            value, a, b = found[p.name]
            if p.items == "integer" and not all(isinstance(v, int) for v in value):
                continue
            if p.items == "number":
                value = [float(v) for v in value]
            out[p.name] = (value, a, b)
    return out
