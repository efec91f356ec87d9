"""cairn chart: draw stored records (rows from API calls), or chunks per source, as a chart."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from cairn.cli.common import (
    JsonOption,
    KbOption,
    console,
    errors_as_messages,
    fail,
    open_kb,
    print_json,
)

if TYPE_CHECKING:
    from cairn.knowledge import KnowledgeBase

MAX_CAPTION_SOURCES = 4


def register(app: typer.Typer) -> None:
    app.command("chart")(chart)


def chart(
    operation: Annotated[
        str | None,
        typer.Argument(
            help="Chart the records of this tool.operation (see `cairn tools records`).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Where to write: out.png writes out.png and out.svg.", dir_okay=True
        ),
    ] = None,
    x: Annotated[
        str | None, typer.Option("--x", help="Label field (default: the first text/int field).")
    ] = None,
    y: Annotated[
        str | None, typer.Option("--y", help="Value field (default: the first numeric field).")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(help="bar, line, pie or scatter (default: chosen from the data)."),
    ] = None,
    title: Annotated[str | None, typer.Option(help="Chart title.")] = None,
    sources: Annotated[
        bool, typer.Option("--sources", help="Chart chunks per source instead of records.")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many records.")] = 1000,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Draw stored records (or, with --sources, chunks per source) as PNG and SVG charts."""
    if out is None:
        fail("name the output with -o, e.g. -o chart.png (writes chart.png and chart.svg)")
    if sources and (operation or x or y):
        fail("--sources charts chunks per source: leave out OPERATION, --x and --y")
    if limit < 1:
        fail("--limit must be 1 or more")
    from cairn.charts.render import CHART_KINDS, render_chart

    if kind is not None and kind not in CHART_KINDS:
        fail(f"--kind {kind!r}: use one of {', '.join(CHART_KINDS)}")
    with errors_as_messages(), open_kb(kb) as base:
        if sources:
            rows, x, y, caption, default_title = _source_rows(base)
            kind = kind or "bar"
        else:
            rows, x, y, caption, default_title = _record_rows(base, operation, x, y, limit)
        files = render_chart(
            rows,
            kind=kind,  # type: ignore[arg-type]  # checked against CHART_KINDS above
            title=title or default_title,
            out=out,
            caption=caption,
            x=x,
            y=[y],
            formats=("png", "svg"),
        )
    if json_out:
        print_json(
            {"files": [str(p) for p in files], "x": x, "y": y, "rows": len(rows), "kind": kind}
        )
        return
    console.print(f"[dim]{len(rows)} rows: {escape(y)} by {escape(x)}[/]", highlight=False)
    for p in files:
        console.print(f"chart: {escape(str(p))}", highlight=False)


# --------------------------------------------------------------------------- records


def _record_rows(
    base: KnowledgeBase, operation: str | None, x: str | None, y: str | None, limit: int
) -> tuple[list[dict[str, Any]], str, str, str, str]:
    from cairn.charts.render import ChartError

    records = base.store.list_records(operation, limit)
    if not records:
        where = f" for {operation!r}" if operation else ""
        raise ChartError(
            "empty-data",
            f"No records{where} to chart: `cairn tools call TOOL OPERATION` stores some "
            "(`cairn tools records` lists them).",
        )
    operations = list(dict.fromkeys(str(r["operation"]) for r in records))
    if len(operations) > 1:
        raise ChartError(
            "bad-data",
            f"Records from {len(operations)} operations ({', '.join(operations)}): "
            "name the one to chart.",
        )
    data = [r["data"] for r in records if isinstance(r["data"], Mapping)]
    fields = list(dict.fromkeys(k for row in data for k in row))
    x, y = pick_fields(data, fields, x, y)
    rows: list[dict[str, Any]] = []
    for record in records:
        row = record["data"]
        if not isinstance(row, Mapping) or row.get(x) is None or row.get(y) is None:
            continue  # a row without the fields cannot be drawn
        value = row[y]
        if not _is_number(value):
            raise ChartError(
                "non-numeric",
                f"Field {y!r} is not numeric (record {record['id']} has {value!r}); "
                "pick a numeric field with --y.",
            )
        label = row[x]
        rows.append({x: label if _is_label(label) else str(label), y: value})
    if not rows:
        raise ChartError("empty-data", f"No record has both {x!r} and {y!r}.")
    caption = _records_caption(base, operations[0], records)
    return rows, x, y, caption, f"{operations[0]}: {y} by {x}"


def pick_fields(
    rows: Sequence[Mapping[str, Any]], fields: Sequence[str], x: str | None, y: str | None
) -> tuple[str, str]:
    """The label and value fields: as given (checked), else the first text/int field and the
    first numeric one after it; :class:`~cairn.charts.render.ChartError` when there are none."""
    from cairn.charts.render import ChartError

    shown = ", ".join(fields) or "(none)"
    for name, flag in ((x, "--x"), (y, "--y")):
        if name is not None and name not in fields:
            raise ChartError(
                "bad-data", f"No field {name!r} ({flag}) in the records; fields: {shown}."
            )

    def values(field: str) -> list[Any]:
        return [row[field] for row in rows if row.get(field) is not None]

    numeric = [f for f in fields if values(f) and all(_is_number(v) for v in values(f))]
    if x is None:
        labels = [
            f for f in fields if f != y and values(f) and all(_is_label(v) for v in values(f))
        ]
        spare = [f for f in labels if y is not None or any(n != f for n in numeric)]
        if not (spare or labels):
            raise ChartError(
                "bad-data", f"No text or integer field to label the chart; fields: {shown}."
            )
        x = (spare or labels)[0]
    if y is None:
        candidates = [f for f in numeric if f != x]
        if not candidates:
            raise ChartError(
                "non-numeric", f"No numeric field to chart besides {x!r}; fields: {shown}."
            )
        y = candidates[0]
    if x == y:
        raise ChartError("bad-data", f"--x and --y are both {x!r}; pick two fields.")
    return x, y


def _records_caption(base: KnowledgeBase, operation: str, records: list[dict[str, Any]]) -> str:
    """ "Source: OP records from URI (requested at T); ..." naming each source once."""
    seen: dict[int, str] = {}
    for r in records:
        sid = int(r["source_id"])
        if sid not in seen:
            src = base.store.get_source(sid)
            uri = src.uri if src is not None else f"source {sid}"
            seen[sid] = f"{uri} (requested {r['requested_at']})"
    parts = list(seen.values())
    more = len(parts) - MAX_CAPTION_SOURCES
    listed = "; ".join(parts[:MAX_CAPTION_SOURCES]) + (f"; and {more} more" if more > 0 else "")
    return f"Source: {len(records)} {operation} records from {listed}"


# --------------------------------------------------------------------------- sources


def _source_rows(base: KnowledgeBase) -> tuple[list[dict[str, Any]], str, str, str, str]:
    from cairn.charts.render import ChartError

    found = base.sources()
    if not found:
        raise ChartError("empty-data", "No sources to chart: `cairn ingest PATH` adds some.")
    names = [_short(s.uri) for s in found]
    if len(set(names)) < len(names):  # two files with one name: show the full URIs
        names = [s.uri for s in found]
    rows = [{"source": n, "chunks": s.n_chunks} for n, s in zip(names, found, strict=True)]
    total = sum(s.n_chunks for s in found)
    caption = f"Source: the knowledge base's {len(found)} sources ({total} chunks in all)"
    return rows, "source", "chunks", caption, "Chunks per source"


def _short(uri: str) -> str:
    if "://" in uri:
        return uri
    return PurePosixPath(uri.replace("\\", "/")).name or uri


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_label(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
