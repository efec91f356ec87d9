"""String slots: a phrase, a street address, a place or a person's name for a string parameter.

A phrase after the parameter's own words ("named X"), a place after "in/at/near" for a
location-like parameter, a capitalised name, or else the next unused phrase; a full name
after "with", "starring", "by" or before "as the director" for a parameter naming a person.
"""

from __future__ import annotations

import re

from cairn.command.operations import ParamDoc, split_name
from cairn.command.slot_request import _BOUNDARY, _NUMBER, _STOP, _has, _Request, _stem
from cairn.command.values import words_of

_LOCATION_WORDS = ("location", "city", "place", "country", "state", "address", "region", "area",
                   "destination", "origin", "town", "venue", "where")  # fmt: skip


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


_URL = r"https?://[^\s,;'\"<>()]+"


def _phrase_after(req: _Request, start: int, max_words: int = 5) -> tuple[int, int] | None:
    rest = req.text[start:]
    m = re.match(r"\s*(?:the\s+|a\s+|an\s+)?", rest, re.IGNORECASE)
    pos = start + (m.end() if m else 0)
    words = list(re.finditer(rf"{_URL}|[\w'&.\-]+(?:,\s*[A-Z]{{2}}\b)?", req.text[pos:]))
    taken: list[re.Match[str]] = []
    for w in words:
        token = w.group(0).lower().rstrip(".")
        gap = req.text[pos + (taken[-1].end() if taken else 0) : pos + w.start()]
        if taken and re.search(r"[?!;:()]|\.\s", gap):
            break
        if token in _BOUNDARY or len(taken) >= max_words:
            break
        if taken and token.endswith("ing") and all(t.group(0)[:1].isupper() for t in taken):
            break  # "Beyonce performing in ...": a name ends where a verb starts
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
    p: ParamDoc,
    req: _Request,
    *,
    cued_only: bool = False,
    topic: frozenset[str] = frozenset(),
    op_words: frozenset[str] = frozenset(),
) -> tuple[str, int, int] | None:
    """A phrase for a string parameter; ``cued_only``: only one that follows the parameter's
    own name ("the song_id is X", "directed by X"), as for an optional parameter. A phrase
    after a preposition that starts with a ``topic`` word (the operation's own name: "the
    names of proteins found in ..." for ``get_proteins``) is what is asked for, not a value."""
    name_words = [w for w in split_name(p.name).split() if w not in _STOP]
    if len(name_words) > 1 and name_words[-1] in ("name", "title"):
        # "theater_name": "at the Century 20 theater", the name before the bare word
        short = r"\b" + r"[\s_]+".join(re.escape(w) for w in name_words[:-1]) + r"\b"
        for m in re.finditer(short + r"\s+([A-Z][\w&.'-]*(?:\s+[A-Z][\w&.'-]*){0,3})", req.text):
            if req.free(m.start(1), m.end(1)):  # "the company Amazon": the name after
                return m.group(1).rstrip("."), m.start(1), m.end(1)
        for m in re.finditer(short, req.text):  # lower case: "Museum of Art" is a name
            before = _named_before(req, m.start(), m.end())
            if before is not None and not re.match(r"\s+(?:of|for)\b", req.text[m.end() :]):
                return before
    if len(name_words) > 1 and name_words[-1] in ("type", "kind"):
        kind = _kind_said(name_words[:-1], req, op_words)  # "renewable energy", "gas-fueled"
        if kind is not None:
            return kind
    if name_words:
        cue = r"\b" + r"[\s_]+".join(_said_as(w) for w in name_words) + r"s?\b"
        # "the CIK number is X", "the host address is X": a label word may come between
        cue += r"(?:\s+(?:number|no\.?|address|id|code|name|title))?"
        cue += r"(?:\s+(?:is|of|by|named|called|=|:|as)|\s*[-–—](?=\s))?"  # "content - go to gym"
        longest = 8 if _asks_address(p) else 5  # "123 Park Branham Apartments, San Jose"
        for m in re.finditer(cue, req.low):
            said = _AS_THE.search(req.text[: m.start()])  # "black as their special request"
            if said and req.free(said.start(1), said.end(1)) and said.group(1).lower() not in _STOP:
                return said.group(1), said.start(1), said.end(1)
            if m.group(0).rstrip()[-1:] in "-–—:":  # "content - go to gym": the rest is it
                rest = re.match(r"\s*([^.?!\n]{1,120}?)\s*(?:[.?!\n]|$)", req.text[m.end() :])
                if rest and req.free(m.end() + rest.start(1), m.end() + rest.end(1)):
                    return rest.group(1), m.end() + rest.start(1), m.end() + rest.end(1)
            span = _phrase_after(req, m.end(), max_words=longest)
            if span and req.free(*span) and _clean(req.text[span[0] : span[1]]):
                return _without_own_name(p, _clean(req.text[span[0] : span[1]])), *span
            before = _named_before(req, m.start(), m.start() + len(m.group(0).split()[0]))
            if before is not None:
                return before
    if cued_only and not _has(p.name, _LOCATION_WORDS):
        return None  # an optional place is read as a required one: "in Hyderabad, India"
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
    if cued_only:
        return None
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


