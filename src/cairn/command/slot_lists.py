"""List slots: a bracketed list, the numbers left, quoted phrases or "x, y and z"."""

from __future__ import annotations

import json
import re
from typing import Any

from cairn.command import values
from cairn.command.operations import ParamDoc
from cairn.command.slot_request import _BOUNDARY, _STOP, _Request

_LIST = re.compile(r"\[[^\[\]]*\]")


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
        named = _after_singular_name(p, req)
        if named is not None:
            return named
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


def _after_singular_name(p: ParamDoc, req: _Request) -> tuple[list[Any], str] | None:
    """ "size 40" or "in size L" for a ``sizes`` list: the list's name said in the singular,
    then a short code (a number or a capitalised word), is a list of that one item."""
    name = p.name.lower()
    if not name.endswith("s") or len(name) < 4 or not name.isalpha():
        return None
    cue = rf"\b{re.escape(name[:-1])}\s+(?:of\s+|is\s+|=\s*)?([A-Z0-9][\w.-]*)"
    for m in re.finditer(cue, req.text, re.IGNORECASE):
        token = m.group(1).rstrip(".")
        code = token[:1].isdigit() or token[:1].isupper()
        if code and token.lower() not in _STOP and req.free(m.start(1), m.end(1)):
            req.used.append((m.start(1), m.start(1) + len(token)))
            return [token], m.group(0)
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


_ITEM_WORDS = frozenset(("item", "items", "product", "products", "dish", "dishes", "food", "foods",
                         "goods", "article", "articles", "list"))  # fmt: skip
_COUNT_WORDS = frozenset(("quantity", "quantities", "count", "counts", "qty", "amounts",
                          "number", "numbers"))  # fmt: skip
# "five burgers", "a pizza", "three bottles of olive oil", "'chicken wings'"
_COUNTED = re.compile(
    r"(?<![\w.])(?P<n>\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:(?:bottles?|bags?|boxes?|cans?|cups?|packs?|jars?|pieces?|"
    r"orders?|servings?|\d+\s+\w+\s+bags?)\s+of\s+)?['\"]?(?P<what>[A-Za-z][\w'-]*"
    r"(?:\s+(?!and\b|or\b|from\b|at\b|for\b|in\b|on\b|with\b|to\b)[A-Za-z][\w'-]*){0,3})['\"]?",
    re.IGNORECASE,
)


_SMALL = {w: i + 1 for i, w in enumerate(
    ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"))}  # fmt: skip
# what "a"/"an" counts in a request that is not a thing ordered ("an order for me")
_NOT_ITEMS = frozenset(("order", "list", "table", "reservation", "request", "way", "lot",
                        "bit", "few", "new", "good", "great", "nice", "total", "look", "minute",
                        "moment", "second", "question", "time", "day", "week"))  # fmt: skip


def counted_items(params: list[ParamDoc], req: _Request) -> dict[str, tuple[list[Any], str]]:
    """ "two Big Macs and one McFlurry" for a list of items beside a list of quantities:
    ``["Big Macs", "McFlurry"]`` and ``[2, 1]``, each count with the thing it counts."""
    items = next((p for p in params if p.type == "array" and p.items == "string"
                  and set(p.words.split()) & _ITEM_WORDS), None)  # fmt: skip
    counts = next((p for p in params if p.type == "array" and p.items in ("integer", "number")
                   and set(p.words.split()) & _COUNT_WORDS), None)  # fmt: skip
    if items is None or counts is None:
        return {}
    found: list[tuple[str, int, int, int]] = []
    for m in _COUNTED.finditer(req.text):
        what = m.group("what").strip("'\" ")
        first = what.lower().split()[0]
        if not req.free(m.start(), m.end()) or first in _STOP or first in _NOT_ITEMS:
            continue
        said = m.group("n").lower()
        n = int(said) if said.isdigit() else _SMALL.get(said, 1)
        found.append((what, n, m.start(), m.end()))
    if not found:
        return {}
    for _, _, start, end in found:
        req.used.append((start, end))
    evidence = ", ".join(f"{n} {what}" for what, n, _, _ in found)
    return {
        items.name: ([f[0] for f in found], evidence),
        counts.name: ([float(f[1]) if counts.items == "number" else f[1] for f in found], evidence),
    }
