"""ingest, search, sources, forget."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from cairn.cli.common import (
    JsonOption,
    KbOption,
    console,
    err_console,
    errors_as_messages,
    open_kb,
    print_json,
)
from cairn.cli.progress import event_progress, step

if TYPE_CHECKING:
    from cairn.ingest.pipeline import IngestReport
    from cairn.knowledge import KnowledgeBase
    from cairn.search.types import SearchHit


def register(app: typer.Typer) -> None:
    app.command()(ingest)
    app.command()(search)
    app.command()(sources)
    app.command()(forget)


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (recursively).")],
    collection: Annotated[str, typer.Option(help="Collection to put the sources in.")] = "default",
    license: Annotated[
        str | None, typer.Option("--license", help="SPDX licence id or expression, e.g. CC-BY-4.0.")
    ] = None,
    source_url: Annotated[str | None, typer.Option(help="Where the sources came from.")] = None,
    owner: Annotated[str | None, typer.Option(help="Who owns the sources.")] = None,
    consent: Annotated[
        str, typer.Option(help="Consent to use the sources: granted, refused or unknown.")
    ] = "unknown",
    graph: Annotated[
        bool, typer.Option("--graph/--no-graph", help="Extract entities and relations.")
    ] = True,
    encoding: Annotated[
        str | None, typer.Option(help="Text encoding of non-UTF-8 files, e.g. latin-1.")
    ] = None,
    max_mb: Annotated[float, typer.Option(help="Refuse files larger than this (MB).")] = 100.0,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="ADDRESS",
            help="Parse, chunk and embed on the Ray cluster at host:port (or auto); "
            "this process writes the knowledge base. Needs Ray (the ray extra).",
        ),
    ] = None,
    ray_threads: Annotated[
        int, typer.Option(min=1, help="With --ray: CPU threads (and Ray CPUs) per worker task.")
    ] = 1,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Add documents to the knowledge base (unchanged files are skipped)."""
    from cairn.ingest.pipeline import Status

    with errors_as_messages(), open_kb(kb) as base:
        report = ingest_with_progress(
            base,
            paths,
            collection,
            license,
            source_url,
            owner,
            consent,
            graph,
            encoding,
            int(max_mb * 1_000_000),
            quiet=json_out,
            ray=ray,
            ray_threads=ray_threads,
        )
    if json_out:
        print_json(
            {
                "seconds": round(report.seconds, 3),
                "counts": {s.value: report.count(s) for s in Status},
                "files": [o.__dict__ | {"status": o.status.value} for o in report.outcomes],
            }
        )
    else:
        counts = ", ".join(f"{report.count(s)} {s.value}" for s in Status if report.count(s))
        console.print(
            f"{counts or 'nothing to do'}; {report.chunks_embedded} chunks in "
            f"{report.seconds:.1f} s"
        )
    if report.failed:
        raise typer.Exit(1)


def ingest_with_progress(
    base: KnowledgeBase,
    paths: list[Path],
    collection: str = "default",
    license: str | None = None,
    source_url: str | None = None,
    owner: str | None = None,
    consent: str = "unknown",
    graph: bool = True,
    encoding: str | None = None,
    max_bytes: int = 100_000_000,
    *,
    quiet: bool,
    ray: str | None = None,
    ray_threads: int = 1,
) -> IngestReport:
    with event_progress(quiet=quiet) as on_event:
        if ray is not None:
            from cairn.ingest.distributed import ingest_on_ray

            return ingest_on_ray(
                base.store,
                paths,
                address=ray,
                threads=ray_threads,
                collection=collection,
                license=license,
                source_url=source_url,
                owner=owner,
                consent=consent,
                graph=graph,
                encoding=encoding,
                max_bytes=max_bytes,
                on_event=on_event,
            )
        return base.ingest(
            paths,
            collection=collection,
            license=license,
            source_url=source_url,
            owner=owner,
            consent=consent,
            graph=graph,
            encoding=encoding,
            max_bytes=max_bytes,
            on_event=on_event,
        )


