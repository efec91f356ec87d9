"""search (and chart, which charts what a search found): passages, the best one per document
cited, and a table of passages per source."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from cairn.answer.types import Citation
from cairn.command.model import Command
from cairn.knowledge import KnowledgeBase
from cairn.pipeline.intents.base import ActContext, ActResult, IntentHandler, Reply, source_name
from cairn.search.types import SearchHit

SEARCH_K = 20  # passages fetched for a search (several may come from one source)
SHOWN_HITS = 5  # sources listed in a search answer


def _search(ctx: ActContext) -> ActResult:
    hits = ctx.kb.search(
        ctx.query,
        k=SEARCH_K,
        collections=ctx.collections,
        licenses=ctx.command.licenses,
        per_document=False,
    )
    return ActResult(ctx.command.intent, "hits", hits=tuple(hits))


def _hit_citation(n: int, kb: KnowledgeBase, hit: SearchHit) -> Citation:
    c = hit.chunk
    start, end = hit.highlight or (c.start, c.end)
    text = kb.document_text(c.document_id)[start:end] if hit.highlight else c.text
    return Citation(
        n=n,
        document_id=c.document_id,
        doc_key=c.doc_key,
        title=c.title,
        source=c.source_uri,
        license=c.license,
        start=start,
        end=end,
        quote=text,
    )


def _hits_reply(
    kb: KnowledgeBase, command: Command, result: ActResult, data: dict[str, Any]
) -> Reply:
    return search_reply(kb, command, result.hits)


def search_reply(kb: KnowledgeBase, command: Command, hits: Sequence[SearchHit]) -> Reply:
    query = command.query or ""
    if not hits:
        return Reply(f"Nothing in your sources matches {query!r}.", abstained=True)
    best: dict[int, SearchHit] = {}
    for h in hits:  # best passage per document, in rank order
        best.setdefault(h.chunk.document_id, h)
    shown = list(best.values())[:SHOWN_HITS]
    cites = tuple(_hit_citation(n, kb, h) for n, h in enumerate(shown, start=1))
    lines = [f"{len(hits)} passages from {len(best)} documents match {query!r}:"]
    for c in cites:
        lines.append(f"[{c.n}] {source_name(c.title, c.source)}: \u201c{c.quote}\u201d")
    per_source = Counter(source_name(h.chunk.title, h.chunk.source_uri) for h in hits)
    table = tuple({"source": k, "passages": v} for k, v in per_source.most_common())
    top = cites[0]
    spoken = (
        f"I found {len(hits)} matching passages in {len(best)} documents. "
        f"The best match: {top.quote} [1]"
    )
    return Reply(
        "\n".join(lines),
        cites,
        spoken=spoken,
        table=table,
        chart_title=f"Passages matching \u201c{query}\u201d per source",
    )


SEARCH = IntentHandler(_search, _hits_reply)  # also chart: the chart stage draws its table
