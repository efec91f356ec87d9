"""Explicit filters taken out of a request before the rules read it: a collection, absolute
dates and licences (:func:`extract_filters` -> :class:`Filters` and the rest of the text)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cairn.command.text_normalise import _words

# -- filters -------------------------------------------------------------------------------


@dataclass
class Filters:
    collection: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    licenses: list[str] = field(default_factory=list)

    def as_slots(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.collection:
            out["collection"] = self.collection
        if self.date_from:
            out["date_from"] = self.date_from
        if self.date_to:
            out["date_to"] = self.date_to
        if self.licenses:
            out["licenses"] = list(self.licenses)
        return out


_STOP = r"(?:my|the|our|in|from|of|about|on|for|and|with|under|to|a|an|all|everything)"
_NAME = rf"(?!{_STOP}\b)[\w][\w.\-]*"
_COLLECTION_RES = (
    re.compile(
        rf"\b(?:(?:in|from|within|inside|across|of|on|using|through|into)\s+)?"
        rf"(?:my|the|our)\s+(?P<c>{_NAME}(?:\s+{_NAME}){{0,3}}?)\s+collection\b"
    ),
    re.compile(
        rf"\b(?:in|from|within|inside)\s+(?:the\s+)?collection\s+(?:called\s+|named\s+)?"
        rf"(?P<c>{_NAME})"
    ),
)

_YEAR = r"(?:1[0-9]{3}|20[0-9]{2})"
_MONTH_NAMES = tuple(
    _words("january february march april may june july august september october november december")
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        _MONTH_NAMES,
        start=1,
    )
}
_MONTH = r"(?:" + "|".join(_MONTHS) + r")"


def _date(name: str) -> str:
    return rf"(?:(?P<{name}m>{_MONTH})\s+)?(?P<{name}y>{_YEAR})"


_DATE_RES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            rf"\b(?:published\s+|written\s+|dated\s+)?between\s+{_date('a')}\s+and\s+{_date('b')}\b"
        ),
        "range",
    ),
    (
        re.compile(
            rf"\b(?:published\s+|written\s+|dated\s+)?from\s+{_date('a')}\s+"
            rf"(?:to|until|till|through|and)\s+{_date('b')}\b"
        ),
        "range",
    ),
    (re.compile(r"\bin\s+the\s+(?P<dec>1[0-9]{2}0|20[0-9]0)s\b"), "decade"),
    (
        re.compile(
            rf"\b(?:published\s+|written\s+|dated\s+)?(?:since|from)\s+{_date('a')}\s+"
            rf"(?:onwards?|on)\b"
        ),
        "from",
    ),
    (re.compile(rf"\b(?:published\s+|written\s+|dated\s+)?since\s+{_date('a')}\b"), "from"),
    (re.compile(rf"\b(?:published\s+|written\s+|dated\s+)?after\s+{_date('a')}\b"), "after"),
    (re.compile(rf"\b(?:published\s+|written\s+|dated\s+)?before\s+{_date('b')}\b"), "before"),
    (
        re.compile(
            rf"\b(?:published\s+|written\s+|dated\s+)?(?:until|till|up\s+to|through)\s+{_date('b')}\b"
        ),
        "to",
    ),
    (
        re.compile(rf"\b(?:published\s+|written\s+|dated\s+)?(?:in|during|from)\s+{_date('a')}\b"),
        "in",
    ),
)

_CC = r"cc[\s-]?by(?P<mods>(?:[\s-](?:nc|sa|nd)){0,2})(?:[\s-](?P<ccv>[1-4](?:\.[05])?))?"
_LICENCE = (
    rf"(?:{_CC}|creative\s+commons(?:\s+attribution)?(?P<cmods>(?:\s+(?:non\s*commercial|"
    r"share\s*alike|no\s*derivatives?))*)|cc[\s-]?0|cc[\s-]?zero|public\s+domain|mit|"
    r"apache(?:[\s-]v?(?P<apv>[12](?:\.[01])?))?|l?gpl(?:[\s-]?v?(?P<gpv>[23])(?:\.0)?)?|bsd|mpl|odbl)"
)
_LICENCE_NOUN = (
    r"(?:sources|documents|docs|papers|files|material|content|ones|stuff|articles|texts|data)"
)
_LICENCE_RES = (
    # "only CC-BY sources", "CC-BY only": the filter words go, the rest of the sentence stays
    re.compile(
        rf"\b(?:only|just)\s+(?:an?\s+|the\s+)?(?P<lic>{_LICENCE})(?:[\s-]licen[sc]ed)?"
        rf"\s+(?:licen[sc]ed\s+)?{_LICENCE_NOUN}\b"
    ),
    re.compile(rf"\b(?P<lic>{_LICENCE})(?:[\s-]licen[sc]ed)?\s+(?:sources\s+)?only\b"),
    # "under the MIT licence", "licensed under CC BY 4.0"
    re.compile(
        rf"\b(?:only\s+)?(?:licen[sc]ed\s+)?(?:under|with)\s+(?:an?\s+|the\s+)?(?P<lic>{_LICENCE})"
        r"(?:\s+licen[sc]es?)?\b"
    ),
    re.compile(rf"\b(?:only|just)\s+(?P<lic>{_LICENCE})\b"),
    # "the CC-BY-NC sources", "MIT-licensed code": the noun stays
    re.compile(
        rf"\b(?P<lic>{_LICENCE})(?:[\s-]licen[sc]ed)?(?=\s+(?:licen[sc]ed\s+)?{_LICENCE_NOUN}\b)"
    ),
)
_CC_VERSIONS = ("1.0", "2.0", "2.5", "3.0", "4.0")


def licence_ids(match: re.Match[str]) -> list[str]:
    """SPDX ids for a licence phrase; an unversioned family means all its versions."""
    lic = match.group("lic")
    if (lic.startswith("cc") and "by" in lic) or lic.startswith("creative"):
        mods_text = (match.group("mods") or match.group("cmods") or "").lower()
        mods = []
        if re.search(r"nc|non\s*commercial", mods_text):
            mods.append("NC")
        if re.search(r"sa|share\s*alike", mods_text):
            mods.append("SA")
        if re.search(r"nd|no\s*deriv", mods_text):
            mods.append("ND")
        base = "-".join(["CC-BY", *mods])
        version = match.group("ccv")
        if version:
            return [f"{base}-{version if '.' in version else version + '.0'}"]
        return [f"{base}-{v}" for v in _CC_VERSIONS]
    if re.match(r"cc[\s-]?(0|zero)|public", lic):
        return ["CC0-1.0"]
    if lic == "mit":
        return ["MIT"]
    if lic.startswith("apache"):
        v = match.group("apv")
        if v:
            return [f"Apache-{v if '.' in v else v + '.0'}"]
        return ["Apache-1.0", "Apache-1.1", "Apache-2.0"]
    if "gpl" in lic:
        prefix = "LGPL" if lic.startswith("l") else "GPL"
        v = match.group("gpv")
        versions = [v] if v else (["2", "3"] if prefix == "GPL" else ["2.1", "3"])
        return [
            f"{prefix}-{x if '.' in x else x + '.0'}-{s}"
            for x in versions
            for s in ("only", "or-later")
        ]
    if lic == "bsd":
        return ["BSD-2-Clause", "BSD-3-Clause"]
    if lic == "mpl":
        return ["MPL-2.0"]
    return ["ODbL-1.0"]


def _iso(m: re.Match[str], name: str, *, end: bool = False, shift: int = 0) -> str:
    year = int(m.group(f"{name}y")) + shift
    month = m.group(f"{name}m")
    if month and not shift:
        return f"{year:04d}-{_MONTHS[month]:02d}"
    return f"{year:04d}"


def extract_filters(text: str, *, dates: bool = True) -> tuple[Filters, str]:
    """Take collection, date and licence filters out of ``text``; return them and the rest."""
    f = Filters()
    for rx in _COLLECTION_RES:
        m = rx.search(text)
        if m:
            f.collection = m.group("c")
            text = _cut(text, m)
            break
    for rx in _LICENCE_RES:
        m = rx.search(text)
        if m:
            f.licenses = licence_ids(m)
            text = _cut(text, m)
            break
    if dates:
        for rx, kind in _DATE_RES:
            m = rx.search(text)
            if not m:
                continue
            if kind == "range":
                f.date_from, f.date_to = _iso(m, "a"), _iso(m, "b", end=True)
            elif kind == "decade":
                start = int(m.group("dec"))
                f.date_from, f.date_to = str(start), str(start + 9)
            elif kind == "from":
                f.date_from = _iso(m, "a")
            elif kind == "after":
                f.date_from = _iso(m, "a", shift=1) if not m.group("am") else _iso(m, "a")
            elif kind == "before":
                f.date_to = _iso(m, "b", shift=-1) if not m.group("bm") else _iso(m, "b")
            elif kind == "to":
                f.date_to = _iso(m, "b")
            else:
                f.date_from = f.date_to = _iso(m, "a")
            text = _cut(text, m)
            break
    return f, _tidy(text)


def _cut(text: str, m: re.Match[str]) -> str:
    return (text[: m.start()] + " " + text[m.end() :]).strip()


_DANGLING = re.compile(
    r"(?:\s+\b(?:in|from|of|on|under|with|for|within|and|only|published|written|that|are|is)\b)+$"
)


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    previous = None
    while previous != text:
        previous = text
        text = _DANGLING.sub("", text).strip()
        text = re.sub(r"^(?:and|also|only)\s+", "", text)
    return text
