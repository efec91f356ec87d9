"""Requests as people say them: numbers and years in words, and dates or ranges of dates.

* :func:`digits` turns spoken numbers into digits ("two thousand seven" -> 2007, "twenty
  thirteen" -> 2013, "march third" -> march 3rd) with text2num's ``alpha2digit`` (MIT), after
  reading the years people say in pairs ("nineteen ninety nine", "twenty oh five") itself.
* :func:`find_dates` finds the dates and ranges in a request and returns them as inclusive
  :class:`DateSpan` values: "during 2007", "in January 2005", "march 3rd 2013", "from 2003
  through 2006", "the first half of 2009", "the second quarter of 2010", "last March",
  "last year", "yesterday" (relative ones against ``today``).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

Grain = Literal["day", "month", "quarter", "half", "year", "range"]

MONTHS = {
    name.lower(): i
    for i, name in enumerate(calendar.month_name)
    if name  # "" at 0
}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
_MONTH = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"

_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SMALL = {w: i + 1 for i, w in enumerate(_UNITS)}
_SMALL.update({w: i + 10 for i, w in enumerate(_TEENS)})
_TENS_V = {w: 20 + 10 * i for i, w in enumerate(_TENS)}

_TWO_DIGIT = (
    r"(?:(?:" + "|".join(_TENS) + r")(?:[\s-](?:" + "|".join(_UNITS) + r"))?"
    r"|" + "|".join(_TEENS) + r"|(?:oh|o)\s+(?:" + "|".join(_UNITS) + r"))"
)
# "nineteen ninety nine", "twenty thirteen", "twenty oh five", "eighteen hundred"
_SPOKEN_YEAR = re.compile(
    r"\b(?P<hi>eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|"
    r"twenty)\s+(?P<lo>" + _TWO_DIGIT + r"|hundred)\b",
    re.IGNORECASE,
)


def _two_digit(words: str) -> int:
    parts = re.split(r"[\s-]+", words.lower())
    if parts[0] in ("oh", "o"):
        return _SMALL[parts[1]]
    if parts[0] in _TENS_V:
        return _TENS_V[parts[0]] + (_SMALL[parts[1]] if len(parts) > 1 else 0)
    return _SMALL[parts[0]]


def _year_words(m: re.Match[str]) -> str:
    hi = _SMALL.get(m.group("hi").lower()) or _TENS_V[m.group("hi").lower()]
    lo = m.group("lo").lower()
    return str(hi * 100 + (0 if lo == "hundred" else _two_digit(lo)))


@lru_cache(maxsize=1)
def _alpha2digit() -> object:
    try:
        from text_to_num import alpha2digit  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    return alpha2digit


_ORDINAL_UNITS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                  "ninth"]  # fmt: skip
_ORDINALS = {w: i + 1 for i, w in enumerate(_ORDINAL_UNITS)}
_ORDINALS.update({"tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
                  "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
                  "nineteenth": 19, "twentieth": 20, "thirtieth": 30})  # fmt: skip
_ORDINAL = (
    r"(?:(?:twenty|thirty)[\s-](?:" + "|".join(_ORDINAL_UNITS) + r")|"
    + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + r")"
)  # fmt: skip
_MONTH_WORDS = r"(?:" + "|".join(n.lower() for n in calendar.month_name if n) + r")"
# "march first", "june the fifth", "the first of october": a day of a month said as a word
_DAY_WORDS = re.compile(
    r"\b(?P<m>" + _MONTH_WORDS + r")(?P<the>\s+(?:the\s+)?)(?P<o1>" + _ORDINAL + r")\b"
    r"|\b(?P<o2>" + _ORDINAL + r")(?=\s+of\s+" + _MONTH_WORDS + r"\b)",
    re.IGNORECASE,
)


def _ordinal(words: str) -> str:
    parts = re.split(r"[\s-]+", words.lower())
    n = sum(_ORDINALS[p] if p in _ORDINALS else _TENS_V[p] for p in parts)
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10 if n not in (11, 12, 13) else 0, "th")
    return f"{n}{suffix}"


def _day_words(m: re.Match[str]) -> str:
    if m.group("o1"):
        return m.group("m") + m.group("the") + _ordinal(m.group("o1"))
    return _ordinal(m.group("o2"))


_SCALED = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s+(thousand|million|billion|trillion)\b",
    re.I,
)
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}


def _scaled(m: re.Match[str]) -> str:
    value = float(m.group(1).replace(",", "")) * _SCALES[m.group(2).lower()]
    return str(int(value)) if value.is_integer() else str(value)


def digits(text: str) -> str:
    """``text`` with spoken numbers and years as digits; the rest unchanged."""
    out = _SPOKEN_YEAR.sub(_year_words, text)
    # "100 million" as one number (the word reader would write "100 1000000")
    out = _SCALED.sub(_scaled, out)
    convert = _alpha2digit()
    if convert is not None and re.search(r"[a-zA-Z]", out):
        out = convert(out, "en")  # type: ignore[operator]
    return _DAY_WORDS.sub(_day_words, out)


@dataclass(frozen=True)
class DateSpan:
    """An inclusive span of days that a request names, and how precisely it named it."""

    start: date
    end: date
    grain: Grain
    text: str  # the words it was read from
    at: int = 0  # where in the (digit-normalised) request they start

    @property
    def single_day(self) -> bool:
        return self.start == self.end


def _month_span(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _year_of(text: str | None, today: date) -> int | None:
    if not text:
        return None
    y = int(text)
    return y if 1000 <= y <= 2999 else None


_YEAR = r"(?:1[0-9]|2[0-9])\d\d"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_ISO = (  # 2007-03, 2007-03-05, 2023/4/17; with dots only a whole day: 2023.10.2
    r"(?P<iy>"
    + _YEAR
    + r")(?:[-/](?P<im>0?[1-9]|1[0-2])(?!\d)(?:[-/](?P<id>0?[1-9]|[12]\d|3[01])(?!\d))?"
    r"|\.(?P<im2>0?[1-9]|1[0-2])\.(?P<id2>0?[1-9]|[12]\d|3[01])(?!\d))"
)
_MDY = (
    r"(?P<m1>"
    + _MONTH
    + r")(?:\s+|(?<=\.)|(?=\d))(?:the\s+)?(?P<d1>"
    + _DAY
    + r")"  # "March.11", "June01"
    r"(?:\s*,?\s*(?P<y1>" + _YEAR + r"))?"
)
_DMY = (
    r"(?:the\s+)?(?P<d2>"
    + _DAY
    + r")\s+(?:of\s+)?(?P<m2>"
    + _MONTH
    + r")(?:\s*,?\s*(?P<y2>"
    + _YEAR
    + r"))?"
)
_MY = r"(?P<m3>" + _MONTH + r")(?:,?\s+(?:of\s+)?(?P<y3>" + _YEAR + r"))?"
_PART = (
    r"(?:the\s+)?(?P<which>first|second|1st|2nd|3rd|4th|third|fourth|last)\s+"
    r"(?P<part>half|quarter)\s+of\s+(?P<py>" + _YEAR + r")"
)
_QUARTER = r"\bq(?P<q>[1-4])\s+(?:of\s+)?(?P<qy>" + _YEAR + r")"
_WEEKDAY = r"(?P<wd>mon|tues|wednes|thurs|fri|satur|sun)day"
_RELATIVE = (
    r"(?P<rel>last|this|next|past)\s+(?P<unit>year|month|week|" + _MONTH + r")"
    r"|(?P<dat>the\s+day\s+after\s+tomorrow)"
    r"|(?P<ago>yesterday|today|tomorrow)"
    # "next monday", "the upcoming wednesday", "on friday", "monday next week"
    r"|(?:(?P<wrel>next|upcoming|this\s+coming|coming|this)\s+)?"
    + _WEEKDAY
    + r"(?:\s+(?P<wweek>next|this)\s+week)?"
    r"|(?:the\s+)?(?:last|past)\s+(?P<n>\d+)\s+(?P<nunit>days|weeks|months|years)"
)
# "05/15/2023" (month first, as in the US) or "20/06/2022" (a first number over 12: day first)
_SLASHED = r"(?P<sa>[0-3]?\d)/(?P<sb>[0-3]?\d)/(?P<sy>" + _YEAR + r")(?!\d)"
_ONE = re.compile(
    r"\b(?:" + _SLASHED + r"|" + _ISO + r"|" + _PART + r"|" + _QUARTER + r"|" + _MDY + r"|" + _DMY
    + r"|" + _MY + r"|" + _RELATIVE + r"|(?P<year>" + _YEAR + r"))\b",
    re.IGNORECASE,
)  # fmt: skip
_RANGE_WORDS = re.compile(
    r"^\s*,?\s*(?:-|–|to|through|thru|until|till|and|up\s+to)\s+(?:the\s+(?:end\s+of\s+)?)?",
    re.IGNORECASE,
)
_RANGE_START = re.compile(r"(?:from|between|since|starting|after)\s+(?:the\s+)?$", re.IGNORECASE)


def _span(
    m: re.Match[str], today: date, ahead: tuple[bool, bool] = (False, False)
) -> tuple[date, date, Grain] | None:
    """The span a date match names; ``ahead``: whether a day, and a month, said without a
    year is the coming one (else the most recent; see :func:`_looks_ahead`)."""
    g = m.groupdict()
    if g["sy"]:
        first, second = int(g["sa"]), int(g["sb"])
        month, day_of = (second, first) if first > 12 else (first, second)
        try:
            d = date(int(g["sy"]), month, day_of)
        except ValueError:
            return None
        return d, d, "day"
    if g["iy"]:
        y, mo = int(g["iy"]), int(g["im"] or g["im2"])
        day = g["id"] or g["id2"]
        if day:
            try:
                d = date(y, mo, int(day))
            except ValueError:
                return None
            return d, d, "day"
        return (*_month_span(y, mo), "month")
    if g["which"]:
        y = int(g["py"])
        which = g["which"].lower()
        if g["part"].lower() == "half":
            if which in ("first", "1st"):
                return date(y, 1, 1), date(y, 6, 30), "half"
            return date(y, 7, 1), date(y, 12, 31), "half"
        q = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}.get(which, 4)
        return _quarter(y, q)
    if g["q"]:
        return _quarter(int(g["qy"]), int(g["q"]))
    for mk, dk, yk in (("m1", "d1", "y1"), ("m2", "d2", "y2")):
        if g[mk]:
            mo = MONTHS[g[mk].lower().rstrip(".")]
            day = int(re.sub(r"\D", "", g[dk]))
            y = _year_of(g[yk], today) or (
                _coming_year(mo, day, today) if ahead[0] else _recent_year(mo, today)
            )
            try:
                d = date(y, mo, day)
            except ValueError:
                return None
            return d, d, "day"
    if g["m3"]:
        mo = MONTHS[g["m3"].lower().rstrip(".")]
        if not g["y3"] and g["m3"].lower() in ("may", "mar", "jan", "jun", "jul", "aug", "dec"):
            return None  # "may" and short words alone are too often not months
        y = _year_of(g["y3"], today) or (
            _coming_year(mo, 1, today.replace(day=1)) if ahead[1] else _recent_year(mo, today)
        )
        return (*_month_span(y, mo), "month")
    if g["rel"]:
        return _relative(g["rel"].lower(), g["unit"].lower(), today)
    if g["dat"]:
        d = today + timedelta(days=2)
        return d, d, "day"
    if g["ago"]:
        d = today + timedelta(days={"yesterday": -1, "today": 0, "tomorrow": 1}[g["ago"].lower()])
        return d, d, "day"
    if g["wd"]:
        rel, week = (g["wrel"] or "").lower(), (g["wweek"] or "").lower()
        if not rel and not week and not re.search(r"\bon\s+$", m.string[: m.start()], re.I):
            return None  # a weekday alone is a date only after "on"
        d = _weekday(g["wd"].lower(), rel or "on", week, today)
        return d, d, "day"
    if g["n"]:
        n, unit = int(g["n"]), g["nunit"].lower()
        days = {"days": 1, "weeks": 7, "months": 30, "years": 365}[unit] * n
        return today - timedelta(days=days), today, "range"
    if g["year"]:
        y = int(g["year"])
        if not 1800 <= y <= 2200:
            return None
        return date(y, 1, 1), date(y, 12, 31), "year"
    return None


def _quarter(y: int, q: int) -> tuple[date, date, Grain]:
    start = date(y, 3 * q - 2, 1)
    return start, _month_span(y, 3 * q)[1], "quarter"


_WEEKDAYS = ("mon", "tues", "wednes", "thurs", "fri", "satur", "sun")


def _weekday(name: str, rel: str, week: str, today: date) -> date:
    """ "monday next week" / "this week": that day of next / this (Monday-first) week; "next",
    "upcoming", "coming": the first such day after today; "on", "this": today or after."""
    want = _WEEKDAYS.index(name)
    if week:
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=week == "next")
        return monday + timedelta(days=want)
    ahead = (want - today.weekday()) % 7
    if ahead == 0 and rel not in ("on", "this"):
        ahead = 7
    return today + timedelta(days=ahead)


def _recent_year(month: int, today: date) -> int:
    """A month named without a year: this year's, or last year's when it has not come yet."""
    return today.year if month <= today.month else today.year - 1


def _coming_year(month: int, day: int, today: date) -> int:
    """A day named without a year, when the request looks ahead: this year's, or next year's
    when it has passed."""
    return today.year if (month, day) >= (today.month, today.day) else today.year + 1


_PAST = re.compile(
    r"\b(?:was|were|did|had|happened|ago|last|past|previous|yesterday|histor\w*|recorded)\b",
    re.IGNORECASE,
)
_AHEAD = re.compile(
    r"\b(?:will|going\s+to|book\w*|reserv\w*|plan\w*|upcoming|next|travel\w*|trip|depart\w*|"
    r"schedul\w*|appointment|forecast|tickets?|attend|visit\w*|rent\w*|stay|check[- ]?in|"
    r"arriv\w*|fly|flights?)\b",
    re.IGNORECASE,
)


def _looks_ahead(text: str) -> tuple[bool, bool]:
    """Whether a day, and a month, said without a year is the coming one. A request that names
    a day mostly asks to act on it (book, check, plan), so a day looks ahead unless the request
    speaks of the past ("was", "last", "history") with nothing to plan; a month alone ("ozone
    in May") is the most recent unless the request plans ("travel in May")."""
    plans = _AHEAD.search(text) is not None
    return plans or _PAST.search(text) is None, plans


def _relative(rel: str, unit: str, today: date) -> tuple[date, date, Grain] | None:
    step = {"last": -1, "past": -1, "this": 0, "next": 1}[rel]
    if unit == "year":
        y = today.year + step
        return date(y, 1, 1), date(y, 12, 31), "year"
    if unit == "month":
        y, mo = divmod(today.year * 12 + today.month - 1 + step, 12)
        return (*_month_span(y, mo + 1), "month")
    if unit == "week":
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=step)
        return monday, monday + timedelta(days=6), "range"
    month = MONTHS[unit.rstrip(".")]
    if rel in ("last", "past"):  # the most recent such month that has ended or is running
        y = today.year if month < today.month else today.year - 1
    elif rel == "next":
        y = today.year if month > today.month else today.year + 1
    else:
        y = today.year
    return (*_month_span(y, month), "month")


