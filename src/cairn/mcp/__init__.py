"""Cairn and the Model Context Protocol (the official ``mcp`` SDK, the ``mcp`` extra).

- :mod:`cairn.mcp.server`: the knowledge base as an MCP server (search, ask, synthesize,
  sources, forget; sources and documents as resources), over stdio (``cairn mcp``) or
  streamable HTTP (mounted at ``/mcp`` in ``cairn serve``).
- :mod:`cairn.tools.mcp_client`: MCP servers as tools for Cairn (``cairn tools add-mcp``).

See ``docs/mcp.md``.
"""

from __future__ import annotations

from cairn.errors import ModelError

INSTALL_HINT = "MCP needs the official SDK (Cairn's mcp extra): pip install 'mcp>=2.3,<3'"


def require_mcp() -> None:
    """Raise a one-line :class:`~cairn.errors.ModelError` when the ``mcp`` SDK is missing."""
    try:
        import mcp  # noqa: F401
    except ImportError as err:
        raise ModelError("mcp-missing", INSTALL_HINT) from err
