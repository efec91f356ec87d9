"""Places for parameters that ask for "City, State" ("in the format of 'City, State', such as
'Austin, TX'"; "the city and state, e.g. San Francisco, CA"): "Long Beach" -> "Long Beach, CA",
"Austin texas" -> "Austin, TX", and a city outside the US gets its country ("Moscow" ->
"Moscow, Russia": that Moscow is far bigger than Moscow, Idaho).

The table (places.tsv) lists US cities of 15,000 people or more with their state and other
cities of 100,000 or more with their country, from GeoNames (CC BY 4.0);
``bench/make_places.py`` writes it. A name shared by several cities is the most populous
one's; a state said after the city wins over the table."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources
from typing import Any

from cairn.command.operations import ParamDoc, split_name

# the description asks for "City, State" or shows one ("such as 'Berkeley, CA'")
_ASKS = re.compile(
    r"(?i:city,\s*state\b|city and state\b)"
    r"|(?:['\"]|e\.g\.,?\s+|such as\s+)[A-Z][A-Za-z .'-]+,\s*[A-Z]{2}\b"
)


@cache
def _rows() -> tuple[tuple[str, str, str, int], ...]:
    """The table's rows: (kind, state code or country, name, population)."""
    text = resources.files("cairn.command").joinpath("places.tsv").read_text("utf-8")
    rows = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        kind, where, name, population = line.split("\t")
        rows.append((kind, where, name, int(population)))
    return tuple(rows)


@cache
def _countries() -> frozenset[str]:
    """The countries of the table's cities outside the US, lower case."""
    found = {where.lower() for kind, where, _, _ in _rows() if kind == "W"}
    return frozenset(found) | {"usa", "us", "united states", "uk"}


def split_places(params: Sequence[ParamDoc], values: dict[str, Any]) -> None:
    """ "Tokyo, Japan" said for a city when the operation also asks for the country: the city
    gets "Tokyo" and the country "Japan"; "San Francisco, California" put in a state parameter
    gives the state ("CA" when the description asks for an abbreviation) and, to an empty city
    parameter, the city. Changes ``values`` in place."""
    _, states = _table()
    kinds: dict[str, ParamDoc] = {}
    for p in params:
        words = split_name(p.name).split()
        for kind in ("city", "state", "country"):
            if p.type == "string" and not p.enum and kind in words:
                kinds.setdefault(kind, p)
    city = kinds.get("city")
    for p in [q for q in kinds.values() if isinstance(values.get(q.name), str)]:
        value = values[p.name]
        parts = [s.strip() for s in value.split(",")]
        if len(parts) != 2 or not all(parts):
            continue
        where, region = parts
        said = "state" if region.lower() in states else None
        said = said or ("country" if region.lower() in _countries() else None)
        target = kinds.get(said) if said else None
        if target is None or p.name not in (target.name, city.name if city else ""):
            continue
        held = values.get(target.name, region)
        if target is not p and held != region and _is_region(str(held), states):
            continue  # the request named another state or country for it
        values[target.name] = _state_as_asked(target, region, states) if said == "state" else region
        if city is not None and (p is city or city.name not in values):
            values[city.name] = where


def state_of_city(params: Sequence[ParamDoc], values: dict[str, Any]) -> None:
    """A state parameter left empty, or holding what is not a state ("violent crime"), gets
    the state of the US city in the city parameter ("San Francisco" -> "CA", or "California"
    when the description does not ask for an abbreviation); a state said is written as the
    description asks ("New York" -> "NY"). Changes ``values`` in place."""
    cities, states = _table()
    city = next(
        (p for p in params if p.type == "string" and "city" in split_name(p.name).split()), None
    )
    state = next(
        (
            p
            for p in params
            if p.type == "string" and not p.enum and split_name(p.name).split() == ["state"]
        ),
        None,
    )
    said = values.get(state.name) if state is not None else None
    if state is not None and isinstance(said, str) and said.lower() in states:
        # "in New York" for "the U.S. state abbreviation, such as 'CA'": "NY"
        values[state.name] = _state_as_asked(state, said, states, names=_state_names())
        return
    if city is None or state is None or not isinstance(values.get(city.name), str):
        return
    place = cities.get(values[city.name].lower())
    if place is None or place[0].lower() not in states:
        return  # not a US city of the table
    code = place[0]
    values[state.name] = _state_as_asked(state, code, states, names=_state_names())