def find_dates(text: str, today: date | None = None) -> list[DateSpan]:
    """The dates and ranges named in ``text`` (already through :func:`digits`), in order.

    Two dates joined by "to", "through", "until" or "and" (after "from"/"between") become one
    span of grain ``range`` from the start of the first to the end of the second.
    """
    today = today or date.today()
    ahead = _looks_ahead(text)
    anchor = _ANCHOR.search(text)
    said_today = _ONE.match(text, anchor.end()) if anchor else None
    context: DateSpan | None = None  # "today is 2023.10.1": what relative words count from
    if said_today is not None and (got := _span(said_today, today)) is not None:
        context = DateSpan(got[0], got[1], got[2], said_today.group(0), said_today.start())
        today = got[0]
    found: list[DateSpan] = []
    dated: list[bool] = []  # whether each names its year (else the year was guessed)
    for m in _ONE.finditer(text):
        if anchor is not None and context is not None and anchor.start() <= m.start() <= context.at:
            continue  # "today is 2023.10.1": not a date asked for
        got = _span(m, today, ahead)
        if got is None:
            continue
        start, end, grain = got
        found.append(DateSpan(start, end, grain, m.group(0), m.start()))
        named = bool(m.group("m1") or m.group("m2") or m.group("m3"))  # a month by name
        dated.append(not named or bool(re.search(_YEAR, m.group(0))))
    found = _day_in_month(text, found, dated, context)
    _said_twice(text, found, dated)
    for i, span in enumerate(found):  # "june 1st, june 5th 1973": the year said last
        later = next((found[j] for j in range(i + 1, len(found)) if dated[j]), None)
        if not dated[i] and later is not None and later.at - (span.at + len(span.text)) <= 40:
            found[i] = _in_year_before(span, later)
            dated[i] = True
    _year_said_before(text, found, dated)
    out: list[DateSpan] = []
    i = 0
    while i < len(found):
        cur = found[i]
        if i + 1 < len(found):
            nxt = found[i + 1]
            gap = text[cur.at + len(cur.text) : nxt.at]
            words = _RANGE_WORDS.match(gap)
            joined = words is not None and words.end() == len(gap) and len(gap) <= 24
            and_only = gap.strip().lower() == "and"
            if joined and not dated[i] and dated[i + 1]:
                cur = _in_year_before(cur, nxt)  # "june 1st to june 5th 1973": 1973 for both
            if (
                joined
                and (not and_only or _RANGE_START.search(text[: cur.at]))
                and nxt.end >= cur.start
            ):
                out.append(
                        DateSpan(
                            cur.start, nxt.end, "range", text[cur.at : nxt.at + len(nxt.text)],
                            cur.at,
                        )
                    )  # fmt: skip
                i += 2
                continue
        out.append(cur)
        i += 1
    return out


