"""A small MCP server written with the official SDK, for the tests: ``python mcp_fake_server.py``
serves over stdio; ``python mcp_fake_server.py --http PORT`` over streamable HTTP on loopback.

Tools: ``tide_table`` (rows as structured content), ``shout`` (plain text), ``hang`` (never
answers), ``huge`` (a 100 MB result), ``crash`` (the process dies mid-call), ``refuse`` (an
error result).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from mcp.server.mcpserver import MCPServer

server: MCPServer[Any] = MCPServer("harbour", log_level="ERROR")
HUGE_BYTES = 100_000_000


@server.tool(structured_output=True)
def tide_table(port: str, days: int = 3) -> dict[str, Any]:
    """High tides at a port, one row per day."""
    rows = [{"port": port, "day": d + 1, "high_tide_m": 4.0 + 0.25 * d} for d in range(days)]
    return {"port": port, "tides": rows}


@server.tool()
def shout(text: str) -> str:
    """The text in capitals."""
    return text.upper()


@server.tool()
def hang(seconds: float = 3600.0) -> str:
    """Never answers (in time)."""
    time.sleep(seconds)
    return "late"


@server.tool()
def huge() -> str:
    """A 100 MB answer."""
    return "x" * HUGE_BYTES


@server.tool()
def crash() -> str:
    """Dies without answering: the connection drops."""
    sys.stdout.flush()
    os._exit(3)


@server.tool()
def refuse() -> str:
    """Always fails."""
    raise ValueError("the harbour office is closed")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        import uvicorn

        app = server.streamable_http_app(json_response=True)
        uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="error")
    else:
        server.run("stdio")
