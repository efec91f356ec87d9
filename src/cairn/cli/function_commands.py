"""`cairn eval functions`: BFCL's function documents through the schema-grounded understanding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cairn.cli.common import JsonOption, console, errors_as_messages, print_json


def eval_functions_cli(
    categories: Annotated[
        str,
        typer.Option(
            "--categories",
            help="Comma-separated: simple, multiple, irrelevance, live_simple, live_multiple, "
            "live_irrelevance.",
        ),
    ] = "simple,multiple,irrelevance,live_simple,live_multiple,live_irrelevance",
    half: Annotated[
        str, typer.Option(help="report (odd ids), dev (even ids: tuning only) or all.")
    ] = "report",
    limit: Annotated[
        int | None, typer.Option(help="At most this many items per category.", show_default=False)
    ] = None,
    errors_to: Annotated[
        Path | None,
        typer.Option("--errors", help="Write the items it got wrong to this JSON file."),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="fast (no LLM), llm (the --llm alone, grammar-constrained), hybrid, or all "
            "three in one run (also fits the hybrid's cut-offs when --half dev). With an LLM, "
            "--limit takes an evenly spaced sample.",
        ),
    ] = "fast",
    llm: Annotated[
        str | None,
        typer.Option(
            "--llm",
            help="qwen0.5b, qwen1.5b, smollm2 (scripts/get-llm), local, a .gguf path or an "
            "OpenAI-compatible URL.",
            show_default=False,
        ),
    ] = None,
    records_to: Annotated[
        Path | None,
        typer.Option("--records", help="Write one JSON line per item and engine outcome here."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """BFCL AST accuracy of request understanding, scored by BFCL's own checker.

    Needs `pip install --no-deps bfcl-eval==2026.3.23` (benchmark only)."""
    if engine != "fast" or llm:
        from cairn.cli.function_engines_cli import eval_engines

        names = [c.strip() for c in categories.split(",") if c.strip()]
        eval_engines(names, half, engine, llm, limit, records_to, json_out)
        return
    from cairn.models.embed import packaged_minilm
    from cairn_eval.functions import BFCL_TODAY, score_category

    names = [c.strip() for c in categories.split(",") if c.strip()]
    rows = []
    errors = {}
    with errors_as_messages():
        encoder = packaged_minilm()
        encoder.warm_up()
        for name in names:
            score = score_category(name, half, encoder, limit=limit)
            rows.append(score.as_dict())
            errors[name] = score.errors
    if errors_to is not None:
        errors_to.write_text(json.dumps(errors, indent=1, default=str), encoding="utf-8")
    if json_out:
        print_json({"half": half, "today": BFCL_TODAY.isoformat(), "categories": rows})
        return
    title = f"BFCL, {half} half, read as of {BFCL_TODAY.isoformat()}"
    table = Table("category", "n", "correct", "AST accuracy", "p50 ms", title=title)
    for r in rows:
        table.add_row(
            r["category"],
            str(r["n"]),
            str(r["correct"]),
            f"{r['accuracy']:.3f}",
            f"{r['p50_ms']:.1f}",
        )
    console.print(table)
