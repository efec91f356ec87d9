"""MCP servers as tools for Cairn: add one (a stdio command or an HTTP URL), call its tools.

An MCP server is stored in the same tool catalogue as OpenAPI documents, under its own name,
with the tools it listed when it was added (name, description, input schema). A call binds the
parameters to the tool's input schema (before anything is sent), opens a session with the
official SDK over a bounded transport (:mod:`cairn.tools.mcp_transports`), calls the tool
within ``timeout`` seconds, and stores the result's rows as records of a new source
``api://<server>/<tool>/<UTC time>`` in one transaction, like the rows of an API call; nothing
is stored when any step fails.

Codes (:class:`ToolError`): ``mcp-bad-server`` (a server Cairn cannot add), ``api-bad-params``,
``api-unknown-operation``, ``api-blocked-host``, ``mcp-connect-error``, ``mcp-closed`` (the
connection dropped), ``mcp-timeout``, ``mcp-too-large``, ``mcp-protocol-error``,
``mcp-tool-error`` (the tool reported a failure).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cairn.errors import NotFoundError
from cairn.kb.protocol import Store
from cairn.kb.records import StoredTool
from cairn.tools.errors import ToolError
from cairn.tools.http import DEFAULT_MAX_BYTES, HttpPolicy, endpoint
from cairn.tools.registry import (
    MAX_ROWS,
    MCP_KEY,
    RECORDS_COLLECTION,
    ApiResult,
    check_tool_name,
    is_mcp_tool,
    rows_from_json,
    snake,
    store_rows,
)

if TYPE_CHECKING:
    from mcp import Client

    from cairn.knowledge import KnowledgeBase
    from cairn.tools.mcp_transports import Failure


@dataclass(frozen=True)
class McpToolSpec:
    """One tool an MCP server offers."""

    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class McpServer:
    """A stored MCP server: ``command`` (stdio) or ``url`` (streamable HTTP)."""

    name: str
    command: tuple[str, ...]
    url: str | None
    allowed_hosts: tuple[str, ...]
    tools: tuple[McpToolSpec, ...]
    saved_at: str = ""
    private_hosts: tuple[str, ...] = ()  # "host:port" of its private URL, approved by the owner

    @property
    def where(self) -> str:
        return self.url or "stdio:" + shlex.join(self.command)

    def tool(self, name: str) -> McpToolSpec:
        wanted = snake(name)
        for t in self.tools:
            if name == t.name or snake(t.name) == wanted:
                return t
        raise ToolError(
            "api-unknown-operation",
            f"MCP server {self.name!r} has no tool {name!r}; it has: "
            + ", ".join(t.name for t in self.tools),
        )


def _server(stored: StoredTool) -> McpServer:
    cfg = json.loads(stored.spec_json)[MCP_KEY]
    tools = tuple(
        McpToolSpec(t["name"], t.get("description") or "", dict(t.get("input_schema") or {}))
        for t in cfg.get("tools", [])
    )
    return McpServer(
        stored.name,
        tuple(cfg.get("command") or ()),
        cfg.get("url"),
        stored.allowed_hosts,
        tools,
        stored.saved_at,
        stored.private_hosts,
    )


def get_mcp_server(store: Store, name: str) -> McpServer | None:
    stored = store.get_tool(name)
    return _server(stored) if stored is not None and is_mcp_tool(stored) else None


def list_mcp_servers(store: Store) -> list[McpServer]:
    return [_server(t) for t in store.list_tools() if is_mcp_tool(t)]


# -- adding -----------------------------------------------------------------------------------
def add_mcp(
    store: Store,
    name: str,
    *,
    command: Sequence[str] | str | None = None,
    url: str | None = None,
    allowed_hosts: Collection[str] = (),
    allow_private: bool | Collection[str] = False,
    timeout: float = 20.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> McpServer:
    """Connect to the server, list its tools, and store it as tool ``name``.

    ``allow_private=True`` approves the URL's own private or loopback ``host:port``; the
    approval is stored with the server and honoured by every later call (CLI, voice, server).
    """
    check_tool_name(name)
    argv = tuple(shlex.split(command) if isinstance(command, str) else command or ())
    if bool(argv) == bool(url):
        raise ToolError("mcp-bad-server", "give a command (stdio) or a URL (HTTP), one of them")
    hosts: tuple[str, ...] = ()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ToolError("mcp-bad-server", f"{url!r} is not an http(s) URL")
        hosts = tuple(sorted({h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip()}))
        if parts.hostname.lower() not in hosts:
            raise ToolError(
                "mcp-bad-server",
                f"the server lives at {parts.hostname}, which is not among the allowed hosts "
                f"({', '.join(hosts) or 'none'}); add --allow-host {parts.hostname}",
            )
    private: tuple[str, ...] = ()
    if url and allow_private is True:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        private = (endpoint(parts.hostname or "", port),)
    draft = McpServer(name, argv, url, hosts, (), private_hosts=private)
    listed = _run(draft, _list_tools, allow_private, timeout, max_bytes)
    if not listed:
        raise ToolError("mcp-bad-server", f"{draft.where} offers no tools")
    cfg = {
        "transport": "http" if url else "stdio",
        "command": list(argv),
        "url": url,
        "tools": [
            {"name": t.name, "description": t.description, "input_schema": t.input_schema}
            for t in listed
        ],
    }
    base = url or "stdio:" + shlex.join(argv)
    stored = store.save_tool(
        name, json.dumps({MCP_KEY: cfg}), list(hosts), base, private_hosts=list(private)
    )
    return _server(stored)


async def _list_tools(client: Client, _: Any) -> list[McpToolSpec]:
    result = await client.list_tools()
    return [
        McpToolSpec(t.name, t.description or "", dict(t.input_schema or {})) for t in result.tools
    ]


# -- calling ----------------------------------------------------------------------------------
def bind_params(tool: McpToolSpec, params: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for ``tool`` from ``params``: strings become the schema's types, a free-text
    ``q`` goes to the one required text parameter, and the result must pass the schema."""
    import jsonschema

    props: dict[str, Any] = tool.input_schema.get("properties") or {}
    required = list(tool.input_schema.get("required") or [])
    args = dict(params)
    if "q" in args and "q" not in props:
        texts = [p for p in required if (props.get(p) or {}).get("type") == "string"]
        if len(texts) == 1 and texts[0] not in args:
            args[texts[0]] = args.pop("q")
    for key, value in list(args.items()):
        kind = (props.get(key) or {}).get("type")
        if isinstance(value, str):
            args[key] = _coerce(tool.name, key, value, kind)
    problems = sorted(
        jsonschema.Draft202012Validator(tool.input_schema).iter_errors(args),
        key=lambda e: list(e.path),
    )
    if problems:
        where = ".".join(str(p) for p in problems[0].path) or "arguments"
        raise ToolError("api-bad-params", f"{tool.name}: {where}: {problems[0].message}")
    return args


