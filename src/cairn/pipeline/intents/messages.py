"""Intents answered with a message: help, remember (the note itself is written by the
remember stage), and the fallback for clarify, out_of_scope and any intent not in the table."""

from __future__ import annotations

from cairn.pipeline.intents.base import ActContext, ActResult, IntentHandler, message_reply

HELP_TEXT = (
    "I answer from your own sources. Try: 'search for steam engines', 'who invented the "
    "telephone?', 'summarise what my sources say about packet switching', 'list my sources', "
    "'remember that the meeting is on Friday', or 'forget notes.txt'."
)


def _help(ctx: ActContext) -> ActResult:
    return ActResult(ctx.command.intent, "message", message=HELP_TEXT)


def _remember(ctx: ActContext) -> ActResult:
    return ActResult(ctx.command.intent, "message", message=f"I will remember that {ctx.query}.")


def _clarify(ctx: ActContext) -> ActResult:
    command = ctx.command
    return ActResult(command.intent, "message", message=command.clarification or HELP_TEXT)


HELP = IntentHandler(_help, message_reply)
REMEMBER = IntentHandler(_remember, message_reply)
FALLBACK = IntentHandler(_clarify, message_reply)  # clarify, out_of_scope, anything unknown
