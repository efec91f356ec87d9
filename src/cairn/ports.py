"""A free loopback port for the throwaway local services Cairn's tools start (a Ray cluster,
a test PostgreSQL, a test or benchmark HTTP server)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listened on a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
