"""Whether the ``mcp`` extra (the official MCP SDK) is installed: below both of its users, the
MCP client tools (:mod:`cairn.tools.mcp_client`) and Cairn's MCP server (:mod:`cairn.mcp`)."""

from __future__ import annotations

from cairn.errors import ModelError

INSTALL_HINT = "MCP needs the official SDK (Cairn's mcp extra): pip install 'mcp>=2.3,<3'"


def require_mcp() -> None:
    """Raise a one-line :class:`~cairn.errors.ModelError` when the ``mcp`` SDK is missing."""
    try:
        import mcp  # noqa: F401
    except ImportError as err:
        raise ModelError("mcp-missing", INSTALL_HINT) from err
