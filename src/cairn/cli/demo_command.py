"""demo: ingest the bundled demo collection, then search it (and answer, once available)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cairn.cli.common import console, errors_as_messages


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    question: Annotated[
        str | None, typer.Argument(help="A question about the demo articles.")
    ] = None,
    kb: Annotated[
        str | None,
        typer.Option(
            "--kb",
            help="Knowledge base for the demo (default: one per checkout, in the user data "
            "directory).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Ingest three bundled Wikipedia articles (CC BY-SA 4.0), answer a question, search them."""
    from cairn.answer import ask
    from cairn.cli.answer_commands import print_answer
    from cairn.cli.kb_commands import ingest_with_progress, print_hit
    from cairn.demo import (
        DEMO_LICENSE,
        DEMO_QUESTION,
        DEMO_SOURCE_URL,
        default_demo_kb,
        demo_files,
        forget_other_copies,
    )
    from cairn.ingest.pipeline import Status
    from cairn.knowledge import open_kb
    from cairn.search.relevance import relevant_hits

    path = kb or default_demo_kb()  # one per checkout
    q = question or DEMO_QUESTION
    with errors_as_messages(), open_kb(path) as base:
        console.print(f"[bold]knowledge base[/] {path}")
        report = ingest_with_progress(
            base,
            demo_files(),
            collection="demo",
            license=DEMO_LICENSE,
            source_url=DEMO_SOURCE_URL,
            owner="Wikipedia contributors",
            consent="granted",
            quiet=False,
        )
        counts = ", ".join(f"{report.count(s)} {s.value}" for s in Status if report.count(s))
        console.print(f"ingested {len(report.outcomes)} files ({counts})")
        gone = forget_other_copies(base)
        if gone:
            folders = sorted({str(Path(u).parent) for u in gone})
            console.print(
                f"forgot {len(gone)} copies of the demo articles stored from other checkouts "
                f"({', '.join(folders)})"
            )
        console.print(f"\n[bold]ask:[/] {q}\n")
        print_answer(ask(base, q, collections=["demo"]))
        console.print(f"\n[bold]search:[/] {q}\n")
        hits, _ = relevant_hits(base.search(q, k=3, collections=["demo"]))
        for hit in hits:
            print_hit(hit, base)
    if report.failed:
        raise typer.Exit(1)
