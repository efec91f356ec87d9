"""Cairn over HTTP: OpenAI-compatible endpoints under ``/v1`` and Cairn's own under ``/api``.

Needs FastAPI and uvicorn. ``create_app(settings)`` builds the app; ``cairn serve`` runs it.
"""

from __future__ import annotations

from cairn.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":  # imported on use: FastAPI is only needed to serve
        from cairn.server.app import create_app

        return create_app
    raise AttributeError(name)