# "today is 2023-10-01", "assuming today is April 4th, 2023", "currently is sep 2023"
_ANCHOR = re.compile(
    r"\b(?:(?:assuming|given\s+that|if)\s+)?(?:today\s+is|today's\s+date\s+is|"
    r"the\s+date\s+today\s+is|(?:it\s+)?currently\s+(?:it\s+)?is|it\s+is\s+currently)"
    r"\s+(?:(?:a\s+)?(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?",
    re.IGNORECASE,
)
_BARE_DAY = re.compile(r"\bthe\s+(?P<d>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)\b", re.IGNORECASE)


def _day_in_month(
    text: str, found: list[DateSpan], dated: list[bool], context: DateSpan | None
) -> list[DateSpan]:
    """ "on the 10th ... march 2023": a day said without its month, in the one month the
    request names (or that "today is" names); the month is then context, not a date asked for."""
    months = [i for i, s in enumerate(found) if s.grain == "month"]
    month: DateSpan | None = None
    if months and len({found[i].start.month for i in months}) == 1:  # "march 2023 ... march"
        month = found[next((i for i in months if dated[i]), months[0])]
    elif not months and context is not None and context.grain == "month":
        month = context
    if month is None:
        return found
    taken = [(s.at, s.at + len(s.text)) for s in found]
    days = [
        m for m in _BARE_DAY.finditer(text)
        if all(m.end() <= a or m.start() >= b for a, b in taken)
    ]  # fmt: skip
    if len(days) != 1:
        return found
    m = days[0]
    try:
        day = month.start.replace(day=int(m.group("d")))
    except ValueError:
        return found
    keep = [i for i in range(len(found)) if i not in months]  # the month was context
    out = [found[i] for i in keep] + [DateSpan(day, day, "day", m.group(0), m.start())]
    flags = [dated[i] for i in keep] + [True]
    order = sorted(range(len(out)), key=lambda i: out[i].at)
    dated[:] = [flags[i] for i in order]
    return [out[i] for i in order]