def _coerce(tool: str, key: str, value: str, kind: Any) -> Any:
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean" and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        if kind in ("array", "object"):
            return json.loads(value)
    except ValueError as err:
        raise ToolError("api-bad-params", f"{tool}: {key}: {value!r} is not a {kind}") from err
    return value


def call_mcp(
    kb: KnowledgeBase,
    server: str | McpServer,
    tool: str,
    params: Mapping[str, Any] | None = None,
    *,
    allow_private: bool | Collection[str] = False,
    timeout: float = 20.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    collection: str = RECORDS_COLLECTION,
    remember: bool = True,
    **_: Any,
) -> ApiResult:
    """Call ``tool`` on ``server`` and store its rows (unless ``remember`` is False)."""
    srv = server if isinstance(server, McpServer) else get_mcp_server(kb.store, server)
    if srv is None:
        raise NotFoundError("unknown-tool", f"no MCP server named {server!r}")
    spec = srv.tool(tool)
    args = bind_params(spec, params or {})
    now = datetime.now(UTC)

    async def call(client: Client, _: Any) -> Any:
        return await client.call_tool(spec.name, args)

    result = _run(srv, call, allow_private, timeout, max_bytes)
    if result.is_error:
        text = " ".join(_texts(result)).strip() or "no message"
        raise ToolError("mcp-tool-error", f"{srv.name}.{spec.name} failed: {text[:300]}")
    rows = _rows(result)
    if len(rows) > MAX_ROWS:
        raise ToolError("mcp-too-large", f"{len(rows)} rows; at most {MAX_ROWS} are kept")
    requested_at = now.isoformat(timespec="microseconds")
    request = {
        "tool": srv.name,
        "operation": spec.name,
        "method": "MCP tools/call",
        "url": srv.url or srv.where,
        "params": args,
    }
    source = (
        store_rows(kb, srv.name, spec.name, request, rows, requested_at, collection)
        if remember
        else None
    )
    return ApiResult(srv.name, spec.name, rows, source, request, requested_at)


