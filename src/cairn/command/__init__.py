"""Request text -> :class:`Command`: an intent grammar first, a constrained LLM second."""

from __future__ import annotations

from cairn.command.grammar import looks_non_english, normalise, parse
from cairn.command.model import INTENTS, SLOT_NAMES, Command, command_schema
from cairn.command.understand import CompletionModel, UnderstandError, understand

__all__ = [
    "INTENTS",
    "SLOT_NAMES",
    "Command",
    "CompletionModel",
    "UnderstandError",
    "command_schema",
    "looks_non_english",
    "normalise",
    "parse",
    "understand",
]