def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    collection: Annotated[
        list[str] | None, typer.Option("--collection", help="Only these collections.")
    ] = None,
    k: Annotated[int, typer.Option("--k", help="How many results.")] = 10,
    mode: Annotated[str, typer.Option(help="keyword, dense or hybrid.")] = "hybrid",
    license: Annotated[
        list[str] | None, typer.Option("--license", help="Only sources under these licences.")
    ] = None,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also show hits that match no query word and are not close in "
            "meaning (left out by default).",
        ),
    ] = False,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Search the knowledge base (BM25 + dense vectors + entity graph)."""
    from cairn.search.relevance import DENSE_FLOOR, relevant_hits

    with errors_as_messages(), open_kb(kb) as base:
        with step("searching (the first search loads the models)", quiet=json_out):
            hits = base.search(
                query, k=k, mode=mode, collections=collection or (), licenses=license or ()
            )
        left_out = 0
        if not show_all:
            hits, left_out = relevant_hits(hits)
        if json_out:
            for h in hits:
                print_json(h.to_dict(base.document_text))
            return
        if not hits:
            console.print("no results")
        for h in hits:
            print_hit(h, base)
        if left_out:
            console.print(
                f"[dim]{left_out} weaker hits not shown: no query word in them, "
                f"meaning similarity below {DENSE_FLOOR:.2f} (--all shows them)[/]",
                highlight=False,
            )


def print_hit(h: SearchHit, base: KnowledgeBase) -> None:
    c = h.chunk
    text = base.document_text(c.document_id)
    s, e = h.highlight or (c.start, c.end)
    before = text[max(c.start, s - 160) : s]
    after = text[e : min(c.end, e + 160)]
    title = c.title or c.doc_key
    console.print(
        f"[bold]{h.rank}. {escape(title)}[/]  [dim]score {h.score:.3f} · {escape(c.source_uri)}"
        f" · licence {escape(c.license or 'unknown')} · chars {s}-{e}[/]",
        highlight=False,
    )
    console.print(
        f"   …{escape(before)}[reverse]{escape(text[s:e])}[/reverse]{escape(after)}…",
        highlight=False,
    )


def sources(
    collection: Annotated[str | None, typer.Option(help="Only this collection.")] = None,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """List sources with their provenance and counts."""
    with errors_as_messages(), open_kb(kb, must_exist=True) as base:
        rows = base.sources(collection)
    if json_out:
        for s in rows:
            print_json(s.to_dict())
        return
    if not rows:
        console.print("no sources yet: add some with `cairn ingest PATH`")
        return
    # The source is what `cairn forget` takes: it is never cut. A table when it fits the
    # terminal; else one block per source, the full path on its own (unwrapped) line.
    table = Table()
    for name in ("id", "source", "collection", "licence", "consent", "docs", "chunks", "ingested"):
        table.add_column(name, overflow="fold")
    for s in rows:
        table.add_row(
            str(s.id),
            s.uri,
            s.provenance.collection,
            s.provenance.license or "-",
            s.provenance.consent.value,
            str(s.n_documents),
            str(s.n_chunks),
            s.ingested_at,
        )
    if (
        Measurement.get(console, console.options.update_width(100_000), table).maximum
        <= console.width
    ):
        console.print(table)
        return
    for s in rows:
        console.print(f"[bold]{s.id}[/]  {escape(s.uri)}", highlight=False, soft_wrap=True)
        console.print(
            f"   [dim]collection {escape(s.provenance.collection)} · licence "
            f"{escape(s.provenance.license or '-')} · consent {s.provenance.consent.value} · "
            f"{s.n_documents} docs · {s.n_chunks} chunks · ingested {s.ingested_at}[/]",
            highlight=False,
        )


def forget(
    source: Annotated[str, typer.Argument(help="Source id, path or URL (see `cairn sources`).")],
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Remove a source and everything derived from it (chunks, vectors, graph facts)."""
    with errors_as_messages(), open_kb(kb, must_exist=True) as base:
        report = base.forget_report(source)
    gone = report.source
    if json_out:
        print_json(
            {
                "forgotten": gone.id,
                "uri": gone.uri,
                "documents": gone.n_documents,
                "files_removed": list(report.files_removed),
                "pending": report.pending,
            }
        )
        return
    console.print(f"forgot {gone.uri} ({gone.n_documents} documents, {gone.n_chunks} chunks)")
    for path in report.files_removed:
        console.print(f"removed {path} (a copy Cairn made)")
    if report.pending:
        err_console.print(f"[yellow]not yet finished:[/] {report.pending}")