@cache
def _state_names() -> dict[str, str]:
    """State code -> its name."""
    return {where: name for kind, where, name, _ in _rows() if kind == "S"}


def _is_region(value: str, states: dict[str, str]) -> bool:
    return value.lower() in states or value.lower() in _countries()


def _state_as_asked(
    p: ParamDoc, said: str, states: dict[str, str], names: dict[str, str] | None = None
) -> str:
    code = states[said.lower()]
    asks_code = re.search(r"abbreviat|two.letter|\bcode\b|'[A-Z]{2}'", p.description, re.I)
    if asks_code:
        return code
    return names.get(code, said) if names is not None else said


@cache
def _table() -> tuple[dict[str, tuple[str, int]], dict[str, str]]:
    """(city name lower -> ("ST" or "Country", population), state name or code lower ->
    state code)."""
    cities: dict[str, tuple[str, int]] = {}
    states: dict[str, str] = {}
    for kind, where, name, population in _rows():
        if kind == "S":
            states[name.lower()] = where
            states[where.lower()] = where
        elif kind in ("C", "W"):
            # abroad only when ten times bigger than the US namesake: Moscow, Russia over
            # Moscow, Idaho, but Santa Rosa, CA over the Philippines' larger Santa Rosa
            bar = cities.get(name.lower(), ("", 0))[1] * (10 if kind == "W" else 1)
            if population > bar:
                cities[name.lower()] = (where, population)
    return cities, states


# What people call a few big cities; a city parameter gets the name ("weather in LA").
_NICKNAMES = {
    "la": "Los Angeles", "l.a.": "Los Angeles", "nyc": "New York", "sf": "San Francisco",
    "chi-town": "Chicago", "chitown": "Chicago", "philly": "Philadelphia", "vegas": "Las Vegas",
    "nola": "New Orleans", "the big apple": "New York", "big apple": "New York",
}  # fmt: skip
_CITY_WORDS = frozenset(("city", "location", "where", "town", "destination", "place"))


def full_name(p: ParamDoc, value: str) -> str:
    """A city's nickname as its name ("LA" -> "Los Angeles") for a parameter that asks for a
    city or a location; any other value unchanged."""
    name = _NICKNAMES.get(value.lower())
    if name is None or p.type != "string":
        return value
    words = set(re.findall(r"[a-z]+", p.name.lower()))
    city = bool(words & _CITY_WORDS) or "city" in p.description.lower()
    return name if city or asks_city_state(p) else value


_SHAPED = re.compile(r"\b((?:[A-Z][a-z]+\s+){0,2}[A-Z][a-z]+),\s*([A-Z]{2})\b")


def city_state_said(text: str, free: Callable[[int, int], bool]) -> tuple[str, int, int] | None:
    """The first free "City, ST" the request says with a real state code ("Mariposa, CA")."""
    _, states = _table()
    for m in _SHAPED.finditer(text):
        if states.get(m.group(2).lower()) == m.group(2) and free(m.start(), m.end()):
            return f"{m.group(1)}, {m.group(2)}", m.start(), m.end()
    return None


def asks_city_state(p: ParamDoc) -> bool:
    return p.type == "string" and bool(_ASKS.search(p.description))


def with_state(p: ParamDoc, value: str, text: str) -> str:
    """``value`` as "City, ST" when ``p`` asks for that and ``value`` is a known city (or is
    followed in the request ``text`` by a state's name, or its code in capitals); otherwise
    ``value`` unchanged."""
    value = full_name(p, value)
    if not asks_city_state(p):
        return value
    if "," in value:
        return _country_as_code(p, value)
    if not value[:1].isupper():
        return value
    if value.lower() == "new york city":
        value = "New York"  # the city's name in "City, State"
    cities, states = _table()
    said = re.search(re.escape(value) + r",?\s+([A-Za-z]+(?:\s+[A-Za-z]+)?)", text, re.I)
    if said:
        words = said.group(1).split()
        for n in (2, 1):  # "New Mexico" before "New"
            name = " ".join(words[:n])
            state = states.get(name.lower()) if len(words) >= n else None
            if state and (len(name) > 2 or name.isupper()):  # "in" is not Indiana
                return f"{value}, {state}"
    place = cities.get(value.lower())
    return _country_as_code(p, f"{value}, {place[0]}") if place else value