_RELATIVE_DAY = re.compile(
    r"^(?:the\s+day\s+after\s+)?(?:tomorrow|today|yesterday)$|day(?:\s+(?:next|this)\s+week)?$",
    re.IGNORECASE,
)
_SAME_DAY = re.compile(
    r"^[\s,(:-]*(?:(?:which|that)\s+is|i\.?e\.?|specifically|namely|so)?[\s,(:-]*$",
    re.IGNORECASE,
)


# a relative day this far from every date written with its year speaks from another "today"
_SAME_FRAME_DAYS = 60


def _said_twice(text: str, found: list[DateSpan], dated: list[bool]) -> None:
    """ "next monday, 2023.10.2", "this saturday, which is 2023-10-07", "next Monday ... from
    2023-04-24": a day said as a word that counts from today and as a date. The date is the one
    meant: a relative day is dropped (in place) beside one said right after or before it, or
    when every date written with its year lies months away from it (the request was written
    from another "today"); "leave tomorrow, back on <a date next week>" keeps both."""
    relative = [bool(_RELATIVE_DAY.search(f.text)) for f in found]
    written = [
        f.start
        for f, r, d in zip(found, relative, dated, strict=True)
        if f.grain in ("day", "range") and not r and d and re.search(_YEAR, f.text)
    ]
    drop = set()
    for i, f in enumerate(found):
        if not relative[i] or f.grain != "day":
            continue
        if written and all(abs((w - f.start).days) > _SAME_FRAME_DAYS for w in written):
            drop.add(i)  # the written dates speak from another "today" than ours
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(found) and found[j].grain == "day" and not relative[j]:
                first, second = sorted((f, found[j]), key=lambda x: x.at)
                gap = text[first.at + len(first.text) : second.at]
                if len(gap) <= 24 and _SAME_DAY.match(gap):
                    drop.add(i)
    for i in sorted(drop, reverse=True):
        del found[i], dated[i]


