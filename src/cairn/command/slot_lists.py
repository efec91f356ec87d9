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
