"""cairn tools: add-openapi, list, call, records."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

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
    from cairn.tools.registry import ApiTool

tools_app = typer.Typer(
    help="API tools: import OpenAPI 3 documents, call their operations, keep the results.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(tools_app, name="tools")


def _tool_json(t: ApiTool) -> dict[str, Any]:
    return {
        "name": t.name,
        "title": t.spec.title,
        "base_url": t.base_url,
        "allowed_hosts": list(t.allowed_hosts),
        "private_hosts": list(t.private_hosts),
        "operations": [
            {
                "operation_id": o.operation_id,
                "method": o.method,
                "path": o.path,
                "summary": o.summary,
                "params": [
                    {"name": p.name, "in": p.location, "type": p.type, "required": p.required}
                    | ({"enum": list(p.enum)} if p.enum is not None else {})
                    for p in o.params
                ],
            }
            for o in t.spec.operations.values()
        ],
        "skipped": list(t.spec.skipped),
    }


@tools_app.command("add-openapi")
def add_openapi_command(
    spec: Annotated[Path, typer.Argument(help="An OpenAPI 3 document (.json, .yaml or .yml).")],
    allow_host: Annotated[
        list[str],
        typer.Option("--allow-host", help="A host calls may reach (repeat for more)."),
    ],
    name: Annotated[
        str | None, typer.Option(help="Tool name (default: the API title in snake_case).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="Where the API lives, if not in the document's servers.")
    ] = None,
    allow_private: Annotated[
        bool,
        typer.Option(
            "--allow-private",
            help="Approve the API's own host and port although it is a private or loopback "
            "address (a service on this machine or LAN); naming a literal private address "
            "in --allow-host does the same.",
        ),
    ] = False,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Import an OpenAPI 3 document as a tool (its GET and POST operations)."""
    from cairn.tools.openapi import load_document
    from cairn.tools.registry import add_openapi

    with errors_as_messages(), open_kb(kb) as base:
        tool = add_openapi(
            base.store,
            load_document(spec),
            allowed_hosts=allow_host,
            name=name,
            base_url=base_url,
            allow_private=True if allow_private else None,
        )
    if json_out:
        print_json(_tool_json(tool))
        return
    console.print(
        f"added tool [bold]{escape(tool.name)}[/] ({len(tool.spec.operations)} operations at "
        f"{escape(tool.base_url)}): {escape(', '.join(tool.spec.operations))}",
        highlight=False,
    )
    if tool.spec.skipped:
        console.print(f"[yellow]skipped[/] {escape(', '.join(tool.spec.skipped))} (GET/POST only)")
    if tool.private_hosts:
        console.print(f"approved private address: {escape(', '.join(tool.private_hosts))}")
    from cairn.command.operations import usability_notes

    for line in usability_notes(tool):
        console.print(f"[yellow]note[/] {escape(line)}", highlight=False)


@tools_app.command("list")
def list_command(kb: KbOption = None, json_out: JsonOption = False) -> None:
    """List imported tools and their operations."""
    from cairn.cli.mcp_commands import server_json
    from cairn.tools.mcp_client import list_mcp_servers
    from cairn.tools.registry import list_api_tools

    with errors_as_messages(), open_kb(kb) as base:
        tools = list_api_tools(base.store)
        servers = list_mcp_servers(base.store)
    if json_out:
        for t in tools:
            print_json(_tool_json(t))
        for s in servers:
            print_json(server_json(s))
        return
    if not tools and not servers:
        console.print("no tools yet: add one with `cairn tools add-openapi SPEC --allow-host H`")
        return
    table = Table("tool", "operation", "method", "path", "parameters")
    for t in tools:
        for o in t.spec.operations.values():
            params = ", ".join(f"{p.name}{'' if p.required else '?'}:{p.type}" for p in o.params)
            table.add_row(t.name, o.operation_id, o.method, o.path, params)
    for s in servers:  # MCP servers (cairn tools add-mcp)
        for m in s.tools:
            props = m.input_schema.get("properties") or {}
            need = set(m.input_schema.get("required") or [])
            params = ", ".join(
                f"{k}{'' if k in need else '?'}:{(v or {}).get('type', 'any')}"
                for k, v in props.items()
            )
            table.add_row(s.name, m.name, "MCP", escape(s.where), params)
    console.print(table)


