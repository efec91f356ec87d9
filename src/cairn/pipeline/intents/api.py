"""call_api: an imported API tool (``cairn.tools``) called with the command's operation and
parameters; its rows are summarised, tabled and charted."""

from __future__ import annotations

from typing import Any

from cairn.command.model import Command
from cairn.errors import CairnError, NotFoundError
from cairn.knowledge import KnowledgeBase
from cairn.pipeline.intents.base import ActContext, ActResult, IntentHandler, Reply


def call_api(kb: KnowledgeBase, command: Command) -> ActResult:
    """The command's operation called through ``cairn.tools.call_command``; an operation
    nobody set up is an answer saying so, not a failure."""
    from cairn.tools import call_command

    op = command.api_operation or "an API"
    try:
        result = call_command(kb, command)
    except CairnError as err:
        if isinstance(err, NotFoundError) or err.code.startswith("api-unknown"):
            # nothing set up under that name: an answer, not a failure
            return ActResult("call_api", "message", message=f"I cannot call {op}: {err.message}")
        raise
    rows = getattr(result, "rows", None)
    if isinstance(rows, list) and all(isinstance(r, dict) for r in rows):
        return ActResult(
            "call_api", "records", records=tuple(rows), message=f"{op} returned {len(rows)} rows"
        )
    return ActResult("call_api", "message", message=f"{op}: {result}")


def _act(ctx: ActContext) -> ActResult:
    return call_api(ctx.kb, ctx.command)


def _reply(kb: KnowledgeBase, command: Command, result: ActResult, data: dict[str, Any]) -> Reply:
    if result.kind != "records":
        return Reply(result.message)
    from cairn.tools.summary import summarise_rows

    summary = summarise_rows(result.records, command.api_operation or "the API")
    data["facts"] = [vars(f) for f in summary.facts]
    return Reply(
        summary.text,
        spoken=summary.spoken,
        table=result.records,
        chart_title=command.api_operation or "records",
    )


CALL_API = IntentHandler(_act, _reply)