# the short forms people type for a parameter's name word ("with id dentist")
_SHORT_FORMS = {"identifier": "id", "number": "no", "information": "info", "maximum": "max",
                "minimum": "min", "quantity": "qty", "temperature": "temp",
                "configuration": "config", "application": "app", "description": "desc"}  # fmt: skip


def _said_as(word: str) -> str:
    short = _SHORT_FORMS.get(word)
    return f"(?:{re.escape(word)}|{short})" if short else re.escape(word)


_AS_THE = re.compile(r"\b([\w'-]+)\s+as\s+(?:the|their|my|his|her|its|our|your)\s+$")
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
_VALUE_END = re.compile(
    r"((?:[A-Z][\w'.&-]*\s+)*[A-Z][\w'.&-]*(?:\s+\d+)?|\d[\d/-]*)\s+$"
)  # "the Spring season", "the Century 20 theater", "in 2022 season"


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


_PERSON_WORDS = frozenset((
    "cast", "actor", "actors", "actress", "star", "stars", "starring", "artist", "artists",
    "singer", "author", "writer", "director", "composer", "performer", "musician", "band",
))  # fmt: skip
_FULL_NAME = r"([A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+){1,3})"
_ACTING_CUE = r"with|featuring|features?|featured|feat\.|starring|stars|starred|acted by|played by"
_PERSON_CUE = re.compile(rf"\b({_ACTING_CUE}|directed by|by|sung by)\s+" + _FULL_NAME)
# "Camila Sosa in it", "C.J. Rush in the cast", "that Joey Fatone acted in": acting, said after
_ACTED_IN = re.compile(
    _FULL_NAME + r"\s+(?:in it\b|in the cast\b|(?:acted|starred|stars|appears|appeared) in\b)"
)
_ACTING_WORDS = frozenset(("cast", "actor", "actors", "actress", "star", "stars", "starring"))
_AS_ROLE = re.compile(_FULL_NAME + r"\s+as\s+(?:the\s+|an?\s+)?([a-z]+)")
# "songs by Jinjer", "by Harris J": after "by", one capitalised name (a band, a mononym) or a
# name whose last part is an initial
_BY_ONE = re.compile(r"\b(by|sung by|performed by)\s+([A-Z][\w'.-]{2,}(?:\s+[A-Z][\w'.-]*){0,3})")
_NOT_NAMES = frozenset((
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today",
    "tomorrow", "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december",
))  # fmt: skip


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


def _is_acting(p: ParamDoc) -> bool:
    return _named_as(p, _ACTING_WORDS)


