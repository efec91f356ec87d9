"""Intents answered from the sources' sentences: ask (a cited answer or an abstention) and
synthesize (the evidence for and against a claim)."""

from __future__ import annotations

from typing import Any

from cairn.answer.ask import ask as ask_question
from cairn.answer.synthesize import Synthesis
from cairn.answer.synthesize import synthesize as synthesize_claim
from cairn.command.model import Command
from cairn.knowledge import KnowledgeBase
from cairn.pipeline.intents.base import ActContext, ActResult, IntentHandler, Reply


def _ask(ctx: ActContext) -> ActResult:
    opts = ctx.options
    answer = ask_question(
        ctx.kb,
        ctx.query,
        collections=ctx.collections,
        spans=opts.spans,
        model=opts.model,
        llm=opts.llm,
    )
    return ActResult(ctx.command.intent, "answer", answer=answer)


def _answer_reply(
    kb: KnowledgeBase, command: Command, result: ActResult, data: dict[str, Any]
) -> Reply:
    a = result.answer
    return Reply(a.text, tuple(a.citations), abstained=a.abstained)


def _synthesize(ctx: ActContext) -> ActResult:
    syn = synthesize_claim(ctx.kb, ctx.query, collections=ctx.collections)
    return ActResult(ctx.command.intent, "synthesis", synthesis=syn)


def _synthesis_reply(
    kb: KnowledgeBase, command: Command, result: ActResult, data: dict[str, Any]
) -> Reply:
    assert result.synthesis is not None
    return synthesis_reply(result.synthesis)


def synthesis_reply(syn: Synthesis) -> Reply:
    cites = tuple(i.citation for g in syn.groups for i in g.items)
    table: tuple[dict[str, Any], ...] = ()
    if cites:
        table = tuple({"label": k, "sentences": v} for k, v in syn.counts.items())
    c = syn.counts
    spoken = (
        f"{c.get('supports', 0)} sentences support it, {c.get('contradicts', 0)} contradict it, "
        f"and {c.get('mentions', 0)} only mention it, across {len(syn.groups)} sources."
        if cites
        else "The sources say nothing about this claim."
    )
    return Reply(
        syn.text,
        cites,
        spoken=spoken,
        abstained=not cites,
        table=table,
        chart_title=f"Evidence on \u201c{syn.claim}\u201d",
    )


ASK = IntentHandler(_ask, _answer_reply)
SYNTHESIZE = IntentHandler(_synthesize, _synthesis_reply)
