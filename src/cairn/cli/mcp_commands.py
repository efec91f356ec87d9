"""cairn mcp (the knowledge base as an MCP server over stdio), cairn tools add-mcp."""

from __future__ import annotations

from typing import Annotated, Any

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


def register(app: typer.Typer) -> None:
    from cairn.cli.tools_commands import tools_app

    app.command("mcp")(mcp_command)
    tools_app.command("add-mcp")(add_mcp_command)


def mcp_command(kb: KbOption = None) -> None:
    """Serve the knowledge base to an MCP client (a desktop assistant, an IDE) over
    stdin/stdout: tools search, ask, synthesize, sources, forget; sources and documents as
    resources. See docs/mcp.md for a client configuration."""
    from cairn.tools.mcp_extra import require_mcp

    with errors_as_messages():
        require_mcp()
        from cairn.mcp.server import run_stdio

        with open_kb(kb) as base:
            run_stdio(base)


def add_mcp_command(
    name: Annotated[str, typer.Argument(help="Tool name: lowercase letters, digits and _.")],
    command: Annotated[
        str | None,
        typer.Option(help="Start the server with this command line and talk over stdio."),
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="The server's streamable HTTP endpoint, e.g. .../mcp.")
    ] = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option("--allow-host", help="With --url: a host calls may reach (repeat)."),
    ] = None,
    allow_private: Annotated[
        bool,
        typer.Option(
            "--allow-private",
            help="Approve --url's own private or loopback address (kept with the server).",
        ),
    ] = False,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 20.0,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Add an MCP server as a tool: Cairn connects, lists its tools and keeps them; call them
    with `cairn tools call NAME TOOL key=value` or by asking `cairn voice`."""
    from cairn.tools.mcp_client import add_mcp

    if (command is None) == (url is None):
        fail("give --command (a stdio server) or --url (an HTTP server), one of them")
    with errors_as_messages(), open_kb(kb) as base:
        server = add_mcp(
            base.store,
            name,
            command=command,
            url=url,
            allowed_hosts=allow_host or (),
            allow_private=allow_private,
            timeout=timeout,
        )
    if json_out:
        print_json(server_json(server))
        return
    console.print(
        f"added MCP server [bold]{escape(server.name)}[/] ({escape(server.where)}) with "
        f"{len(server.tools)} tools: {escape(', '.join(t.name for t in server.tools))}",
        highlight=False,
    )


def server_json(server: Any) -> dict[str, Any]:
    return {
        "name": server.name,
        "kind": "mcp",
        "where": server.where,
        "allowed_hosts": list(server.allowed_hosts),
        "tools": [
            {"name": t.name, "description": t.description, "input_schema": t.input_schema}
            for t in server.tools
        ],
    }
