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
from functools import cache
from importlib import resources

from cairn.command.operations import ParamDoc

# the description asks for "City, State" or shows one ("such as 'Berkeley, CA'")
_ASKS = re.compile(
    r"(?i:city,\s*state\b|city and state\b)"
    r"|(?:['\"]|e\.g\.,?\s+|such as\s+)[A-Z][A-Za-z .'-]+,\s*[A-Z]{2}\b"
)


@cache
def _table() -> tuple[dict[str, tuple[str, int]], dict[str, str]]:
    """(city name lower -> ("ST" or "Country", population), state name or code lower ->
    state code)."""
    cities: dict[str, tuple[str, int]] = {}
    states: dict[str, str] = {}
    text = resources.files("cairn.command").joinpath("places.tsv").read_text("utf-8")
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        kind, where, name, population = line.split("\t")
        if kind == "S":
            states[name.lower()] = where
            states[where.lower()] = where
        else:
            # abroad only when ten times bigger than the US namesake: Moscow, Russia over
            # Moscow, Idaho, but Santa Rosa, CA over the Philippines' larger Santa Rosa
            bar = cities.get(name.lower(), ("", 0))[1] * (10 if kind == "W" else 1)
            if int(population) > bar:
                cities[name.lower()] = (where, int(population))
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


def asks_city_state(p: ParamDoc) -> bool:
    return p.type == "string" and bool(_ASKS.search(p.description))


def with_state(p: ParamDoc, value: str, text: str) -> str:
    """``value`` as "City, ST" when ``p`` asks for that and ``value`` is a known city (or is
    followed in the request ``text`` by a state's name, or its code in capitals); otherwise
    ``value`` unchanged."""
    value = full_name(p, value)
    if not asks_city_state(p) or "," in value or not value[:1].isupper():
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
    return f"{value}, {place[0]}" if place else value
