"""Errors as JSON, the API key check, the body size limit and the catch-all handler.

Every error the server sends has one shape, which OpenAI clients also understand::

    {"error": {"code": "...", "message": "...", "type": "..."}}

The middlewares are plain ASGI (no ``BaseHTTPMiddleware``), so streamed bodies are counted as
they arrive and streamed responses are not buffered.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cairn.errors import CairnError, IngestError, ModelError, NotFoundError, StoreError

log = logging.getLogger("cairn.server")

PUBLIC_PATHS = frozenset({"/api/health"})

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    503: "service_unavailable",
}


class ApiError(Exception):
    """An error meant for the client: an HTTP status, a stable code and a message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.extra = extra  # more top-level keys for the error body, beside "error"


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"code": code, "message": message, "type": kind}}


def error_bytes(status: int, code: str, message: str) -> bytes:
    return json.dumps(error_body(status, code, message), ensure_ascii=False).encode("utf-8")


def status_for(err: CairnError) -> int:
    """The HTTP status for a library error: 4xx for what the client can fix."""
    if isinstance(err, NotFoundError) or err.code in ("unknown-source", "unknown-document"):
        return 404
    if err.code in ("too-large", "too-long"):
        return 413
    if isinstance(err, ModelError):
        # The server cannot load (503) or run (500) a model: not the client's to fix.
        return 500 if err.code.endswith("-failed") else 503
    if err.code in ("pg-connect", "pg-timeout"):
        return 503  # the database is away or overloaded: worth a retry later
    if isinstance(err, StoreError | IngestError):
        return 500
    return 400  # ConfigError, SearchError, AnswerError, AudioError, LoadError, ...


async def send_error(
    send: Send, status: int, code: str, message: str, *, close: bool = False
) -> None:
    """Send a JSON error; ``close``: then close the connection (the rest of a refused body
    is not read)."""
    body = error_bytes(status, code, message)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class CatchAll:
    """Outermost: an exception nobody handled is logged here with its traceback; the client
    gets a 500 with a generic message (never a stack trace)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await send_error(send, 500, "internal-error", "internal server error (logged)")


class RequireApiKey:
    """Every path but ``/api/health`` needs ``Authorization: Bearer KEY`` (constant-time)."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self._key = api_key.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        given = b""
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                given = value
                break
        scheme, _, token = given.partition(b" ")
        if not given:
            await send_error(
                send, 401, "missing-api-key", "send the API key as 'Authorization: Bearer KEY'"
            )
            return
        if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self._key):
            await send_error(send, 401, "invalid-api-key", "the API key is not valid")
            return
        await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413: by ``Content-Length`` up front, and by
    counting the bytes as they stream in (chunked uploads, or a lying header)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self) -> str:
        return f"the request body is larger than the limit of {self.max_bytes:,} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await send_error(send, 400, "bad-content-length", "invalid Content-Length")
                    return
                if declared > self.max_bytes:
                    await send_error(send, 413, "too-large", self._message(), close=True)
                    return
        state: MutableMapping[str, Any] = {"seen": 0, "over": False, "sent": False}

        async def counting() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > self.max_bytes:
                    state["over"] = True
                    raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            # Once the body is over the limit, whatever the app answers becomes one 413.
            if state["over"]:
                if not state["sent"]:
                    state["sent"] = True
                    await send_error(send, 413, "too-large", self._message(), close=True)
                return
            state["sent"] = state["sent"] or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, guarded)
        except Exception:
            if not state["over"]:
                raise
            if not state["sent"]:
                state["sent"] = True
                await send_error(send, 413, "too-large", self._message(), close=True)
