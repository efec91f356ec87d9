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

:func:`fill` is here; the fillers of each kind are beside it: ``slot_request`` (the prepared
request, :class:`Filled`, shared word lists), ``slot_enums``, ``slot_dates``,
``slot_numbers``, ``slot_strings`` and ``slot_lists``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any

from cairn.command import places, values
from cairn.command.currencies import currency_values
from cairn.command.languages import language_values
from cairn.command.operations import OperationDoc, ParamDoc, split_name
from cairn.command.slot_dates import _fill_dates, _is_time_param, _time_said
from cairn.command.slot_dates import is_date_param as is_date_param
from cairn.command.slot_enums import (
    _fill_enum,
    _is_yes_enum,
    _phrase_said,
    _yes_enum,
    enum_list_said,
)
from cairn.command.slot_lists import _fill_list, counted_items
from cairn.command.slot_numbers import _fill_numbers
from cairn.command.slot_request import _STOP as _STOP
from cairn.command.slot_request import Filled as Filled
from cairn.command.slot_request import _Request
from cairn.command.slot_request import _stem as _stem
from cairn.command.slot_request import _word_set as _word_set
from cairn.command.slot_request import prepare as prepare
from cairn.command.slot_strings import (
    _ADDRESS,
    _asks_address,
    _fill_string,
    _is_acting,
    _is_person,
    _person_as_role,
    _person_for_role,
    _self_named,
)
from cairn.command.typos import mend_typos


def fill(op: OperationDoc, text: str, today: date | None = None) -> Filled:
    """The values ``text`` gives ``op``'s parameters (typed as the schema says)."""
    text = mend_typos(text, (w for p in op.params for w in split_name(p.name).split()))
    req = prepare(text, today)
    out = Filled()
    fields = [f for p in op.params for f in p.fields]
    for p in [*op.params, *fields]:  # "'name':'John Doe'": a parameter given by its own name
        said = _assigned(p, req.text)
        if said is not None and req.free(said[1], said[2]):
            req.used.append((said[1], said[2]))
            if p in op.params:  # a field's is its object's, read by the object's own fill
                out.values[p.name], out.evidence[p.name] = said[0], req.text[said[1] : said[2]]
                out.typed.add(p.name)
    for p in op.params:  # enums first: their words are the most specific
        if p.enum or p.aliases:  # aliases alone: the codes of an integer ("2 for ironing")
            others = frozenset(
                _stem(w) for q in op.params if q is not p for w in split_name(q.name).split()
            )
            if not p.enum:
                p = replace(p, enum=tuple(dict.fromkeys(v for _, v in p.aliases)))
            got = _yes_enum(p, req) if _is_yes_enum(p) else _fill_enum(p, req, others)
            if got is not None:
                out.values[p.name], out.evidence[p.name] = got
                out.typed.add(p.name)
    for p in op.params:  # "points and rebounds" for a list of metrics
        if p.type == "array" and p.item_enum and p.name not in out.values:
            listed = enum_list_said(p, req)
            if listed is not None:
                out.values[p.name], out.evidence[p.name] = listed
                out.typed.add(p.name)
    for name, (counted, count_said) in counted_items(  # "two Big Macs and one McFlurry"
        [p for p in op.params if p.name not in out.values], req
    ).items():
        out.values[name], out.evidence[name] = counted, count_said
    for name, (value, start, end) in language_values(  # "in Spanish" -> "es-ES"
        [p for p in op.params if p.name not in out.values], req.text, req.free
    ).items():
        req.used.append((start, end))
        out.values[name], out.evidence[name] = value, req.text[start:end]
        out.typed.add(name)
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
    _put_found(currency_values([p for p in op.params if p.name not in out.values], req.text,
                               req.free), req, out)  # fmt: skip
    strings = [p for p in op.params if p.type == "string" and not p.enum and not is_date_param(p)]
    strings = [p for p in strings if p.name not in out.values]
    for p in strings:  # "2150 Shattuck Ave, Berkeley, CA" to a pick-up location or address
        if _asks_address(p):
            m = next((m for m in _ADDRESS.finditer(req.text) if req.free(m.start(), m.end())), None)
            if m is not None:
                req.used.append((m.start(), m.end()))
                out.values[p.name], out.evidence[p.name] = m.group(0).rstrip(" ,."), m.group(0)
    for p in strings:  # "Hang Dong District" to a district, "the district of Sukhumvit"
        area = None if p.name in out.values else places.area_said(p, req.text, req.free)
        if area is not None:
            req.used.append((area[1], area[2]))
            out.values[p.name], out.evidence[p.name] = area[0], area[0]
    for p in strings:  # "Hi, I am Karan" to a passenger's name
        said = None if p.name in out.values else _self_named(p, req)
        if said is not None:
            req.used.append((said[1], said[2]))
            out.values[p.name], out.evidence[p.name] = said[0], said[0]
        elif places.asks_city_state(p) and p.name not in out.values:
            shaped = places.city_state_said(req.text, req.free)  # "at Mariposa, CA"
            if shaped is not None:
                req.used.append((shaped[1], shaped[2]))
                out.values[p.name], out.evidence[p.name] = shaped[0], shaped[0]
    strings = [p for p in strings if p.name not in out.values]
    topic = frozenset(_stem(w) for w in split_name(op.name.rsplit(".", 1)[-1]).split()) - _STOP
    op_words = frozenset(_stem(w) for w in split_name(op.name.replace(".", " ")).split()) - _STOP
    chosen = frozenset(str(out.values[n]).lower() for n in out.typed if n in out.values)
    _put_found(values.string_values(strings, req.text, req.free, topic, chosen), req, out)
    for p in op.params:
        if p.name in out.values or p.enum:
            continue
        if p.type == "string" and not is_date_param(p):
            phrase = _fill_string(p, req, cued_only=not p.required, topic=topic, op_words=op_words)
            if phrase is not None:
                req.used.append((phrase[1], phrase[2]))
                out.values[p.name], out.evidence[p.name] = phrase[0], phrase[0]
        elif p.type == "boolean":
            heard = _phrase_said(p, req)  # "non-smoking" says False
            if heard is not None or p.required:
                out.values[p.name] = bool(heard)
                out.evidence[p.name] = (
                    "(not stated)" if heard is None else "(stated)" if heard else "(negated)"
                )
    people = [p for p in op.params if p.type == "string" and not p.enum and _is_person(p)]
    any_role = not any(_is_acting(p) for p in people)  # no cast: "with X" is any person

    def after_cue(p: ParamDoc, req: _Request) -> tuple[str, int, int] | None:
        return _person_for_role(p, req, acting=_is_acting(p), any_role=any_role)

    for find in (_person_as_role, after_cue):  # "Jim Henson as the director" first
        for p in people:  # an optional person: "with Lupita Nyong'o", "by Ed Sheeran"
            person = None if p.name in out.values else find(p, req)
            if person is not None:
                req.used.append((person[1], person[2]))
                out.values[p.name], out.evidence[p.name] = person[0], person[0]
    places.split_places(op.params, out.values)  # "Tokyo, Japan": a city and a country
    places.state_of_city(op.params, out.values)  # "San Francisco" gives its state
    places.country_of_city(op.params, out.values)  # "UK" -> "GB"; "London" gives GB
    for p in op.params:  # "Long Beach" for a "City, State" parameter: "Long Beach, CA"
        if isinstance(out.values.get(p.name), str):
            out.values[p.name] = places.with_state(p, out.values[p.name], req.text)
    for p in op.params:  # a URL parameter takes a URL or nothing ("eth1" is no endpoint)
        said = out.values.get(p.name)
        if isinstance(said, str) and _asks_url(p) and not _LOOKS_LIKE_URL.match(said):
            del out.values[p.name]
            out.evidence.pop(p.name, None)
    for p in op.params:  # an object: its own properties, read from the same request
        if p.fields and p.name not in out.values:
            inner = fill(OperationDoc(tool="", name=p.name, params=p.fields), text, today)
            if inner.values:
                out.values[p.name], out.evidence[p.name] = dict(inner.values), "(its fields)"
    out.missing = [p.name for p in op.params if p.required and p.name not in out.values]
    return out


