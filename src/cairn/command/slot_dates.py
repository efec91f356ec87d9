"""Date and clock-time slots: which parameters take a date, and the dates a request gives them.

A start/end pair takes the two ends of one range (or two dates); other date parameters take
the request's dates in order, written the way the schema asks (ISO day, ISO date-time, a year
as an integer, ``MM/DD/YYYY`` when the description says so).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from cairn.command.operations import OperationDoc, ParamDoc, split_name
from cairn.command.slot_request import Filled, _has, _Request

_START_WORDS = ("start", "from", "since", "begin", "after", "min", "first", "lower")
_END_WORDS = ("end", "to", "until", "till", "before", "max", "last", "upper", "through")
# the two days of a stay or a trip: a range said ("from 05/12 to 05/18") fills both
_LEG_FIRST = ("in", "checkin", "depart", "departure", "pickup", "pick")
_LEG_SECOND = ("out", "checkout", "return", "dropoff", "drop")
_DATE_WORDS = ("date", "day", "time", "start", "end", "from", "to", "since", "until", "year",
               "month", "period", "when")  # fmt: skip


def is_date_param(p: ParamDoc) -> bool:
    if p.type not in ("string", "integer", "any"):
        return False
    if p.format in ("date", "date-time"):
        return True
    parts = set(split_name(p.name).split())
    if p.type == "integer":
        return "year" in parts and "per" not in parts  # not "compounds_per_year"
    written = re.search(
        r"\b(?:yyyy|dd|mm)([-/.])(?:yyyy|dd|mm)\1(?:yyyy|dd|mm)\b", p.description, re.I
    )
    if p.type == "string" and ((written and "time" in parts) or _asks_date_and_time(p)):
        return True  # "departure_time" in 'dd/mm/yyyy HH:MM', "new_datetime" in ISO-8601
    return bool(parts & {"date", "day", "year", "month", "period", "datetime"}) or (
        bool(
            parts
            & {
                "start",
                "end",
                "from",
                "to",
                "since",
                "until",
                "in",
                "out",
                "checkin",
                "checkout",
                "arrival",
                "departure",
                "return",
            }
        )
        and bool(re.search(r"\bdate|yyyy|\bday\b", p.description, re.IGNORECASE))
    )  # "check_in": "Check-in date, YYYY-MM-DD"


_TIME = re.compile(
    r"\b(?:([01]?\d|2[0-3]):([0-5]\d)(?:\s*([ap])\.?\s?m\b\.?)?|(1[0-2]|0?[1-9])\s*([ap])\.?\s?m\b\.?)",
    re.IGNORECASE,
)


_WRITTEN_DATE_TIME = re.compile(
    r"\b(?:yyyy|dd)[-/.](?:mm|dd)[-/.](?:yyyy|dd)([ t])hh:mm(:ss)?(z)?", re.I
)
_ISO_EXAMPLE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?(Z?)|YYYY-MM-DDTHH:MM(?::SS)?(Z?)")


def _asks_date_and_time(p: ParamDoc) -> bool:
    """The description asks for a date with a clock time: a written format ('dd/mm/yyyy
    HH:MM'), an ISO-8601 example ('2023-04-15T13:45:00Z'), or "ISO-8601 ... date and time"."""
    desc = p.description
    return bool(
        _WRITTEN_DATE_TIME.search(desc)
        or _ISO_EXAMPLE.search(desc)
        or (re.search(r"iso.?8601", desc, re.I) and re.search(r"date and time", desc, re.I))
    )


def _with_clock(p: ParamDoc, d: date, clock: tuple[int, int] | None, second: int = 0) -> str | None:
    """``d`` with the clock time said, as a description that asks for both writes it; None
    when it asks for a date alone."""
    hour, minute = clock or (0, 0)
    written = _WRITTEN_DATE_TIME.search(p.description)
    if written:
        date_part = written.group(0)[: written.start(1) - written.start(0)].lower()
        order = re.findall(r"yyyy|mm|dd", date_part)
        sep = re.search(r"[-/.]", date_part)
        day = d.strftime((sep.group(0) if sep else "-").join(_CODES[c] for c in order))
        joint = "T" if written.group(1) in "tT" else " "
        seconds = f":{second:02d}" if written.group(2) else ""
        zone = "Z" if written.group(3) else ""
        return f"{day}{joint}{hour:02d}:{minute:02d}{seconds}{zone}"
    iso = _ISO_EXAMPLE.search(p.description)
    if iso or _asks_date_and_time(p):
        zone = "Z" if iso and (iso.group(1) or iso.group(2)) else ""
        return f"{d.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}{zone}"
    return None


_PART_OF_DAY = re.compile(
    r"\b(1[0-2]|0?[1-9])(?::([0-5]\d))?\s+(?:o'clock\s+)?in\s+the\s+(morning|afternoon|evening)\b"
    r"|\b(noon|midday|midnight)\b",
    re.IGNORECASE,
)


def _clock_of(m: re.Match[str]) -> tuple[int, int]:
    """(hour, minute) on a 24-hour clock of a :data:`_TIME` match ("4pm" -> (16, 0))."""
    hour, minute = int(m.group(1) or m.group(4)), int(m.group(2) or 0)
    half = (m.group(3) or m.group(5) or "").lower()
    if half == "p" and hour < 12:
        hour += 12
    elif half == "a" and hour == 12:
        hour = 0
    return hour, minute


def clock_said(req: _Request) -> tuple[int, int, int, int] | None:
    """The first free clock time the request says, as (hour, minute, start, end): "4pm",
    "13:45", "5 in the afternoon", "noon"."""
    said = clocks_said(req)
    return said[0] if said else None


def clocks_said(req: _Request) -> list[tuple[int, int, int, int]]:
    """Every free clock time the request says, in order (see :func:`clock_said`)."""
    found: list[tuple[int, int, int, int]] = []
    for m in _TIME.finditer(req.text):
        found.append((*_clock_of(m), m.start(), m.end()))
    for m in _PART_OF_DAY.finditer(req.text):
        if m.group(4):
            hour = 0 if m.group(4).lower() == "midnight" else 12
            found.append((hour, 0, m.start(), m.end()))
            continue
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if m.group(3).lower() != "morning" and hour < 12:
            hour += 12
        found.append((hour, minute, m.start(), m.end()))
    return sorted((f for f in found if req.free(f[2], f[3])), key=lambda f: f[2])


_LASTING = re.compile(
    r"\b(?:for|duration(?:\s+of)?|lasting)\s+(\d+(?:\.\d+)?)\s*-?\s*(hours?|hrs?|minutes?|mins?)\b",
    re.IGNORECASE,
)


def _timed_range(
    starts: list[ParamDoc], ends: list[ParamDoc], first: Any, last: Any, req: _Request
) -> dict[str, str]:
    """A start/end pair that asks for a date with a clock time: the clock said for each end
    ("between 10:30 a.m. and 7:00 p.m.", "16:00 - 18:00"), the end a duration gives ("at 9:00,
    duration 3 hours"), the whole day when no clock is said ("on March 22": 00:00:00 to
    23:59:59); a single clock said starts the range and leaves its end open."""
    clocks = clocks_said(req)
    out: dict[str, str] = {}
    begin = datetime.combine(first.start, time(*clocks[0][:2])) if clocks else None
    finish: datetime | None = None
    if len(clocks) >= 2:
        finish = datetime.combine(last.end, time(*clocks[1][:2]))
    elif begin is not None:
        lasting = _LASTING.search(req.text)
        if lasting and req.free(lasting.start(), lasting.end()):
            amount = float(lasting.group(1))
            hours = amount if lasting.group(2).lower().startswith("h") else amount / 60
            finish = begin + timedelta(hours=hours)
            req.used.append((lasting.start(), lasting.end()))
    for p in starts[:1]:
        clock = (begin.hour, begin.minute) if begin else (0, 0)
        out[p.name] = _with_clock(p, first.start, clock) or ""
    for p in ends[:1]:
        if finish is not None:
            out[p.name] = _with_clock(p, finish.date(), (finish.hour, finish.minute)) or ""
        elif begin is None:
            out[p.name] = _with_clock(p, last.end, (23, 59), second=59) or ""
    for c in clocks[:2]:
        req.used.append((c[2], c[3]))
    return {k: v for k, v in out.items() if v}


def _is_time_param(p: ParamDoc) -> bool:
    """A clock time as a string: ``show_time``, ``start_time`` ("HH:MM" or the like)."""
    parts = set(split_name(p.name).split())
    return p.type == "string" and not p.enum and "time" in parts and not parts & {"zone", "date"}


def _time_said(p: ParamDoc, req: _Request) -> tuple[str, int, int] | None:
    """The first clock time the request says ("5:30pm", "19:30", "4 pm"), written as the
    description asks: "HH:MM" (24-hour; "HH:MM:SS" when it shows seconds), or as said when
    it names no format."""
    for hour, minute, start, end in clocks_said(req):  # "4 pm", "2 in the afternoon"
        if not re.search(r"hh:mm|24[- ]hour|military", p.description, re.IGNORECASE):
            return req.text[start:end].strip(), start, end
        # seconds when the description asks for them, not when it also takes 'HH:MM' alone
        asks = re.search(r"hh:mm:ss", p.description, re.IGNORECASE)
        takes_short = re.search(r"hh:mm(?![:\w])(?!\s*[ap]\.?m)", p.description, re.IGNORECASE)
        seconds = ":00" if asks and not takes_short else ""
        return f"{hour:02d}:{minute:02d}{seconds}", start, end
    return None


_CODES = {
    "yyyy": "%Y", "yyy": "%Y", "year": "%Y", "mm": "%m", "month": "%m", "dd": "%d", "day": "%d",
}  # fmt: skip


def _format_date(p: ParamDoc, d: date, *, end: bool, grain: str) -> Any:
    desc = p.description.lower()
    if p.type == "integer" or ("year" in split_name(p.name).split() and p.format == ""):
        return d.year if p.type == "integer" else str(d.year)
    if p.format == "date-time" or "date-time" in desc or "iso 8601 timestamp" in desc:
        return f"{d.isoformat()}T{'23:59:59' if end else '00:00:00'}Z"
    part = r"(yyyy|yyy|mm|dd|year|month|day)"
    written = re.search(rf"\b{part}([-/.]){part}\2{part}\b", desc)
    if written:  # "MM-DD-YYYY", "dd/mm/yyyy", "(month-day-year)": the order the description asks
        return d.strftime(written.group(2).join(_CODES[written.group(i)] for i in (1, 3, 4)))
    if re.search(r"yyyy-mm(?!-)", desc) and grain in ("month",):
        return d.strftime("%Y-%m")
    two = re.search(r"\b(mm|yyyy)([-/.])(mm|yyyy)\b(?![-/.])", desc)
    if two and two.group(1) != two.group(3):  # "in 'mm-yyyy' format"
        return d.strftime(two.group(2).join(_CODES[two.group(i)] for i in (1, 3)))
    if split_name(p.name).split()[-1:] == ["month"] and p.type == "string":
        return d.strftime("%B")  # a month parameter with no format asked: "December"
    return d.isoformat()


def _fill_dates(op: OperationDoc, req: _Request, out: Filled) -> None:
    date_params = [p for p in op.params if is_date_param(p) and not p.enum]
    if not date_params or not req.dates:
        return
    said = clock_said(req) if any(_asks_date_and_time(p) for p in date_params) else None
    clock = said[:2] if said else None
    span, dates = req.dates[0], list(req.dates)
    first_leg = [p for p in date_params if _has(p.name, _LEG_FIRST)]
    second_leg = [p for p in date_params if _has(p.name, _LEG_SECOND)]
    if span.grain == "range" and len(first_leg) == 1 and len(second_leg) == 1:
        for p, day in ((first_leg[0], span.start), (second_leg[0], span.end)):
            out.values[p.name] = _format_date(p, day, end=False, grain="day")
            out.evidence[p.name] = span.text
        date_params = [p for p in date_params if p not in (first_leg[0], second_leg[0])]
        dates = dates[1:]
        if not dates:
            date_params = []
        else:
            span = dates[0]
    starts = [p for p in date_params if _has(p.name, _START_WORDS)]
    ends = [p for p in date_params if _has(p.name, _END_WORDS)]
    others = [p for p in date_params if p not in starts and p not in ends]
    if starts or ends:
        if len(dates) >= 2 and span.grain != "range":
            first, last = dates[0], dates[1]
        else:
            first = last = span
        if first is last and span.single_day and starts and ends:
            out.loss += 0.5
        clocked = [p for p in (*starts[:1], *ends[:1]) if _asks_date_and_time(p)]
        if clocked:
            for name, value in _timed_range(starts, ends, first, last, req).items():
                out.values[name], out.evidence[name] = value, first.text
            starts = [p for p in starts if p not in clocked]
            ends = [p for p in ends if p not in clocked]
        for p in starts[:1]:
            out.values[p.name] = _format_date(p, first.start, end=False, grain=first.grain)
            out.evidence[p.name] = first.text
        for p in ends[:1]:
            out.values[p.name] = _format_date(p, last.end, end=True, grain=last.grain)
            out.evidence[p.name] = last.text
    for p, s in zip(others, dates, strict=False):
        timed = _with_clock(p, s.start, clock) if _asks_date_and_time(p) else None
        out.values[p.name] = timed or _format_date(p, s.start, end=False, grain=s.grain)
        out.evidence[p.name] = s.text
        if timed and said:
            req.used.append((said[2], said[3]))
        if not s.single_day and not (p.type == "integer" and s.grain == "year"):
            out.loss += 1.0
    for s in req.dates:
        req.used.append((s.at, s.at + len(s.text)))
    dated = [p for p in op.params if is_date_param(p) and not p.enum and p.name in out.values]
    out.typed |= {p.name for p in dated}
    taken = {out.evidence[p.name] for p in dated}
    out.dates_taken = sum(1 for s in req.dates if any(s.text in t for t in taken))
