"""API tools kept in the knowledge base, and ``call_api``: check, call, remember.

:func:`add_openapi` stores an OpenAPI 3 document with the hosts it may reach.
:func:`call_api` binds parameters to an operation (errors before any request), calls it with
:class:`~cairn.tools.http.SafeHttpClient`, turns the JSON into rows, and stores them as records
of a new source ``api://<tool>/<operation>/<UTC time>`` with a searchable, embedded document,
so the rows can be searched, cited, charted and forgotten like any other source.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cairn.errors import NotFoundError
from cairn.kb.protocol import Store
from cairn.kb.records import StoredTool, records_document
from cairn.kb.types import Provenance, Source
from cairn.tools.errors import ToolError
from cairn.tools.http import DEFAULT_MAX_BYTES, HttpPolicy, SafeHttpClient, endpoint, is_public
from cairn.tools.openapi import ApiSpec, Operation, bind, parse_spec

if TYPE_CHECKING:
    import httpx

    from cairn.command.model import Command
    from cairn.knowledge import KnowledgeBase

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_ROWS = 10_000
RECORDS_COLLECTION = "api"
MCP_KEY = "x-cairn-mcp"  # marks an MCP server in the tool catalogue (tools/mcp_client.py)


@dataclass(frozen=True)
class ApiTool:
    name: str
    spec: ApiSpec
    allowed_hosts: tuple[str, ...]
    saved_at: str = ""
    private_hosts: tuple[str, ...] = ()  # "host:port" at private addresses the owner approved

    @property
    def base_url(self) -> str:
        return self.spec.base_url

    def operation(self, name: str) -> Operation:
        """An operation by operationId, or by its snake_case form (``listSeries`` = list_series)."""
        ops = self.spec.operations
        if name in ops:
            return ops[name]
        wanted = snake(name)
        for op_id, op in ops.items():
            if snake(op_id) == wanted:
                return op
        raise ToolError(
            "api-unknown-operation",
            f"tool {self.name!r} has no operation {name!r}; it has: {', '.join(sorted(ops))}",
        )


@dataclass(frozen=True)
class ApiResult:
    tool: str
    operation: str  # the operationId
    rows: list[dict[str, Any]]
    source: Source | None  # None when not remembered
    request: dict[str, Any]  # method, url, params, status, redirects
    requested_at: str


def snake(name: str) -> str:
    """``listSeries`` / ``List-Series`` -> ``list_series``."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


# -- the tool catalogue -----------------------------------------------------------------------
def add_openapi(
    store: Store,
    document: Mapping[str, Any],
    *,
    allowed_hosts: Collection[str],
    name: str | None = None,
    base_url: str | None = None,
    allow_private: bool | None = None,
) -> ApiTool:
    """Check ``document`` and store it as tool ``name`` (default: its title in snake_case).

    Private and loopback addresses stay refused unless the owner approves the API's own
    ``host:port`` here: ``allow_private=True``, or (the default, ``None``) by naming the
    API's host as a literal private address in ``allowed_hosts`` (``127.0.0.1``,
    ``192.168.1.20``). The approval is stored with the tool and honoured wherever it is called
    (CLI, voice, server, chat); redirects elsewhere stay refused. ``False`` approves nothing.
    """
    spec = parse_spec(document, base_url=base_url)
    tool_name = name if name is not None else snake(spec.title)
    check_tool_name(tool_name)
    hosts = sorted({h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip()})
    if not hosts:
        raise ToolError("api-bad-spec", "give at least one allowed host (--allow-host)")
    base_host = (urlsplit(spec.base_url).hostname or "").lower()
    if base_host not in hosts:
        raise ToolError(
            "api-bad-spec",
            f"the API lives at {base_host}, which is not among the allowed hosts "
            f"({', '.join(hosts)}); add --allow-host {base_host}",
        )
    private: list[str] = []
    if allow_private or (allow_private is None and _literal_private(base_host)):
        parts = urlsplit(spec.base_url)
        private.append(endpoint(base_host, parts.port or (443 if parts.scheme == "https" else 80)))
    stored = store.save_tool(
        tool_name, json.dumps(dict(document)), hosts, spec.base_url, private_hosts=private
    )
    return _tool(stored)


