"""The app factory: one process, one knowledge base, models loaded on first use."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import cairn
from cairn import compose
from cairn.answer.span import SpanSource
from cairn.answer.verify import SupportModel
from cairn.errors import CairnError
from cairn.knowledge import KnowledgeBase
from cairn.models.stt import SpeechToText
from cairn.models.tts import TextToSpeech
from cairn.search.engine import SearchConfig
from cairn.server import native_api, openai_api, synthesis_api
from cairn.server.gate import BusyError
from cairn.server.security import (
    ApiError,
    BodyLimit,
    CatchAll,
    RequireApiKey,
    error_body,
    send_error,
    status_for,
)
from cairn.server.settings import ServerSettings, Services
from cairn.server.threads import limit_blas_threads

log = logging.getLogger("cairn.server")

STATIC_DIR = Path(__file__).parent / "static"
UI_PREFIX = "/ui"

_HTTP_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "too-large",
    415: "unsupported-media-type",
}


def create_app(
    settings: ServerSettings | None = None,
    *,
    kb: KnowledgeBase | None = None,
    stt: SpeechToText | None = None,
    tts: TextToSpeech | None = None,
    spans: SpanSource | None = None,
    support_model: SupportModel | None = None,
) -> FastAPI:
    """A FastAPI app serving one knowledge base.

    ``kb`` (and the models) may be given, e.g. with fake models in tests; otherwise the
    knowledge base named by ``settings.kb`` is opened now and closed at shutdown.
    """
    settings = settings or ServerSettings()
    owns_kb = kb is None
    # One thread per model call (see threads.py): numpy's BLAS process-wide, the query
    # encoder of a knowledge base opened here, Whisper when it loads.
    limit_blas_threads(settings.model_threads)
    base = (
        kb
        if kb is not None
        else compose.open(
            settings.kb,
            threads=settings.model_threads,
            search_config=SearchConfig(cache_query_vectors=True),
        )
    )
    services = Services(
        settings,
        base,
        stt=stt,
        tts=tts,
        spans=spans,
        support_model=support_model,
        owns_kb=owns_kb,
    )

    mcp_running: Callable[[], AbstractAsyncContextManager[None]] | None = None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if mcp_running is None:
            yield
        else:
            async with mcp_running():  # the MCP endpoint's sessions
                yield
        services.close()

    app = FastAPI(
        title="Cairn",
        version=cairn.__version__,
        description="Grounded, cited answers from your own documents; "
        "OpenAI-compatible endpoints under /v1, Cairn's own under /api.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.include_router(native_api.router)
    app.include_router(openai_api.router)
    app.include_router(synthesis_api.router)
    mcp_running = _mount_mcp(app, services)
    _add_error_handlers(app)
    # Added innermost first: CatchAll > CORS > API key > body limit > the app.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.api_key:
        app.add_middleware(RequireApiKey, api_key=settings.api_key)
    # Outside the key check: the page itself holds no data; it asks for the key.
    app.add_middleware(WebUI)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(CatchAll)
    return app


def _mount_mcp(
    app: FastAPI, services: Services
) -> Callable[[], AbstractAsyncContextManager[None]] | None:
    """The MCP endpoint at ``/mcp`` (docs/mcp.md); None when the mcp extra is missing."""
    try:
        import mcp  # noqa: F401
    except ImportError:
        log.info("no MCP endpoint at /mcp: pip install 'cairn[mcp]'")
        return None
    from cairn.mcp.http import mount_mcp

    return mount_mcp(app, services)


class WebUI:
    """Serves the browser UI: ``GET /`` is ``static/index.html``, ``/ui/<file>`` the rest.

    Plain files, no build step; every request for data still goes through the API (and its
    key check), so the page needs no key to load."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.files = StaticFiles(directory=STATIC_DIR, html=True, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope.get("method") in ("GET", "HEAD") and (
            path == "/" or path.startswith(UI_PREFIX + "/")
        ):
            inner = path[len(UI_PREFIX) :] if path != "/" else "/"
            scope = {**scope, "path": inner, "root_path": ""}
            try:
                await self.files(scope, receive, _ui_headers(send))
            except StarletteHTTPException as err:
                code = _HTTP_CODES.get(err.status_code, "error")
                await send_error(send, err.status_code, code, str(err.detail))
            return
        await self.app(scope, receive, send)


def _ui_headers(send: Send) -> Send:
    """No caching (the page changes with the server) and a strict content security policy."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers += [
                (b"cache-control", b"no-cache"),
                (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"no-referrer"),
                (
                    b"content-security-policy",
                    b"default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                    b"style-src 'self'; script-src 'self'; connect-src 'self'; "
                    b"frame-ancestors 'none'",
                ),
            ]
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


def _json_error(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    body = (extra or {}) | error_body(status, code, message)
    return JSONResponse(body, status_code=status, headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, err: ApiError) -> JSONResponse:
        return _json_error(err.status, err.code, err.message, err.headers, err.extra)

    @app.exception_handler(CairnError)
    async def cairn_error(_: Request, err: CairnError) -> JSONResponse:
        status = status_for(err)
        if isinstance(err, BusyError):  # a full queue, not a failure: the client retries
            return _json_error(503, err.code, err.message, {"Retry-After": str(err.retry_after)})
        if status >= 500:
            log.error("%s: %s", err.code, err.message)
        return _json_error(status, err.code, err.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        errors = err.errors()
        bad_json = [e for e in errors if e.get("type") == "json_invalid"]
        if bad_json:
            ctx = bad_json[0].get("ctx") or {}
            detail = f": {ctx['error']}" if "error" in ctx else ""
            return _json_error(400, "invalid-json", f"the request body is not valid JSON{detail}")
        problems = []
        for e in errors[:10]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            problems.append(f"{where}: {e.get('msg', 'invalid')}")
        return _json_error(422, "invalid-request", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, err: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(err.status_code, "error" if err.status_code < 500 else "internal")
        message = str(err.detail) if err.status_code < 500 else "internal server error"
        return _json_error(err.status_code, code, message)
