"""adapt: fine-tune the reader and refit the support model on the knowledge base's own synthetic
questions; list, choose or reset the adapted versions stored beside it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli.common import KbOption, console, errors_as_messages, fail, open_kb, print_json

if TYPE_CHECKING:
    from cairn.knowledge import KnowledgeBase
    from cairn_eval.adapt import AdaptResult


def register(app: typer.Typer) -> None:
    app.command("adapt")(adapt)


def adapt(
    collection: Annotated[
        str | None, typer.Option("--collection", "-c", help="Only this collection.")
    ] = None,
    budget_minutes: Annotated[
        float,
        typer.Option(
            "--budget-minutes", help="Stop training when this much time is spent.", min=1.0
        ),
    ] = 20.0,
    with_squad_fit: Annotated[
        bool,
        typer.Option(
            "--with-squad-fit",
            help="Also train on SQuAD 2.0's labelled fit articles (1-8; never 9-16).",
        ),
    ] = False,
    squad_data: Annotated[
        Path | None, typer.Option("--squad-data", help="SQuAD 2.0 dev JSON for --with-squad-fit.")
    ] = None,
    start: Annotated[
        str,
        typer.Option(
            "--start", help="Start from the 'packaged' reader or the float32 'base' MiniLM."
        ),
    ] = "packaged",
    epochs: Annotated[float, typer.Option(help="Passes over the training pairs.", min=0.01)] = 2.0,
    max_sentences: Annotated[
        int | None, typer.Option("--max-sentences", help="Read at most N sentences.", min=1)
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the questions, split and training.")] = 13,
    held_out: Annotated[
        int,
        typer.Option(
            "--held-out", help="Held-out questions asked to refit support, and to report.", min=1
        ),
    ] = 300,
    report_questions: Annotated[
        int | None,
        typer.Option(
            "--report-questions",
            help="Held-out questions asked of both models for the manifest (default: --held-out).",
            min=0,
        ),
    ] = None,
    use: Annotated[
        str | None,
        typer.Option("--use", help="Make 'packaged' or a stored version (v1, v2...) answer."),
    ] = None,
    reset: Annotated[
        bool,
        typer.Option("--reset", help="Go back to the packaged models (same as --use packaged)."),
    ] = False,
    show: Annotated[
        bool, typer.Option("--list", help="List the stored versions and which one answers.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    kb: KbOption = None,
) -> None:
    """Teach Cairn when this collection's sentences answer a question: make synthetic
    questions from them, fine-tune the answer-sentence reader, refit the support model on a
    held-out part, and store the result beside the knowledge base as a new version that
    answers from then on. Rerun after a kill: it continues from its checkpoint."""
    from cairn.answer.adapted import PACKAGED, active_name, adapted_root, manifest, set_active
    from cairn.answer.adapted import versions as stored_versions

    with errors_as_messages(), open_kb(kb, must_exist=True) as base:
        root = adapted_root(base.store)
        if reset or use is not None:
            if reset and use not in (None, PACKAGED):
                fail("--reset goes back to the packaged models; it cannot be used with --use")
            name = set_active(root, PACKAGED if reset else str(use))
            console.print(f"answers now come from the {name} models ({root})")
            return
        if show:
            rows = {v: manifest(root, v) for v in stored_versions(root)}
            if as_json:
                print_json({"root": str(root), "active": active_name(root), "versions": rows})
                return
            console.print(f"active: {active_name(root)}  ({root})")
            for v, m in rows.items():
                held = m.get("held_out", {}).get("adapted", {})
                console.print(
                    f"{v}: {m.get('finished')} · {m.get('synthetic_questions')} questions · "
                    f"held-out accuracy {held.get('overall_accuracy', '?')}",
                    highlight=False,
                )
            return
        if collection is not None and collection not in {
            s.provenance.collection for s in base.sources()
        }:
            fail(f"no collection named {collection!r} in this knowledge base")
        result = _run(
            base, collection, budget_minutes, with_squad_fit, squad_data, start, epochs,
            max_sentences, seed, held_out, report_questions,
        )  # fmt: skip
    if as_json:
        print_json(result.manifest)
        return
    m = result.manifest
    new, old = m["held_out"]["adapted"], m["held_out"]["packaged"]
    console.print(
        f"{result.version} stored in {result.folder} and now answers "
        f"({m['training']['steps']} training steps, {m['seconds']} s). Held-out synthetic "
        f"questions: accuracy {new.get('overall_accuracy', '?')} "
        f"(packaged {old.get('overall_accuracy', '?')}), precision {new.get('precision', '?')} "
        f"(packaged {old.get('precision', '?')}). Back: cairn adapt --reset",
        highlight=False,
    )


def _run(
    base: KnowledgeBase,
    collection: str | None,
    budget_minutes: float,
    with_squad_fit: bool,
    squad_data: Path | None,
    start: str,
    epochs: float,
    max_sentences: int | None,
    seed: int,
    held_out: int,
    report_questions: int | None = None,
) -> AdaptResult:
    from cairn.cli.progress import event_progress
    from cairn.events import Event, EventType
    from cairn_eval.adapt import AdaptOptions, adapt

    opts = AdaptOptions(
        collection=collection,
        with_squad_fit=with_squad_fit,
        squad_data=squad_data,
        start=start,
        budget_minutes=budget_minutes,
        epochs=epochs,
        seed=seed,
        max_sentences=max_sentences,
        support_questions=held_out,
        report_questions=report_questions,
    )
    with event_progress() as on_event:

        def say(stage: str, done: int, total: int | None) -> None:
            of = done if total is None else total
            on_event(Event(EventType.progress, stage, {"done": done, "of": of}))

        return adapt(base, opts, say)
