"""Tables -> charts: PNG and SVG files drawn with matplotlib's Agg canvas (no display needed).

Data is either a table (``list`` of ``dict`` rows: one label column and one or more numeric
columns) or a ``(labels, values)`` series. :func:`suggest_chart` picks a kind for data when the
request named none; :func:`render_chart` draws it, with a caption naming the sources.
Text stays text in the SVG (searchable, accessible); both files are reproducible byte for byte.
"""

from __future__ import annotations

import math
import re
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from cairn.errors import CairnError

ChartKind = Literal["bar", "line", "pie", "scatter"]
CHART_KINDS: tuple[str, ...] = get_args(ChartKind)
FORMATS = ("png", "svg")
MAX_POINTS = 10_000
MAX_PIE_SLICES = 12

Row = Mapping[str, Any]
ChartData = Sequence[Row] | tuple[Sequence[Any], Sequence[Any]]

_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class ChartError(CairnError):
    """Data cannot be charted (empty, not numeric, wrong shape) or the files not written."""


@dataclass(frozen=True)
class Table:
    """Data in one shape: x labels or numbers, and one or more named numeric series."""

    x_name: str
    x: list[Any]
    series: dict[str, list[float]]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _numeric_column(values: Sequence[Any]) -> bool:
    return bool(values) and all(_is_number(v) for v in values)


def to_table(data: ChartData, *, x: str | None = None, y: Sequence[str] | None = None) -> Table:
    """Check ``data`` and bring it into one shape; :class:`ChartError` when it cannot be charted."""
    if isinstance(data, tuple) and len(data) == 2 and not isinstance(data[0], Mapping):
        labels, points = list(data[0]), list(data[1])
        if not labels and not points:
            raise ChartError("empty-data", "Nothing to chart: the series is empty.")
        if len(labels) != len(points):
            raise ChartError(
                "bad-data", f"{len(labels)} labels but {len(points)} values: they must pair up."
            )
        bad = [v for v in points if not _is_number(v)]
        if bad:
            raise ChartError(
                "non-numeric", f"The values are not all numbers (found {bad[0]!r}); cannot chart."
            )
        if len(labels) > MAX_POINTS:
            raise ChartError(
                "too-much-data", f"{len(labels)} points; charts take at most {MAX_POINTS}."
            )
        return Table("", labels, {"": [float(v) for v in points]})
    rows = list(data)
    if not rows:
        raise ChartError("empty-data", "Nothing to chart: the table has no rows.")
    if len(rows) > MAX_POINTS:
        raise ChartError("too-much-data", f"{len(rows)} rows; charts take at most {MAX_POINTS}.")
    if not all(isinstance(r, Mapping) for r in rows):
        raise ChartError("bad-data", "A table must be a list of rows (dicts of column -> value).")
    columns = list(rows[0].keys())
    if not columns:
        raise ChartError("empty-data", "Nothing to chart: the rows have no columns.")
    for n, row in enumerate(rows, start=1):
        if list(row.keys()) != columns and set(row.keys()) != set(columns):
            raise ChartError("bad-data", f"Row {n} has different columns from row 1.")
    values = {c: [r[c] for r in rows] for c in columns}
    numeric = [c for c in columns if _numeric_column(values[c])]
    if x is None:
        text_columns = [c for c in columns if c not in numeric]
        x = text_columns[0] if text_columns else (columns[0] if len(columns) > 1 else None)
    if x is not None and x not in values:
        raise ChartError("bad-data", f"No column {x!r}; columns are {', '.join(columns)}.")
    wanted = list(y) if y else [c for c in numeric if c != x]
    for c in wanted:
        if c not in values:
            raise ChartError("bad-data", f"No column {c!r}; columns are {', '.join(columns)}.")
        if not _numeric_column(values[c]):
            bad = next(v for v in values[c] if not _is_number(v))
            raise ChartError(
                "non-numeric", f"Column {c!r} is not all numbers (found {bad!r}); cannot chart it."
            )
    if not wanted:
        raise ChartError(
            "non-numeric",
            f"No numeric column to chart among {', '.join(map(repr, columns))}.",
        )
    xs = values[x] if x is not None else list(range(1, len(rows) + 1))
    return Table(x or "#", xs, {c: [float(v) for v in values[c]] for c in wanted})


