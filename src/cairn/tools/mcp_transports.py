"""Bounded client transports for MCP servers (the official SDK's session runs over them).

- :func:`bounded_stdio`: starts the server command and reads its stdout with a cap on each
  message (the SDK's own stdio reader buffers a line of any length).
- :func:`guarded_http_client`: an ``httpx2`` client for the SDK's streamable HTTP transport
  whose every request passes :meth:`SafeHttpClient.check` (scheme, allow-list, private
  addresses, the same rules as OpenAPI tools), goes to the address that was checked, and whose
  response bodies are capped.

A transport that gives up records why in a :class:`Failure`, then closes the connection; the
caller raises that reason as a :class:`ToolError` once the session has ended.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import httpx2
import mcp.types as types
from mcp.shared.message import SessionMessage

from cairn.tools.errors import ToolError
from cairn.tools.http import HttpPolicy, SafeHttpClient

if TYPE_CHECKING:
    from mcp.client._transport import TransportStreams


STDERR_TAIL = 2000


@dataclass
class Failure:
    """The first reason a transport gave up (None while all is well)."""

    error: ToolError | None = None

    def set(self, code: str, message: str) -> None:
        if self.error is None:
            self.error = ToolError(code, message)


@asynccontextmanager
async def bounded_stdio(
    argv: Sequence[str], *, max_bytes: int, failure: Failure
) -> AsyncIterator[TransportStreams]:
    """Run ``argv`` and speak MCP over its stdin/stdout; a message over ``max_bytes`` (or a
    line that is not JSON-RPC) ends the connection."""
    try:
        process = await anyio.open_process(list(argv), stderr=subprocess.PIPE)
    except OSError as err:
        raise ToolError("mcp-connect-error", f"cannot start {argv[0]!r}: {err}") from err
    assert process.stdin and process.stdout and process.stderr
    stdin, stdout, stderr = process.stdin, process.stdout, process.stderr
    last_words = bytearray()  # the end of what the server wrote to stderr, for the message
    stderr_done = anyio.Event()
    read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](0)
    name = argv[0]

    async def read() -> None:
        buffer = bytearray()
        async with read_writer:
            try:
                async for chunk in stdout:
                    buffer += chunk
                    while (end := buffer.find(b"\n")) >= 0:
                        line = bytes(buffer[:end])
                        del buffer[: end + 1]
                        if not line.strip():
                            continue
                        try:
                            message = types.jsonrpc_message_adapter.validate_json(
                                line, by_name=False
                            )
                        except ValueError:
                            failure.set(
                                "mcp-protocol-error", f"{name} wrote a line that is not JSON-RPC"
                            )
                            return
                        await read_writer.send(SessionMessage(message))
                    if len(buffer) > max_bytes:
                        failure.set(
                            "mcp-too-large",
                            f"{name} sent a message over {max_bytes:,} bytes; nothing was kept",
                        )
                        return
            except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                return
            # End of output: say why before the session sees the connection close.
            with anyio.move_on_after(1):
                await stderr_done.wait()  # the server's last words
            lines = last_words.decode("utf-8", "replace").strip().splitlines()
            said = f": {lines[-1].strip()[:200]}" if lines else ""
            failure.set("mcp-closed", f"{name} closed the connection before answering{said}")

    async def drain_stderr() -> None:
        try:
            async for chunk in stderr:
                last_words.extend(chunk)
                del last_words[:-STDERR_TAIL]
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            pass
        finally:
            stderr_done.set()

    async def write() -> None:
        async with write_reader:
            async for message in write_reader:
                data = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                try:
                    await stdin.send((data + "\n").encode("utf-8"))
                except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                    failure.set("mcp-closed", f"{name} stopped reading its input")
                    await read_writer.aclose()
                    return

    async with anyio.create_task_group() as tg:
        tg.start_soon(read)
        tg.start_soon(write)
        tg.start_soon(drain_stderr)
        try:
            yield read_stream, write_stream
        finally:
            with anyio.CancelScope(shield=True):
                if process.returncode is None:
                    process.kill()
                with anyio.move_on_after(5):
                    await process.wait()
                await process.aclose()
            tg.cancel_scope.cancel()


def guarded_http_client(
    policy: HttpPolicy, *, failure: Failure, timeout: float
) -> httpx2.AsyncClient:
    """An ``httpx2.AsyncClient`` for the SDK's streamable HTTP transport, under ``policy``."""
    inner = httpx2.AsyncHTTPTransport(trust_env=False)
    return httpx2.AsyncClient(
        transport=_GuardedTransport(inner, policy, failure),
        trust_env=False,
        timeout=httpx2.Timeout(timeout, connect=policy.connect_timeout),
    )


class _GuardedTransport(httpx2.AsyncBaseTransport):
    """Checks and pins every request (see the module docstring); caps every body."""

    def __init__(
        self, inner: httpx2.AsyncBaseTransport, policy: HttpPolicy, failure: Failure
    ) -> None:
        self.inner = inner
        self.policy = policy
        self.checker = SafeHttpClient(policy)
        self.failure = failure

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        try:
            ip = self.checker.check(httpx.URL(str(url)))
        except ToolError as err:
            self.failure.set(err.code, err.message)
            raise
        host = url.host
        request.headers["Host"] = url.netloc.decode("ascii")
        if url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        request.url = url.copy_with(host=str(ip))
        response = await self.inner.handle_async_request(request)
        cap = self.policy.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            await response.aclose()
            message = f"{url} answered {int(declared):,} bytes, over {cap:,}; nothing was kept"
            self.failure.set("mcp-too-large", message)
            raise httpx2.ReadError(message, request=request)
        return httpx2.Response(
            response.status_code,
            headers=response.headers,
            stream=_CappedStream(response.stream, cap, self.failure, str(url)),
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, inner: Any, cap: int, failure: Failure, url: str) -> None:
        self.inner = inner
        self.cap = cap
        self.failure = failure
        self.url = url

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        async for part in self.inner:
            size += len(part)
            if size > self.cap:
                message = f"{self.url} sent over {self.cap:,} bytes; nothing was kept"
                self.failure.set("mcp-too-large", message)
                raise httpx2.ReadError(message)
            yield part

    async def aclose(self) -> None:
        await self.inner.aclose()
