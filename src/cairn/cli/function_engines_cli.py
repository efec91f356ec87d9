"""`cairn eval functions --engine llm|hybrid|all`: the engines with a local LLM, one run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rich.table import Table

from cairn.cli.common import console, errors_as_messages, fail, print_json


def eval_engines(
    categories: list[str],
    half: str,
    engine: str,
    llm_spec: str | None,
    limit: int | None,
    records_to: Path | None,
    json_out: bool,
) -> None:
    """Score the asked engines on each category; with ``all`` on the dev half, also fit and
    print the hybrid's cut-offs."""
    from cairn.cli.progress import event_progress
    from cairn.command.tool_hybrid import load_tool_llm
    from cairn.command.tool_llm import ToolCallEngine
    from cairn.events import Event, EventType
    from cairn.models.embed import packaged_minilm
    from cairn_eval.functions_engines import (
        ENGINES,
        fit_cutoffs,
        record_dicts,
        run_engines,
    )

    engines = ENGINES if engine == "all" else (engine,)
    if engine != "all" and engine not in ENGINES:
        fail(f"unknown engine {engine!r}: use fast, llm, hybrid or all")
    if set(engines) - {"fast"} and not llm_spec:
        fail(f"--engine {engine} needs --llm (e.g. --llm qwen0.5b; see scripts/get-llm)")
    rows: list[dict[str, Any]] = []
    records: list[Any] = []
    with errors_as_messages():
        encoder = packaged_minilm()
        encoder.warm_up()
        # the default single thread: two OpenMP threads stall each other on a loaded host
        model = load_tool_llm(llm_spec) if llm_spec else None
        tool_engine = ToolCallEngine(model) if model is not None else None
        with event_progress(quiet=json_out) as on_event:
            for name in categories:

                def progress(done: int, of: int, name: str = name) -> None:
                    on_event(
                        Event(EventType.progress, "bfcl", {"done": done, "of": of, "label": name})
                    )

                scores, recs = run_engines(
                    name, half, encoder, tool_engine, engines=engines, limit=limit,
                    progress=progress,
                )  # fmt: skip
                rows.extend(s.as_dict() for s in scores)
                records.extend(recs)
                if records_to is not None:  # category by category: a long run keeps its part
                    lines = [json.dumps(r, default=str) for r in record_dicts(records)]
                    records_to.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fitted = None
    if engine == "all" and half == "dev" and records:
        cut, acc = fit_cutoffs(records)
        fitted = {"call": cut.call, "none": cut.none, "dev_mean_accuracy": round(acc, 4)}
    load = os.getloadavg()[0]
    if json_out:
        print_json({"half": half, "llm": llm_spec, "rows": rows, "fitted": fitted, "load1": load})
        return
    table = Table(
        "engine", "category", "n", "correct", "AST accuracy", "p50 ms",
        title=f"BFCL, {half} half, LLM {llm_spec or '-'}",
    )  # fmt: skip
    for r in rows:
        table.add_row(
            r["engine"], r["category"], str(r["n"]), str(r["correct"]),
            f"{r['accuracy']:.3f}", f"{r['p50_ms']:.0f}",
        )  # fmt: skip
    console.print(table)
    console.print(f"load average (1 min) at the end: {load:.2f}", highlight=False)
    if fitted:
        console.print(f"hybrid cut-offs fitted on this half: {fitted}", highlight=False)