def _texts(result: Any) -> list[str]:
    return [str(c.text) for c in result.content if getattr(c, "type", "") == "text"]


def _rows(result: Any) -> list[dict[str, Any]]:
    """Rows from a tool result: its structured content, else JSON text, else text lines."""
    structured = result.structured_content
    if structured is not None:
        if isinstance(structured, dict) and set(structured) == {"result"}:
            structured = structured["result"]  # the SDK wraps a non-object return value
        return rows_from_json(structured)
    rows: list[dict[str, Any]] = []
    for text in _texts(result):
        try:
            rows.extend(rows_from_json(json.loads(text)))
        except ValueError:
            rows.append({"text": text})
    return rows


def _run(
    srv: McpServer,
    action: Any,
    allow_private: bool | Collection[str],
    timeout: float,
    max_bytes: int,
) -> Any:
    """Open a session with ``srv``, run ``action(client, srv)`` within ``timeout`` seconds."""
    import anyio

    from cairn.tools.mcp_extra import require_mcp

    require_mcp()
    from cairn.tools.mcp_transports import Failure

    failure = Failure()
    try:
        return anyio.run(_session, srv, action, allow_private, timeout, max_bytes, failure)
    except ToolError:
        raise
    except TimeoutError as err:
        raise ToolError(
            "mcp-timeout", f"{srv.where}: no answer within {timeout:g} s; nothing was kept"
        ) from err
    except Exception as err:  # the SDK's errors, flattened to one line
        if failure.error is not None:
            raise failure.error from err
        message = " ".join(_message(err).split())[:300]
        raise ToolError("mcp-connect-error", f"{srv.where}: {message}") from err


def _message(err: BaseException) -> str:
    if isinstance(err, BaseExceptionGroup):
        return "; ".join(_message(e) for e in err.exceptions)
    return str(err) or type(err).__name__


async def _session(
    srv: McpServer,
    action: Any,
    allow_private: bool | Collection[str],
    timeout: float,
    max_bytes: int,
    failure: Failure,
) -> Any:
    import anyio
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from cairn.tools.mcp_transports import bounded_stdio, guarded_http_client

    transport: Any
    if srv.url:
        if allow_private is not True:  # what the owner approved at add-mcp, plus this call's
            allow_private = {*srv.private_hosts, *(allow_private or ())}
        policy = HttpPolicy.make(
            srv.allowed_hosts,
            allow_private=allow_private,
            total_timeout=timeout,
            max_bytes=max_bytes,
        )
        http = guarded_http_client(policy, failure=failure, timeout=timeout)
        transport = streamable_http_client(srv.url, http_client=http, max_sse_event_size=max_bytes)
    else:
        http = None
        transport = bounded_stdio(srv.command, max_bytes=max_bytes, failure=failure)
    try:
        with anyio.fail_after(timeout):
            async with Client(transport, read_timeout_seconds=timeout) as client:
                out = await action(client, srv)
    except TimeoutError:
        raise
    except Exception as err:
        if failure.error is not None:
            raise failure.error from err
        raise
    finally:
        if http is not None:
            await http.aclose()
    if failure.error is not None and failure.error.code != "mcp-closed":
        raise failure.error
    return out


def call_mcp_command(
    kb: KnowledgeBase, server: str, tool: str, params: Mapping[str, Any], **options: Any
) -> ApiResult:
    """A ``call_api`` command on an MCP server: ``tool`` may be empty when it has one tool."""
    srv = get_mcp_server(kb.store, server)
    if srv is None:
        raise NotFoundError("unknown-tool", f"no MCP server named {server!r}")
    if not tool:
        if len(srv.tools) != 1:
            raise ToolError(
                "api-unknown-operation",
                f"MCP server {server!r} has several tools; name one: "
                + ", ".join(f"{server}.{t.name}" for t in srv.tools),
            )
        tool = srv.tools[0].name
    return call_mcp(kb, srv, tool, params, **options)
