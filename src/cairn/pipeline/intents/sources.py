"""Intents about the sources themselves: list_sources, and forget (which deletes nothing
unless confirmed)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from cairn.command.model import Command
from cairn.kb.types import Source
from cairn.knowledge import KnowledgeBase
from cairn.pipeline.intents.base import ActContext, ActResult, IntentHandler, Reply, message_reply


def _list_sources(ctx: ActContext) -> ActResult:
    command = ctx.command
    return ActResult(command.intent, "sources", sources=tuple(ctx.kb.sources(command.collection)))


def _sources_reply(
    kb: KnowledgeBase, command: Command, result: ActResult, data: dict[str, Any]
) -> Reply:
    srcs = result.sources
    lines = [f"{s.id}: {s.uri} ({s.provenance.collection}, {s.n_chunks} passages)" for s in srcs]
    head = f"{len(srcs)} sources" if srcs else "No sources yet: add some with cairn ingest."
    table = tuple(
        {"collection": k, "sources": v}
        for k, v in Counter(s.provenance.collection for s in srcs).most_common()
    )
    return Reply(
        "\n".join([head + (":" if srcs else ""), *lines]),
        spoken=head + ".",
        table=table,
        chart_title="Sources per collection",
    )


def resolve_source(kb: KnowledgeBase, ref: str) -> list[Source]:
    """Sources that ``ref`` (an id, path, URL, file name or stem) names."""
    ref = ref.strip()
    direct = kb.store.get_source(ref)
    if direct is not None:
        return [direct]
    low = ref.lower()
    found = []
    for src in kb.sources():
        name = src.uri.rstrip("/").rsplit("/", 1)[-1].lower()
        if low in (name, name.rsplit(".", 1)[0]) or src.uri.lower().endswith("/" + low):
            found.append(src)
    return found


def _forget(ctx: ActContext) -> ActResult:
    kb, command, confirm = ctx.kb, ctx.command, ctx.confirm
    ref = command.source or ""
    found = resolve_source(kb, ref) if ref else []
    if not found:
        return ActResult(
            "forget",
            "message",
            message=f"I found no source called {ref!r}; say 'list my sources' to see them.",
        )
    if len(found) > 1:
        names = ", ".join(f"{s.id}: {s.uri}" for s in found)
        return ActResult(
            "forget",
            "message",
            sources=tuple(found),
            message=f"{ref!r} matches {len(found)} sources ({names}); which one?",
        )
    src = found[0]
    if not confirm:
        return ActResult(
            "forget",
            "confirm",
            sources=(src,),
            message=(
                f"Forgetting {src.uri} deletes it and everything derived from it "
                f"({src.n_chunks} passages). Confirm to go ahead (--yes, or confirm=True); "
                "nothing was deleted."
            ),
        )
    gone = kb.forget(src.id)
    return ActResult("forget", "forgotten", sources=(gone,), message=f"Forgot {gone.uri}.")


LIST_SOURCES = IntentHandler(_list_sources, _sources_reply)
FORGET = IntentHandler(_forget, message_reply)