def _person_for_role(
    p: ParamDoc, req: _Request, *, acting: bool, any_role: bool = False
) -> tuple[str, int, int] | None:
    """The first free full name ("Lupita Nyong'o", two to four capitalised words) after
    "with", "featuring", "starring", "by"...: a role's person where the request does not
    name the role. Acting cues ("with", "starring", "... in the cast") go to an ``acting``
    parameter (cast, actor, star), "directed by" to a director, and "by" to a person who is
    not acting ("songs by Jinjer"); with ``any_role`` (an operation with no acting parameter)
    every cue goes to any person."""
    found: list[tuple[int, str, bool, bool]] = []  # start, name, acting cue, directing cue
    for m in _PERSON_CUE.finditer(req.text):
        cue = m.group(1)
        found.append((m.start(2), m.group(2), bool(re.fullmatch(_ACTING_CUE, cue)),
                      cue == "directed by"))  # fmt: skip
    found += [(m.start(1), m.group(1), True, False) for m in _ACTED_IN.finditer(req.text)]
    directing = _named_as(p, frozenset(("director", "directed", "directors")))
    for start, said, acting_cue, directing_cue in sorted(found):
        if not any_role and (acting_cue != acting or (directing_cue and not directing)):
            continue
        name = _clean(_sentence_cut(said))  # not into the next sentence; "J. Patrick" stays
        if " " in name and req.free(start, start + len(name)) and name.lower() not in _STOP:
            return name, start, start + len(name)
    if acting or directing:
        return None
    for m in _BY_ONE.finditer(req.text):  # "by Jinjer" for an artist, an author, a band
        name = _clean(_sentence_cut(m.group(2)))
        first = name.split()[0].lower() if name else ""
        ok = name and first not in _NOT_NAMES and first not in _STOP
        if ok and req.free(m.start(2), m.start(2) + len(name)):
            return name, m.start(2), m.start(2) + len(name)
    return None


_SELF_NAMED = re.compile(
    r"\b(?i:I am|I'm|my name is|this is|call me)\s+([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+){0,2})"
)
_WHO_WORDS = frozenset(("person", "passenger", "customer", "guest", "patient", "user", "full"))


def _self_named(p: ParamDoc, req: _Request) -> tuple[str, int, int] | None:
    """ "Hi, I am Karan" for a ``person_name`` or a passenger's name: the speaker's own name,
    for a parameter that asks for a person's name."""
    words = set(split_name(p.name).split())
    first = p.description.lower().split(".")[0]
    if p.type != "string" or p.enum or "name" not in words | set(re.findall(r"[a-z]+", first)):
        return None
    if not (words & _WHO_WORDS or any(w in first for w in _WHO_WORDS)):
        return None
    for m in _SELF_NAMED.finditer(req.text):
        if req.free(m.start(1), m.end(1)):
            name = _clean(_sentence_cut(m.group(1)))
            return name, m.start(1), m.start(1) + len(name)
    return None


def _kind_said(
    words: list[str], req: _Request, op_words: frozenset[str] = frozenset()
) -> tuple[str, int, int] | None:
    """The kind of a ``*_type`` parameter: the word joined to its name word by a hyphen ("a
    gas-fueled car" for ``fuel_type``) or the one word in front of it ("renewable energy" for
    ``energy_type``), unless that word names the operation ("hotel room" for
    ``hotel_booking.book``'s ``room_type``)."""
    own = r"[\s_]+".join(re.escape(w) for w in words)
    joined = re.search(rf"\b([a-z]+)-{own}(?:ed|ing)?\b", req.low)
    if joined and req.free(joined.start(1), joined.end(1)):
        return joined.group(1), joined.start(1), joined.end(1)
    for m in re.finditer(rf"\b([a-z]+)\s+{own}\b", req.low):
        word = m.group(1)
        if _stem(word) in op_words or word in _STOP or word in _BOUNDARY:
            continue
        if req.free(m.start(1), m.end(1)):
            return word, m.start(1), m.end(1)
    return None