def _literal_private(host: str) -> bool:
    try:
        return not is_public(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return False  # a name: what it resolves to may change, so naming it approves nothing


def check_tool_name(name: str) -> None:
    if not _NAME.match(name):
        raise ToolError(
            "api-bad-spec",
            f"tool name {name!r}: use lowercase letters, digits and _, starting with a letter",
        )


def is_mcp_tool(stored: StoredTool) -> bool:
    """True for an MCP server stored by ``cairn tools add-mcp`` (not an OpenAPI document)."""
    return MCP_KEY in stored.spec_json[:64]


# -- tool types ---------------------------------------------------------------------------------
# A tool that is not an OpenAPI document is stored in the same catalogue with a marker near the
# start of its ``spec_json`` (a JSON object whose first key is the marker, like MCP_KEY), and is
# called through the function registered for that marker: (knowledge base, tool name, operation
# name or "", parameters, the options of call_command) -> ApiResult.
ToolCall = Callable[..., "ApiResult"]
_TOOL_TYPES: dict[str, ToolCall] = {}


def register_tool_type(marker: str, call: ToolCall) -> None:
    """Call the stored tools whose ``spec_json`` starts with ``{"<marker>": ...`` through
    ``call`` (instead of as OpenAPI operations); see docs/architecture.md."""
    _TOOL_TYPES[marker] = call


def tool_type(stored: StoredTool) -> str | None:
    """The registered marker of ``stored``, or None for an OpenAPI tool."""
    head = stored.spec_json[:64]
    return next((marker for marker in _TOOL_TYPES if marker in head), None)


def _call_mcp(
    kb: KnowledgeBase, name: str, operation: str, params: dict[str, Any], **options: Any
) -> ApiResult:
    from cairn.tools.mcp_client import call_mcp_command

    return call_mcp_command(kb, name, operation, params, **options)


register_tool_type(MCP_KEY, _call_mcp)


def _tool(stored: StoredTool) -> ApiTool:
    spec = parse_spec(json.loads(stored.spec_json), base_url=stored.base_url)
    return ApiTool(stored.name, spec, stored.allowed_hosts, stored.saved_at, stored.private_hosts)


def get_api_tool(store: Store, name: str) -> ApiTool:
    stored = store.get_tool(name)
    if stored is None or tool_type(stored) is not None:
        known = ", ".join(t.name for t in store.list_tools()) or "none yet"
        raise NotFoundError(
            "unknown-tool",
            f"no tool named {name!r} (known: {known}); add one with `cairn tools add-openapi`",
        )
    return _tool(stored)


def list_api_tools(store: Store) -> list[ApiTool]:
    return [_tool(t) for t in store.list_tools() if tool_type(t) is None]


# -- results -> rows --------------------------------------------------------------------------
def rows_from_json(value: Any) -> list[dict[str, Any]]:
    """Rows from a JSON answer: a list of objects; else the first list of objects inside an
    object (breadth first); else the object itself; scalars become ``{"value": ...}``."""
    if isinstance(value, list):
        return [v if isinstance(v, dict) else {"value": v} for v in value]
    if isinstance(value, dict):
        queue: list[Any] = [value]
        while queue:
            node = queue.pop(0)
            for child in node.values():
                if isinstance(child, list) and child and all(isinstance(x, dict) for x in child):
                    return list(child)
                if isinstance(child, dict):
                    queue.append(child)
        return [value]
    return [{"value": value}]


# -- calling ----------------------------------------------------------------------------------
def call_api(
    kb: KnowledgeBase,
    tool: str | ApiTool,
    operation: str,
    params: Mapping[str, Any] | None = None,
    *,
    allow_private: bool | Collection[str] = (),
    connect_timeout: float = 5.0,
    timeout: float = 20.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    collection: str = RECORDS_COLLECTION,
    remember: bool = True,
    transport: httpx.BaseTransport | None = None,
) -> ApiResult:
    """Call ``tool``'s ``operation`` with ``params`` and store the rows (unless ``remember`` is
    False). Private addresses: those approved with the tool (see :func:`add_openapi`), plus
    ``allow_private`` for this call. Raises :class:`ToolError` (codes in
    :mod:`cairn.tools.errors`).

    ``tool`` may name an MCP server (``cairn tools add-mcp``); ``operation`` is one of its tools.
    """
    if isinstance(tool, str) and _mcp_server(kb, tool):
        from cairn.tools.mcp_client import call_mcp

        return call_mcp(
            kb,
            tool,
            operation,
            params,
            allow_private=allow_private,
            timeout=timeout,
            max_bytes=max_bytes,
            collection=collection,
            remember=remember,
        )
    api = tool if isinstance(tool, ApiTool) else get_api_tool(kb.store, tool)
    op = api.operation(operation)
    call = bind(op, params or {})  # before anything is sent
    private: bool | Collection[str] = (
        allow_private
        if isinstance(allow_private, bool) and allow_private
        else {*api.private_hosts, *(() if isinstance(allow_private, bool) else allow_private)}
    )
    policy = HttpPolicy.make(
        api.allowed_hosts,
        allow_private=private,
        connect_timeout=connect_timeout,
        total_timeout=timeout,
        max_bytes=max_bytes,
    )
    client = SafeHttpClient(policy, transport=transport)
    now = datetime.now(UTC)
    response = client.request(
        call.method, api.base_url + call.path, params=call.query, json_body=call.body
    )
    rows = rows_from_json(response.json())
    if len(rows) > MAX_ROWS:
        raise ToolError("api-too-large", f"{len(rows)} rows; at most {MAX_ROWS} are kept")
    requested_at = now.isoformat(timespec="microseconds")
    request = {
        "tool": api.name,
        "operation": op.operation_id,
        "method": call.method,
        "url": response.url,
        "params": call.params,
        "status": response.status,
        "redirects": list(response.redirects),
    }
    source = (
        store_rows(kb, api.name, op.operation_id, request, rows, requested_at, collection)
        if remember
        else None
    )
    return ApiResult(api.name, op.operation_id, rows, source, request, requested_at)


def store_rows(
    kb: KnowledgeBase,
    tool: str,
    operation: str,
    request: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    requested_at: str,
    collection: str = RECORDS_COLLECTION,
) -> Source:
    """Write rows as records with an embedded, searchable document; return the source."""
    stamp = datetime.fromisoformat(requested_at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    uri = f"api://{tool}/{operation}/{stamp}"
    header = f"{tool}.{operation}: {request.get('method', 'GET')} {request.get('url', '')}"
    doc = records_document(f"{tool}.{operation}", rows, header=header)
    embedder = kb.embedder
    vectors = embedder.embed_batch([f"{doc.title}\n{c.text}" for c in doc.chunks])
    doc = replace(
        doc,
        chunks=[replace(c, vector=vectors[i].tobytes()) for i, c in enumerate(doc.chunks)],
    )
    url = request.get("url")
    provenance = Provenance(collection=collection, source_url=str(url) if url else None)
    return kb.store.add_records(
        uri,
        provenance,
        f"{tool}.{operation}",
        dict(request),
        list(rows),
        documents=[doc],
        embedding_model=embedder.name,
        requested_at=requested_at,
    )


def call_command(kb: KnowledgeBase, command: Command, **options: Any) -> ApiResult:
    """Carry out a ``call_api`` command: ``api_operation`` is ``tool.operation`` (or ``tool``
    when it has one operation), ``api_params`` the parameters."""
    if command.intent != "call_api" or not command.api_operation:
        raise ToolError("api-bad-params", "not a call_api command with an api_operation")
    tool_name, _, op_name = command.api_operation.partition(".")
    stored = kb.store.get_tool(tool_name)
    marker = tool_type(stored) if stored is not None else None
    if marker is not None:
        return _TOOL_TYPES[marker](kb, tool_name, op_name, dict(command.api_params), **options)
    api = get_api_tool(kb.store, tool_name)
    if not op_name:
        if len(api.spec.operations) != 1:
            raise ToolError(
                "api-unknown-operation",
                f"tool {tool_name!r} has several operations; name one: "
                + ", ".join(f"{tool_name}.{o}" for o in sorted(api.spec.operations)),
            )
        op_name = next(iter(api.spec.operations))
    return call_api(kb, api, op_name, dict(command.api_params), **options)


def _mcp_server(kb: KnowledgeBase, name: str) -> bool:
    stored = kb.store.get_tool(name)
    return stored is not None and is_mcp_tool(stored)
