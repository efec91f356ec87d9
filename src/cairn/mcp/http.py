"""The MCP server over streamable HTTP, mounted at ``/mcp`` inside ``cairn serve``.

The route sits inside the FastAPI app, so the server's middleware applies to it as to every
other path: the API key (``Authorization: Bearer KEY`` when the server has one), the body
limit, and the catch-all that never shows a traceback. On a loopback bind the SDK's DNS
rebinding protection also checks the Host and Origin headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from cairn.server.settings import Services

MCP_PATH = "/mcp"


def mount_mcp(app: FastAPI, services: Services) -> Callable[[], AbstractAsyncContextManager[None]]:
    """Add the ``/mcp`` route to ``app``; return the context manager the app's lifespan must
    enter (it runs the SDK's session manager)."""
    from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
    from starlette.routing import Route

    from cairn.mcp.server import build_server

    server = build_server(services.kb, spans=services.spans, support_model=services.support_model)
    server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        host=services.settings.host,
    )
    manager = server.session_manager
    app.router.routes.append(Route(MCP_PATH, endpoint=StreamableHTTPASGIApp(manager)))

    @asynccontextmanager
    async def running() -> AsyncIterator[None]:
        async with manager.run():
            yield

    return running
