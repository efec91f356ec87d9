"""understand (request text -> Command), and the command-set evaluation (eval commands)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cairn.cli.common import JsonOption, KbOption, console, errors_as_messages, fail, print_json

if TYPE_CHECKING:
    from cairn.command.understand import CompletionModel

LlmOption = Annotated[
    str | None,
    typer.Option(
        "--llm",
        help="When the grammar finds no match, ask a language model for the command: 'local' "
        "(llama.cpp + packaged SmolLM2, needs the llm extra), a .gguf path, or an "
        "OpenAI-compatible base URL such as http://127.0.0.1:8080/v1. Default: grammar only.",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    app.command("understand")(understand_cli)


def _llm(spec: str | None) -> CompletionModel | None:
    if not spec:
        return None
    from cairn.models.llm import load_llm

    llm = load_llm(spec)
    llm.warm_up()  # a missing package or model file fails here, with its install hint
    return llm


def understand_cli(
    text: Annotated[
        str | None, typer.Argument(help="The request, as typed or transcribed.", show_default=False)
    ] = None,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the Command JSON schema and exit.")
    ] = False,
    llm: LlmOption = None,
    kb: KbOption = None,
    no_tools: Annotated[
        bool, typer.Option("--no-tools", help="Ignore the registered API tools.")
    ] = False,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Show the candidate operations and why one won."),
    ] = False,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="How a registered operation is chosen: fast (schema matching, no LLM), "
            "hybrid (the --llm decides when the fast path is unsure) or llm (the --llm alone, "
            "under a grammar from the operations' schemas). --llm also takes qwen0.5b, "
            "qwen1.5b or smollm2 (fetched by scripts/get-llm).",
        ),
    ] = "fast",
    json_out: JsonOption = False,
) -> None:
    """Turn a request into a structured command (intent and slots), without running it.

    The API tools registered in the knowledge base (--kb, else the default one when it exists)
    are candidates: a request their schema fits becomes a call_api command."""
    from cairn.cli.understand_tools import explain_match, load_tools
    from cairn.command import command_schema, understand
    from cairn.command.tool_hybrid import load_tool_llm, matcher_for

    if schema:
        if json_out:
            print_json(command_schema())
        else:
            console.print_json(json.dumps(command_schema()))
        return
    if text is None:
        fail('give a request, e.g. cairn understand "search for solar panels since 2019"')
    with errors_as_messages():
        model = load_tool_llm(llm) if llm else None  # a missing llm extra fails here
        matcher = matcher_for(engine, model)
        tools = None if no_tools else load_tools(kb)
        command = understand(text, llm=model, tools=tools, tool_matcher=matcher)
    if json_out:
        data = command.model_dump(mode="json")
        if explain and tools is not None:
            match = tools.match(text)
            data["candidates"] = [c.as_dict() for c in match.candidates[:5]]
            data["fits_probability"] = match.relevance  # the call gate's; None: score rule
            data["why"] = match.reason
        print_json(data)
        return
    console.print(
        f"[bold]{command.intent}[/] (engine {command.engine}, confidence {command.confidence:.2f})",
        highlight=False,
    )
    for name, value in command.slots().items():
        shown = ", ".join(value) if isinstance(value, list) else value
        if isinstance(value, dict):
            shown = ", ".join(f"{k}={v}" for k, v in value.items())
        console.print(f"  {name}: {escape(str(shown))}", highlight=False)
    if command.clarification:
        console.print(f"  [italic]{escape(command.clarification)}[/]", highlight=False)
    if explain:
        explain_match(text, tools)


def eval_commands_cli(
    split: Annotated[str, typer.Option(help="dev, test or all.")] = "test",
    command_set: Annotated[
        Path | None,
        typer.Option(
            "--set",
            help="A command-set JSONL file (default: the packaged one).",
            show_default=False,
        ),
    ] = None,
    show_errors: Annotated[
        bool, typer.Option("--errors", help="List the items the grammar got wrong.")
    ] = False,
    llm: LlmOption = None,
    no_grammar: Annotated[
        bool, typer.Option("--no-grammar", help="Measure the --llm alone, without the grammar.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Intent accuracy and slot precision/recall/F1 of request understanding on the command set."""
    from cairn_eval.commands import run_command_eval

    with errors_as_messages():
        report = run_command_eval(split, path=command_set, llm=_llm(llm), grammar=not no_grammar)
    if json_out:
        print_json(report.as_dict(with_errors=show_errors))
        return
    table = Table(
        "intent",
        "n",
        "correct",
        "accuracy",
        "slot F1",
        title=f"{report.engine} on the {report.split} split: {report.n} requests",
    )
    for name, score in report.per_intent.items():
        if score.n:
            table.add_row(
                name,
                str(score.n),
                str(score.correct),
                f"{score.accuracy:.3f}",
                f"{score.slots.f1:.3f}",
            )
    console.print(table)
    styles = ", ".join(
        f"{name} {s.accuracy:.3f} ({s.n})" for name, s in sorted(report.per_style.items())
    )
    console.print(
        f"intent accuracy {report.intent_accuracy:.3f}; slots P {report.slots.precision:.3f} "
        f"R {report.slots.recall:.3f} F1 {report.slots.f1:.3f}; exact match "
        f"{report.exact_match:.3f}; by style: {styles}",
        highlight=False,
    )
    if show_errors:
        for p in report.errors():
            got = (
                p.command.model_dump(exclude_defaults=True, exclude={"clarification", "confidence"})
                if p.command
                else p.error
            )
            want = p.item.gold.model_dump(exclude_defaults=True)
            console.print(
                f"[red]{p.item.id}[/] {escape(p.item.text)}\n  want {escape(str(want))}\n"
                f"  got  {escape(str(got))}",
                highlight=False,
            )
