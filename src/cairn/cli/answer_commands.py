"""ask (with --synthesize): grounded answers with citations, or a plain abstention."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from cairn.answer.ask import ask as ask_question
from cairn.answer.synthesize import synthesize
from cairn.answer.types import Answer
from cairn.cli.common import JsonOption, KbOption, console, errors_as_messages, print_json
from cairn.knowledge import open_kb


def register(app: typer.Typer) -> None:
    app.command()(ask)


def ask(
    question: Annotated[str, typer.Argument(help="The question (or claim, with --synthesize).")],
    collection: Annotated[
        list[str] | None, typer.Option("--collection", help="Only these collections.")
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Search hits to read.")] = 5,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show every candidate and its support signals.")
    ] = False,
    synthesize_claim: Annotated[
        bool,
        typer.Option(
            "--synthesize",
            help="Treat the text as a claim: evidence for and against it, per source.",
        ),
    ] = False,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Answer a question from your documents, quoting and citing the sources (no LLM)."""
    with errors_as_messages(), open_kb(kb) as base:
        if synthesize_claim:
            syn = synthesize(base, question, collections=collection or ())
            if json_out:
                print_json(syn.to_dict())
            else:
                console.print(escape(syn.text), highlight=False, soft_wrap=True)
            return
        answer = ask_question(base, question, collections=collection or (), k=k, explain=explain)
    if json_out:
        print_json(answer.to_dict())
        return
    _print_answer(answer, explain)


def _print_answer(answer: Answer, explain: bool) -> None:
    style = "yellow" if answer.abstained else "bold"
    console.print(f"[{style}]{escape(answer.text)}[/]", highlight=False, soft_wrap=True)
    if not answer.abstained:
        for c in answer.citations:
            console.print(
                f"[dim][{c.n}] {escape(c.title or c.doc_key)} · {escape(c.source)} · "
                f"licence {escape(c.license or 'unknown')} · chars {c.start}-{c.end}[/]",
                highlight=False,
                soft_wrap=True,
            )
    if explain:
        console.print(
            f"[dim]support {answer.support:.3f} (threshold {answer.threshold:.3f})[/]",
            highlight=False,
        )
        for i, cand in enumerate(answer.candidates, start=1):
            feats = ", ".join(f"{k} {v:.2f}" for k, v in cand.features.items())
            console.print(
                f"[dim]{i}. support {cand.support:.3f} span {escape(repr(cand.span))} "
                f"({cand.span_label}) · {escape(cand.evidence.title or cand.evidence.doc_key)} "
                f"chars {cand.evidence.start}-{cand.evidence.end}\n   {escape(feats)}[/]",
                highlight=False,
                soft_wrap=True,
            )
