"""What an API call's rows say, computed from the rows: the summary step after a call.

:func:`summarise_rows` picks the row key that holds dates (or the first text column) and the
numeric columns, then states per numeric column: the count, the first and last values (in the
order of the key), the minimum and maximum with their keys, and the change from first to last
(absolute and in percent). Every figure is a :class:`Fact` naming the row it was read from
(its position in the stored records) and the column, so each number can be traced to a stored
record. Nothing is estimated; with no numeric column the summary is the row count.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_DATE_LIKE = re.compile(r"^\d{4}(-\d{2}(-\d{2}([T ][\d:.]+Z?)?)?)?$")
MAX_COLUMNS = 3  # numeric columns described


@dataclass(frozen=True)
class Fact:
    """One figure: what it is, its value, and the row (index into the records) it came from."""

    what: str  # first | last | min | max | change | change_pct | count
    column: str
    value: float | int
    row: int | None = None  # None for figures computed from two rows (change) or all (count)
    key: str = ""  # the row's date/label


@dataclass(frozen=True)
class RowSummary:
    text: str
    spoken: str
    facts: tuple[Fact, ...] = field(default_factory=tuple)
    key_column: str = ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            out = float(value.replace(",", ""))
        except ValueError:
            return None
        return out if math.isfinite(out) else None
    return None


def _fmt(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _key_column(rows: Sequence[Mapping[str, Any]]) -> str:
    names = list(rows[0].keys())
    for name in names:
        if all(isinstance(r.get(name), str) and _DATE_LIKE.match(r[name]) for r in rows):
            return name
    for name in names:
        if all(isinstance(r.get(name), str) for r in rows) and _number(rows[0][name]) is None:
            return name
    return ""


def summarise_rows(rows: Sequence[Mapping[str, Any]], label: str = "the API") -> RowSummary:
    """The figures ``rows`` hold, stated in words, each traceable to its row."""
    n = len(rows)
    count = Fact("count", "", n)
    if n == 0:
        return RowSummary(f"{label} returned no rows.", f"{label} returned no rows.", (count,))
    key = _key_column(rows)
    order = list(range(n))
    if key and all(_DATE_LIKE.match(str(rows[i][key])) for i in order):
        order.sort(key=lambda i: str(rows[i][key]))
    numeric = [c for c in rows[0] if c != key and all(_number(r.get(c)) is not None for r in rows)][
        :MAX_COLUMNS
    ]
    facts: list[Fact] = [count]
    sentences = [f"{label} returned {n} rows"]
    if key and n > 1:
        sentences[0] += f", {key} {rows[order[0]][key]} to {rows[order[-1]][key]}"
    spoken: list[str] = [sentences[0] + "."]
    for col in numeric:
        vals = {i: _number(rows[i][col]) for i in order}
        first, last = order[0], order[-1]
        lo = min(order, key=lambda i: (vals[i], i))
        hi = max(order, key=lambda i: (vals[i], -i))

        def at(i: int) -> str:
            return f" ({rows[i][key]})" if key else f" (row {i + 1})"

        v_first, v_last = vals[first] or 0.0, vals[last] or 0.0
        facts += [
            Fact("first", col, v_first, first, str(rows[first].get(key, ""))),
            Fact("last", col, v_last, last, str(rows[last].get(key, ""))),
            Fact("min", col, vals[lo] or 0.0, lo, str(rows[lo].get(key, ""))),
            Fact("max", col, vals[hi] or 0.0, hi, str(rows[hi].get(key, ""))),
        ]
        text = (
            f"{col}: first {_fmt(v_first)}{at(first)}, last {_fmt(v_last)}{at(last)}; "
            f"lowest {_fmt(vals[lo] or 0.0)}{at(lo)}, highest {_fmt(vals[hi] or 0.0)}{at(hi)}"
        )
        say = f"{col} went from {_fmt(v_first)} to {_fmt(v_last)}"
        if n > 1:
            change = v_last - v_first
            facts.append(Fact("change", col, change))
            text += f"; change {'+' if change >= 0 else ''}{_fmt(change)}"
            if v_first:
                pct = 100 * change / abs(v_first)
                facts.append(Fact("change_pct", col, round(pct, 2)))
                text += f" ({'+' if pct >= 0 else ''}{pct:.1f}%)"
                say += f", {'up' if pct >= 0 else 'down'} {abs(pct):.1f} percent"
        sentences.append(text)
        spoken.append(
            say + f"; the lowest was {_fmt(vals[lo] or 0.0)}{at(lo)}, "
            f"the highest {_fmt(vals[hi] or 0.0)}{at(hi)}."
        )
    return RowSummary(". ".join(sentences) + ".", " ".join(spoken), tuple(facts), key)
