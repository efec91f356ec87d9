"""Languages said in a request, written as the parameter asks: "in Spanish" -> ``es-ES`` for an
enum of locale tags, "to French" -> ``fr`` for a language code.

The table (languages.tsv) lists the ISO 639-1 languages spoken by five million people or more
with their English names, from Unicode CLDR / IANA data (``bench/make_languages.py``). Of two
language parameters, the target ("to", "into") takes the language said after "to", "into" or
"in", and the source the one after "from" or the first one said.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources

from cairn.command.operations import ParamDoc, split_name

Found = dict[str, tuple[str, int, int]]
_TARGET = frozenset(("target", "tgt", "to", "dest", "destination", "output", "into"))
_SOURCE = frozenset(("source", "src", "from", "input", "original"))


@cache
def _names() -> dict[str, str]:
    """English name (lower case) -> two-letter code."""
    text = resources.files("cairn.command").joinpath("languages.tsv").read_text("utf-8")
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        code, names = line.split("\t")
        for name in names.split("|"):
            out[name.lower()] = code
    return out


@cache
def _said() -> re.Pattern[str]:
    names = sorted(_names(), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b", re.IGNORECASE)


def asks_language(p: ParamDoc) -> bool:
    """A string parameter named for a language (``language``, ``tgt_lang``)."""
    words = split_name(p.name).split()
    return p.type == "string" and any(w in ("language", "lang", "languages") for w in words)


def _written(p: ParamDoc, code: str, name: str) -> str | None:
    """``code`` as the parameter takes it: the enum value of that language ("es-ES", "es",
    "Spanish"), a code when the description asks for one ('EN' upper case when it shows it
    so), else None (a free language parameter keeps what other readers find)."""
    if p.enum:
        for v in p.enum:
            said = str(v).lower()
            if said in (code, name.lower()) or said.startswith(code + "-"):
                return str(v)
        return None
    desc = p.description
    if not re.search(r"\bcode\b|iso.?639|bcp.?47|'[a-z]{2}(?:-[a-z]{2})?'", desc, re.IGNORECASE):
        return None
    return code.upper() if re.search(r"'[A-Z]{2}'", desc) else code


def language_values(
    params: Sequence[ParamDoc], text: str, free: Callable[[int, int], bool]
) -> Found:
    """The languages the request names, for the language parameters not yet filled."""
    asked = [p for p in params if asks_language(p)]
    if not asked:
        return {}
    said = [m for m in _said().finditer(text) if free(m.start(), m.end())]
    if not said:
        return {}
    after_to = [m for m in said if re.search(r"\b(?:to|into|in)\s+$", text[: m.start()], re.I)]
    after_from = [m for m in said if re.search(r"\bfrom\s+$", text[: m.start()], re.I)]
    out: Found = {}
    taken: set[int] = set()
    for p in sorted(asked, key=lambda q: not _role(q, _TARGET)):  # the target chooses first
        if _role(p, _TARGET) or not _role(p, _SOURCE):
            pool = after_to or said
        else:
            pool = after_from or said
        m = next((m for m in pool if m.start() not in taken), None)
        if m is None:
            continue
        value = _written(p, _names()[m.group(1).lower()], m.group(1))
        if value is not None:
            out[p.name] = (value, m.start(), m.end())
            taken.add(m.start())
    return out


def _role(p: ParamDoc, words: frozenset[str]) -> bool:
    return bool(set(split_name(p.name).split()) & words)
