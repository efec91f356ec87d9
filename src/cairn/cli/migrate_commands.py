"""migrate: copy a knowledge base between SQLite and PostgreSQL, and check the copy."""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from cairn.cli.common import (
    JsonOption,
    console,
    err_console,
    errors_as_messages,
    fail,
    print_json,
)

if TYPE_CHECKING:
    from cairn.kb.types import Source


def register(app: typer.Typer) -> None:
    app.command(name="migrate")(migrate_command)


def migrate_command(
    from_: Annotated[
        str,
        typer.Option(
            "--from", help="The knowledge base to copy: a SQLite file or a postgresql:// URL."
        ),
    ],
    to: Annotated[
        str,
        typer.Option(
            "--to", help="Where to copy it: a postgresql:// URL or a SQLite file (created)."
        ),
    ],
    batch: Annotated[
        int, typer.Option("--batch", min=1, help="Runs and counts read per query.")
    ] = 500,
    json_out: JsonOption = False,
) -> None:
    """Copy every source, record and run to another knowledge base, then compare both.

    Each source is copied in one transaction; run it again after an interruption and the
    sources already copied are skipped. Exits 1 when the counts or checksums differ.
    """
    from cairn.kb.migrate import COUNT_NAMES, migrate, open_end, same_end, verify

    if same_end(from_, to):
        fail("--from and --to name the same knowledge base")
    with errors_as_messages(), ExitStack() as stack:
        source = open_end(from_, must_exist=True)
        stack.callback(source.close)
        target = open_end(to, must_exist=False)
        stack.callback(target.close)
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err_console,
            disable=json_out,
        )
        task = progress.add_task("sources", total=len(source.list_sources()))

        def on_progress(event: str, src: Source | None) -> None:
            if event in ("copied", "skipped"):
                progress.advance(task)
            elif event == "runs":
                progress.update(task, description="runs")

        with progress:
            report = migrate(source, target, batch=batch, on_progress=on_progress)
            progress.update(task, description="checking")
            check = verify(source, target, batch=batch)
    if json_out:
        print_json(
            {
                "copied": len(report.copied),
                "skipped": len(report.skipped),
                "runs_copied": report.runs_copied,
                "runs_skipped": report.runs_skipped,
                "counts": {n: {"source": a, "target": b} for n, (a, b) in check.counts.items()},
                "mismatched_sources": check.mismatched_sources,
                "ok": check.ok,
            }
        )
    else:
        console.print(
            f"{len(report.copied)} sources copied, {len(report.skipped)} already there; "
            f"{report.runs_copied} runs copied, {report.runs_skipped} already there"
        )
        table = Table("", "source", "target", "")
        for name in COUNT_NAMES:
            a, b = check.counts[name]
            table.add_row(name, str(a), str(b), "ok" if a == b else "[red]differs[/]")
        n = len(check.checksums)
        matching = n - len(check.mismatched_sources)
        table.add_row(
            "source checksums",
            str(n),
            f"{matching} match",
            "ok" if matching == n else "[red]differs[/]",
        )
        console.print(table)
        for uri in check.mismatched_sources:
            err_console.print(f"[red]checksum differs[/] {escape(uri)}", highlight=False)
    if not check.ok:
        raise typer.Exit(1)