def _assigned(p: ParamDoc, text: str) -> tuple[Any, int, int] | None:
    """ "'name': 'John Doe'", "priority=high": the parameter's own name, a colon or an equals
    sign, and a value, typed as the schema says."""
    if p.type not in ("string", "integer", "number", "boolean") or len(p.name) < 2:
        return None
    m = re.search(
        rf"(?<![\w.])['\"]?{re.escape(p.name)}['\"]?\s*[:=]\s*"
        r"(?:'([^'\n]{1,200})'|\"([^\"\n]{1,200})\"|([\w.@/+-]{1,100}))",
        text,
    )
    if m is None:
        return None
    raw = next(g for g in m.groups() if g is not None)
    value: Any = raw
    if p.type in ("integer", "number"):
        try:
            value = int(raw) if p.type == "integer" else float(raw)
        except ValueError:
            return None
    elif p.type == "boolean":
        if raw.lower() not in ("true", "false", "yes", "no"):
            return None
        value = raw.lower() in ("true", "yes")
    return value, m.start(), m.end()


_LOOKS_LIKE_URL = re.compile(r"(?:https?|ftp|wss?)://|www\.|/|[\w-]+(?:\.[\w-]+)+(?:[/:?]|$)")


def _asks_url(p: ParamDoc) -> bool:
    """A string parameter for a web address: named url / uri / endpoint, or of format uri."""
    words = set(split_name(p.name).split())
    return p.type == "string" and (bool(words & {"url", "uri", "endpoint"}) or "uri" in p.format)


def _put_found(found: values.Found, req: _Request, out: Filled) -> None:
    for name, (value, start, end) in found.items():
        req.used.append((start, end))
        out.values[name], out.evidence[name] = value, req.text[start:end]