def _is_year(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return 1000 <= value <= 2200
    return isinstance(value, str) and _ISO_DATE.match(value.strip()) is not None


def suggest_chart(data: ChartData) -> ChartKind | None:
    """A fitting kind: years or dates -> line, numbers against numbers -> scatter, a few shares
    of a whole (a 'share'/'percent' column) -> pie, categories -> bar; None if not chartable."""
    try:
        table = to_table(data)
    except ChartError:
        return None
    if len(table.x) > 1 and all(_is_year(v) for v in table.x):
        return "line"
    if len(table.x) > 1 and all(_is_number(v) for v in table.x) and table.x_name != "#":
        return "scatter"
    (name, values), *others = table.series.items()
    share = re.search(r"share|percent|proportion|fraction|%", name.lower())
    if (
        not others
        and share
        and 1 < len(values) <= MAX_PIE_SLICES
        and all(v >= 0 for v in values)
        and sum(values) > 0
    ):
        return "pie"
    return "bar"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "chart"


def _targets(out: Path, title: str, formats: Sequence[str]) -> list[Path]:
    base = out / _slug(title) if out.is_dir() else out
    if base.suffix.lower().lstrip(".") in FORMATS:
        base = base.with_suffix("")
    return [base.with_name(f"{base.name}.{fmt}") for fmt in formats]


def render_chart(
    data: ChartData,
    *,
    kind: ChartKind | None = "bar",
    title: str,
    out: Path,
    x_label: str | None = None,
    y_label: str | None = None,
    caption: str | None = None,
    x: str | None = None,
    y: Sequence[str] | None = None,
    formats: Sequence[str] = FORMATS,
    size: tuple[float, float] = (8.0, 5.0),
) -> list[Path]:
    """Draw ``data`` as a ``kind`` chart into ``out`` (a base path or a folder); return the files.

    ``kind=None`` lets :func:`suggest_chart` choose. ``caption`` (name the sources) is printed
    under the chart. ``x``/``y`` pick the label and value columns of a table.
    """
    if kind is None:
        kind = suggest_chart(data)
        if kind is None:
            to_table(data, x=x, y=y)  # raises the precise error
            kind = "bar"
    if kind not in CHART_KINDS:
        raise ChartError("bad-kind", f"Chart kind {kind!r}: use one of {', '.join(CHART_KINDS)}.")
    bad_formats = [f for f in formats if f not in FORMATS]
    if bad_formats or not formats:
        raise ChartError("bad-format", f"Formats {list(formats)!r}: use png and/or svg.")
    if not title or not title.strip():
        raise ChartError("no-title", "A chart needs a title.")
    table = to_table(data, x=x, y=y)
    _require_matplotlib()
    figure = _draw(table, kind, title, x_label, y_label, caption, size)
    paths = _targets(Path(out), title, formats)
    try:
        paths[0].parent.mkdir(parents=True, exist_ok=True)
        for path in paths:
            _save(figure, path)
    except OSError as err:
        raise ChartError("write-failed", f"Cannot write the chart to {paths[0]}: {err}") from err
    return paths


MATPLOTLIB_HINT = "pip install 'matplotlib>=3.8'"


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as err:
        raise ChartError(
            "missing-dependency",
            f"Charts need matplotlib, which is not installed: {MATPLOTLIB_HINT}",
        ) from err


def _draw(
    table: Table,
    kind: str,
    title: str,
    x_label: str | None,
    y_label: str | None,
    caption: str | None,
    size: tuple[float, float],
) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine
    from matplotlib.ticker import MaxNLocator

    lines = textwrap.wrap(caption, width=int(size[0] * 14)) if caption else []
    bottom = min(0.4, (0.02 + 0.16 * len(lines)) / size[1]) if lines else 0.0
    figure = Figure(figsize=size, dpi=100)
    figure.set_layout_engine(ConstrainedLayoutEngine(rect=(0, bottom, 1, 1 - bottom)))
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    names = list(table.series)
    labels = [str(v) for v in table.x]
    if kind == "pie":
        if len(names) != 1:
            raise ChartError("bad-data", f"A pie chart takes one value column, not {len(names)}.")
        values = table.series[names[0]]
        if any(v < 0 for v in values) or sum(values) <= 0:
            raise ChartError(
                "bad-data", "A pie chart needs non-negative values with a positive sum."
            )
        if len(values) > MAX_PIE_SLICES:
            raise ChartError(
                "bad-data", f"{len(values)} slices; a pie takes at most {MAX_PIE_SLICES} (try bar)."
            )
        ax.pie(values, labels=labels, autopct="%1.0f%%", startangle=90, counterclock=False)
        ax.set_aspect("equal")
    elif kind == "scatter":
        if not all(_is_number(v) for v in table.x):
            raise ChartError(
                "non-numeric",
                f"A scatter plot needs numbers on x; {table.x_name!r} is not numeric.",
            )
        for name in names:
            ax.scatter(table.x, table.series[name], label=name, s=24)
    elif kind == "line":
        xs: list[Any] = table.x if all(_is_number(v) for v in table.x) else labels
        for name in names:
            ax.plot(xs, table.series[name], marker="o", label=name)
    else:
        width = 0.8 / len(names)
        positions = list(range(len(labels)))
        for i, name in enumerate(names):
            offset = (i - (len(names) - 1) / 2) * width
            ax.bar([p + offset for p in positions], table.series[name], width=width, label=name)
        ax.set_xticks(positions, labels, rotation=45 if len(labels) > 8 else 0, ha="right")
    if kind in ("line", "scatter") and all(
        isinstance(v, int) and not isinstance(v, bool) for v in table.x
    ):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    if kind != "pie":
        ax.set_xlabel(x_label if x_label is not None else table.x_name)
        ax.set_ylabel(y_label if y_label is not None else (names[0] if len(names) == 1 else ""))
        ax.grid(alpha=0.3)
        if len(names) > 1 or (kind == "scatter" and names[0]):
            ax.legend()
    if lines:
        figure.text(0.01, 0.01, "\n".join(lines), fontsize=8, va="bottom", ha="left")
    return figure


def _save(figure: Any, path: Path) -> None:
    from matplotlib import rc_context

    fmt = path.suffix.lstrip(".")
    metadata: dict[str, Any] = (
        {"Date": None, "Creator": "cairn"} if fmt == "svg" else {"Software": "cairn"}
    )
    with (
        rc_context({"svg.fonttype": "none", "svg.hashsalt": "cairn"}),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        warnings.filterwarnings("ignore", message=r".*[Ll]ayout not applied.*")
        figure.savefig(path, format=fmt, metadata=metadata)
