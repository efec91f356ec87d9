"""Intents as a table: one :class:`IntentHandler` (act + reply) per intent name.

The act stage looks the command's intent up here and calls the handler's ``act``; the answer
stage calls the same handler's ``reply`` on what it produced. An intent not in the table gets
``FALLBACK`` (the command's clarification, else the help text). Adding an intent:
docs/architecture.md, "Where to add things".
"""

from __future__ import annotations

from cairn.pipeline.intents.answers import ASK, SYNTHESIZE
from cairn.pipeline.intents.api import CALL_API
from cairn.pipeline.intents.base import (
    ActContext,
    ActResult,
    AskOptions,
    IntentHandler,
    Reply,
    message_reply,
)
from cairn.pipeline.intents.messages import FALLBACK, HELP, REMEMBER
from cairn.pipeline.intents.search import SEARCH
from cairn.pipeline.intents.sources import FORGET, LIST_SOURCES

INTENT_HANDLERS: dict[str, IntentHandler] = {
    "ask": ASK,
    "search": SEARCH,
    "chart": SEARCH,  # what a search found; the chart stage draws its table
    "synthesize": SYNTHESIZE,
    "list_sources": LIST_SOURCES,
    "forget": FORGET,
    "call_api": CALL_API,
    "help": HELP,
    "remember": REMEMBER,
    "clarify": FALLBACK,
    "out_of_scope": FALLBACK,
}


def handler_for(intent: str) -> IntentHandler:
    """The handler registered for ``intent`` (``FALLBACK`` when there is none)."""
    return INTENT_HANDLERS.get(intent, FALLBACK)


def register_intent(name: str, handler: IntentHandler, *, replace: bool = False) -> None:
    """Add ``handler`` to the table under ``name``; an existing name needs ``replace=True``."""
    if name in INTENT_HANDLERS and not replace:
        raise ValueError(f"intent {name!r} already has a handler (pass replace=True to swap it)")
    INTENT_HANDLERS[name] = handler


def unregister_intent(name: str) -> None:
    """Remove ``name`` from the table (a plugin unloading, or a test cleaning up)."""
    INTENT_HANDLERS.pop(name, None)


__all__ = [
    "FALLBACK",
    "INTENT_HANDLERS",
    "ActContext",
    "ActResult",
    "AskOptions",
    "IntentHandler",
    "Reply",
    "handler_for",
    "message_reply",
    "register_intent",
    "unregister_intent",
]