@cache
def _country_codes() -> dict[str, str]:
    """Country name, lower case -> its ISO 3166 two-letter code (and what people call the UK)."""
    codes = {name.lower(): code for kind, code, name, _ in _rows() if kind == "N"}
    for name in ("uk", "england", "scotland", "wales", "britain", "great britain"):
        codes[name] = "GB"
    return codes


_EXAMPLE = re.compile(r"['\"][A-Z][\w .'-]*, ([A-Z]{2})['\"]")


def _country_as_code(p: ParamDoc, value: str) -> str:
    """ "Paris, France" as "Paris, FR" when ``p``'s description writes a place abroad that way
    (an example "City, XX" whose XX is a country's code and no state's)."""
    _, states = _table()
    codes = _country_codes()
    shown = {m.group(1) for m in _EXAMPLE.finditer(p.description)}
    if not any(c in codes.values() and c.lower() not in states for c in shown):
        return value
    city, _, country = value.rpartition(",")
    code = codes.get(country.strip().lower())
    return f"{city}, {code}" if city and code else value


_ASKS_CODE = re.compile(r"\bcode\b|\biso\b|alpha-?2|two.letter|2.letter|'[A-Z]{2}'", re.I)


def country_of_city(params: Sequence[ParamDoc], values: dict[str, Any]) -> None:
    """A country parameter that asks for an ISO code gets one: "UK" -> "GB", and, when it is
    required and left empty, the country of the city said ("London" -> "GB", "Boise" ->
    "US"). Changes ``values`` in place."""
    country = next(
        (
            p
            for p in params
            if p.type == "string" and not p.enum and split_name(p.name) == "country"
        ),
        None,
    )
    if country is None or not _ASKS_CODE.search(country.description):
        return
    codes = _country_codes()
    said = values.get(country.name)
    if isinstance(said, str):
        values[country.name] = codes.get(said.strip().lower(), said)
        return
    city = next(
        (p for p in params if p.type == "string" and "city" in split_name(p.name).split()), None
    )
    if not country.required or city is None or not isinstance(values.get(city.name), str):
        return
    cities, states = _table()
    name = str(values[city.name]).split(",")[0].strip().lower()
    place = cities.get(name)
    if place is not None:
        where = place[0]
        values[country.name] = "US" if where.lower() in states else codes.get(where.lower(), where)


# the kinds of area a parameter may name ("district_name", "sub_district", "county")
_AREA_KINDS = ("subdistrict", "district", "province", "county", "borough", "prefecture",
               "municipality", "neighborhood", "neighbourhood", "parish", "ward")  # fmt: skip
_AREA_NAME = r"(?<![\w'])((?:[A-Z][\w'-]*\s+){0,3}[A-Z][\w'-]*)"


def area_kind(p: ParamDoc) -> str:
    """The kind of area a string parameter names ("district" for ``district_name``,
    "subdistrict" for ``sub_district_name``), or ""."""
    if p.type != "string" or p.enum:
        return ""
    words = split_name(p.name).replace("sub district", "subdistrict").split()
    return next((k for k in _AREA_KINDS if k in words), "")


def area_said(
    p: ParamDoc, text: str, free: Callable[[int, int], bool]
) -> tuple[str, int, int] | None:
    """The area of the parameter's kind that the request names: "Hang Dong District" or "the
    district of Sukhumvit" for a district, "Sai Kong Subdistrict" for a sub-district (not
    for a district). The kind word stays when the description's examples carry it
    ("'Chatuchak District'")."""
    kind = area_kind(p)
    if not kind:
        return None
    word = r"sub-?\s?district" if kind == "subdistrict" else rf"(?<![\w-]){kind}"
    named = re.compile(_AREA_NAME + rf"\s+(?i:{word})\b")
    of = re.compile(rf"\b(?i:{word})\s+of\s+" + _AREA_NAME)
    keep = any(  # an example with the kind word: "'Chatuchak District'", not "The district"
        m.group(1) not in ("The", "A", "An", "Each", "This", "That", "Any")
        for m in re.finditer(rf"([A-Z][\w'-]*)\s+(?i:{word})\b", p.description)
    )
    for pattern in (named, of):
        for m in pattern.finditer(text):
            name = re.sub(r"^(?:The|In|At)\s+", "", m.group(1))
            if not free(m.start(), m.end()) or name in ("The", "In", "At"):
                continue
            value = m.group(0) if keep and pattern is named else name
            return value, m.start(), m.end()
    return None
