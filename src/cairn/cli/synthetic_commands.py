"""questions: a synthetic question dataset (answerable + unanswerable look-alikes) as JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cairn.cli.common import KbOption, console, errors_as_messages, fail


def register(app: typer.Typer) -> None:
    app.command("questions")(questions)


def questions(
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write (one pair a line).")],
    collection: Annotated[
        str | None, typer.Option("--collection", "-c", help="Only this collection.")
    ] = None,
    max_sentences: Annotated[
        int | None, typer.Option("--max-sentences", help="Read at most N sentences.", min=1)
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the look-alike edits.")] = 13,
    kb: KbOption = None,
) -> None:
    """Make question/answer pairs from the sentences of a collection, with unanswerable
    look-alikes (entity swap, number change, negation, antonym, role swap, condition,
    neighbouring sentence); each line records its sentence and source."""
    from rich.progress import Progress

    from cairn.knowledge import open_kb
    from cairn.synthetic.dataset import build_pairs, collection_texts, load_nlp, write_jsonl

    with errors_as_messages(), open_kb(kb) as base:
        if collection is not None and collection not in {
            s.provenance.collection for s in base.sources()
        }:
            fail(f"no collection named {collection!r} in this knowledge base")
        docs = list(collection_texts(base, collection))
        if not docs:
            fail("the knowledge base has no documents: add some with `cairn ingest PATH` first")
        nlp = load_nlp()
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("sentences", total=max_sentences)
            pairs = build_pairs(
                docs,
                nlp=nlp,
                seed=seed,
                max_sentences=max_sentences,
                progress=lambda n: bar.update(task, completed=n),
            )
        path = write_jsonl(pairs, out)
    answerable = sum(p.answerable for p in pairs)
    console.print(
        f"{len(pairs)} pairs ({answerable} answerable, {len(pairs) - answerable} look-alikes) "
        f"from {len(docs)} documents -> {path}"
    )