def _year_said_before(text: str, found: list[DateSpan], dated: list[bool]) -> None:
    """ "on March 1st 2023 and back on the 6th of March", "departing the 2023 1st of March": a
    date said without its year after one that says it is in that year (or the next, when it
    would come before it). A bare year said right before such a date is its year, not a date
    asked for (dropped in place)."""
    drop = set()
    for i, span in enumerate(found):
        if dated[i]:
            continue
        j = next((j for j in range(i - 1, -1, -1) if re.search(_YEAR, found[j].text)), None)
        if j is None:
            continue
        earlier = found[j]
        gap = text[earlier.at + len(earlier.text) : span.at]
        if earlier.grain == "year" and re.fullmatch(r"[\s,]*(?:the\s+)?", gap):
            drop.add(j)
        found[i] = _in_year_after(span, earlier)
        dated[i] = True
    for j in sorted(drop, reverse=True):
        del found[j], dated[j]


def _in_year(span: DateSpan, year: int) -> DateSpan | None:
    """``span`` (said without a year) in ``year``; ``None`` for a 29 February that year lacks."""
    try:
        start, end = span.start.replace(year=year), span.end.replace(year=year)
    except ValueError:
        return None
    if span.grain == "month":
        start, end = _month_span(year, span.start.month)
    return DateSpan(start, end, span.grain, span.text, span.at)


def _in_year_after(span: DateSpan, earlier: DateSpan) -> DateSpan:
    """``span`` moved to the first year that does not come before ``earlier`` begins."""
    for year in (earlier.start.year, earlier.start.year + 1):
        moved = _in_year(span, year)
        if moved is not None and moved.start >= earlier.start:
            return moved
    return span


def _in_year_before(span: DateSpan, later: DateSpan) -> DateSpan:
    """``span`` moved to the latest year that does not pass ``later``."""
    for year in (later.end.year, later.end.year - 1):
        moved = _in_year(span, year)
        if moved is not None and moved.start <= later.end:
            return moved
    return span
