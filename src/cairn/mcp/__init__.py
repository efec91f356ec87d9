"""Cairn and the Model Context Protocol (the official ``mcp`` SDK, the ``mcp`` extra).

- :mod:`cairn.mcp.server`: the knowledge base as an MCP server (search, ask, synthesize,
  sources, forget; sources and documents as resources), over stdio (``cairn mcp``) or
  streamable HTTP (mounted at ``/mcp`` in ``cairn serve``).
- :mod:`cairn.tools.mcp_client`: MCP servers as tools for Cairn (``cairn tools add-mcp``).

Whether the SDK is installed is checked by :func:`cairn.tools.mcp_extra.require_mcp`. See
``docs/mcp.md``.
"""
