"""Tools a command can use: API tools from OpenAPI 3 documents (``call_api``), records.

See ``docs/tools.md``.
"""

from __future__ import annotations

from cairn.tools.errors import ToolError
from cairn.tools.http import HttpPolicy, SafeHttpClient
from cairn.tools.openapi import ApiSpec, Operation, load_document, parse_spec
from cairn.tools.registry import (
    ApiResult,
    ApiTool,
    add_openapi,
    call_api,
    call_command,
    get_api_tool,
    list_api_tools,
    rows_from_json,
)

__all__ = [
    "ApiResult",
    "ApiSpec",
    "ApiTool",
    "HttpPolicy",
    "Operation",
    "SafeHttpClient",
    "ToolError",
    "add_openapi",
    "call_api",
    "call_command",
    "get_api_tool",
    "list_api_tools",
    "load_document",
    "parse_spec",
    "rows_from_json",
]
