"""Number slots: which number in a request goes to which number parameter.

The number nearest a parameter's own words goes first (nudged by its unit: "$", "%", "6
hours"), then required parameters take the numbers left in order; numbered families
(``side1``, ``side2``...) take their numbers in the order the request says them.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from cairn.command import values
from cairn.command.operations import OperationDoc, ParamDoc
from cairn.command.slot_request import Filled, _Request, _root, _stem, _word_set


def _cue_words(p: ParamDoc) -> set[str]:
    words = _word_set(p.words)
    head = re.split(r"[.,;(]", p.description, maxsplit=1)[0]
    return words | set(list(_word_set(head))[:6])


_BOUND_WORDS = frozenset((
    "of", "at", "least", "most", "more", "less", "than", "up", "to", "above", "below", "over",
    "under", "about", "around", "approximately", "roughly", "is", "be", "minimum", "maximum",
))  # fmt: skip


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
    before = [  # "a rating of at least 4.2": the words of a bound are no distance
        w
        for w in re.findall(r"[a-z0-9]+", before_text)
        if w not in _BOUND_WORDS or _stem(w) in cues or _root(w) in cues
    ][-5:]
    # "3 bedrooms, 2 bathrooms": a cue behind a comma belongs to the number before it
    clause = len(re.findall(r"[a-z0-9]+", re.split(r"[,;]", before_text)[-1]))
    after = re.findall(r"[a-z]+|\d+", req.low[n[1] : n[1] + 30])[:3]
    after = after[: next((i for i, w in enumerate(after) if w.isdigit()), 3)]  # not the next's
    best: float | None = None
    back = list(reversed(before))
    for dist, w in enumerate(back):
        own = _stem(w) in cues or _root(w) in cues
        if own or _stem(w) in desc:
            best = float(dist) + (not own) + (dist >= clause)
            ahead = back[dist + 1] if dist + 1 < len(back) else ""
            if own and len(cues) > 1 and (_stem(ahead) in cues or _root(ahead) in cues):
                best -= 0.5  # "final value of $3000": two of final_value's words, not one
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
    raw = req.text[n[0] : n[1]]
    as_percent = re.search(r"\b(?:as an?|in)\s+percent(?:age)?\b", p.description, re.I)
    if ("%" in raw or "percent" in raw) and as_percent and "decimal" not in p.description.lower():
        return float(f"{value * 100:.12g}")  # "5%" for "the rate as a percentage": 5.0
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
    for p in params:  # "just for myself" is one adult, "me and my wife" two
        counts_people = _word_set(p.name.replace("_", " ")) & {_stem(w) for w in _PEOPLE}
        if p.name not in out.values and counts_people and p.type == "integer":
            size = _party_said(req)
            if size is not None:
                out.values[p.name], out.evidence[p.name] = size[0], size[1]
    _order_families(op, placed, req, out)


_ALONE = re.compile(r"\b(?:(?:just\s+)?for\s+myself|by\s+myself|just\s+me|only\s+me|alone|solo)\b")
_COUPLE = re.compile(
    r"\b(?:me|myself|i)\s+and\s+my\s+(?:wife|husband|partner|girlfriend|boyfriend|friend|"
    r"mom|mother|dad|father|son|daughter|brother|sister)\b"
)


def _party_said(req: _Request) -> tuple[int, str] | None:
    """How many people the request speaks for without a number: one ("just for myself"),
    two ("me and my wife")."""
    if m := _COUPLE.search(req.low):
        return 2, m.group(0)
    if m := _ALONE.search(req.low):
        return 1, m.group(0)
    return None


# words that count people: "4 ppl" is a number of adults, guests or passengers
_PEOPLE = frozenset((
    "people", "person", "persons", "ppl", "adult", "adults", "guest", "guests", "passenger",
    "passengers", "traveler", "travelers", "traveller", "travellers", "pax",
))  # fmt: skip


# what one person takes: "for 4 people" is a number of seats or tickets
_PER_PERSON = frozenset(("seat", "seats", "ticket", "tickets", "spot", "spots", "cover", "covers"))


_GROUP_OF = re.compile(r"\b(?:family|party|group)\s+of\s+$")


def _names_after(p: ParamDoc, req: _Request, n: tuple[int, int, float | int]) -> bool:
    """The word right after number ``n`` is one of ``p``'s name words ("2 nights"), or both
    count people ("4 ppl" for ``number_of_adults``, "4 people" for ``number_of_seats``, "a
    family of 4" for ``num_passengers``)."""
    own = _word_set(p.name.replace("_", " "))
    counts_people = bool(own & {_stem(w) for w in _PEOPLE | _PER_PERSON})
    if counts_people and _GROUP_OF.search(req.low[: n[0]]):
        return True  # "my family of 4" for number_of_passengers
    nxt = re.match(r"\s+([a-z]+)", req.low[n[1] :])
    if nxt is None:
        return False
    if nxt.group(1) in _PEOPLE and counts_people:
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