def _parse_params(pairs: list[str]) -> dict[str, str]:
    from cairn.tools.errors import ToolError

    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ToolError("api-bad-params", f"parameter {pair!r}: write it as key=value")
        out[key.strip()] = value
    return out


@tools_app.command("call")
def call_command(
    tool: Annotated[str, typer.Argument(help="Tool name (see `cairn tools list`).")],
    operation: Annotated[str, typer.Argument(help="operationId (or its snake_case form).")],
    params: Annotated[
        list[str] | None, typer.Argument(help="Parameters as key=value.", show_default=False)
    ] = None,
    chart: Annotated[
        Path | None, typer.Option(help="Also draw the rows as a chart (a .png or .svg path).")
    ] = None,
    allow_private: Annotated[
        bool,
        typer.Option(
            "--allow-private", help="Allow the API's own private or loopback address for this call."
        ),
    ] = False,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 20.0,
    max_mb: Annotated[float, typer.Option(help="Refuse answers larger than this (MB).")] = 5.0,
    remember: Annotated[
        bool, typer.Option("--remember/--no-remember", help="Store the rows as records.")
    ] = True,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Call an operation; its rows are stored as searchable records (with provenance)."""
    if not (math.isfinite(max_mb) and max_mb > 0):
        fail(f"--max-mb {max_mb}: give a number of megabytes over 0")
    if not (math.isfinite(timeout) and timeout > 0):
        fail(f"--timeout {timeout}: give a number of seconds over 0")

    from cairn.tools.registry import call_api

    with errors_as_messages(), open_kb(kb) as base:
        result = call_api(
            base,
            tool,
            operation,
            _parse_params(params or []),
            allow_private=allow_private,
            timeout=timeout,
            max_bytes=int(max_mb * 1_000_000),
            remember=remember,
        )
        charts: list[Path] = []
        if chart is not None:
            from cairn.charts import render_chart

            suffix = chart.suffix.lower().lstrip(".")
            charts = render_chart(
                result.rows,
                kind=None,
                title=f"{result.tool} {result.operation}",
                out=chart,
                caption=f"Source: {result.request['url']} ({result.requested_at})",
                formats=(suffix,) if suffix in ("png", "svg") else ("png", "svg"),
            )
    if json_out:
        print_json(
            {
                "tool": result.tool,
                "operation": result.operation,
                "rows": result.rows,
                "request": result.request,
                "requested_at": result.requested_at,
                "source": result.source.uri if result.source else None,
                "source_id": result.source.id if result.source else None,
                "charts": [str(p) for p in charts],
            }
        )
        return
    console.print(_rows_table(result.rows))
    where = f"; stored as {result.source.uri}" if result.source else ""
    console.print(f"[dim]{len(result.rows)} rows from {escape(result.request['url'])}{where}[/]")
    for p in charts:
        console.print(f"chart: {p}")


def _rows_table(rows: list[dict[str, Any]], limit: int = 50) -> Table:
    columns: list[str] = []
    for r in rows[:limit]:
        columns.extend(k for k in r if k not in columns)
    table = Table(*columns) if columns else Table("(no columns)")
    for r in rows[:limit]:
        table.add_row(*(escape(str(r.get(c, ""))) for c in columns))
    if len(rows) > limit:
        table.caption = f"{len(rows) - limit} more rows"
    return table


@tools_app.command("records")
def records_command(
    operation: Annotated[
        str | None, typer.Argument(help="Only this tool.operation.", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many records.")] = 1000,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Show stored records (rows from earlier calls)."""
    if limit < 0:
        fail("--limit must be 0 or more")
    with errors_as_messages(), open_kb(kb) as base:
        records = base.store.list_records(operation, limit)
    if json_out:
        for r in records:
            print_json(r)
        return
    if not records:
        console.print("no records yet: `cairn tools call TOOL OPERATION` makes some")
        return
    console.print(_rows_table([r["data"] for r in records], limit=limit))
