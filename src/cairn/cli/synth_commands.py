"""cairn synth: synthetic tables that mimic a source, and reports of their fidelity and privacy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cairn.cli.common import (
    JsonOption,
    KbOption,
    console,
    err_console,
    errors_as_messages,
    fail,
    print_json,
)

USAGE = "cairn synth SOURCE [options]  or  cairn synth report SOURCE SYNTHETIC [--holdout PATH]"


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)


def synth(
    args: Annotated[
        list[str],
        typer.Argument(
            help="SOURCE (a CSV/JSONL table: KB source id, path or URL), or "
            "'report SOURCE SYNTHETIC' to compare a synthetic table with its source.",
            show_default=False,
            metavar="SOURCE | report SOURCE SYNTHETIC",
        ),
    ],
    generator: Annotated[
        str,
        typer.Option(
            help="mst (differentially private), mst-v1 (the first, less faithful mst) or "
            "copula (not private)."
        ),
    ] = "mst",
    epsilon: Annotated[
        float | None,
        typer.Option(help="Privacy budget for mst (default 1.0); smaller is more private."),
    ] = None,
    delta: Annotated[
        float | None, typer.Option(help="mst's delta (default min(1e-6, 1/rows^2)).")
    ] = None,
    rows: Annotated[
        int | None, typer.Option(help="Rows to generate (default: as many as the source).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output .csv (default: SOURCE.synthetic-GEN.csv)."),
    ] = None,
    report: Annotated[
        bool,
        typer.Option(
            "--report",
            help="Fit on a random 80% of the rows, keep 20% as a real hold-out, and write "
            "a fidelity/privacy report (JSON + PNG) beside the output.",
        ),
    ] = False,
    holdout: Annotated[
        Path | None, typer.Option(help="report: a real hold-out table the generator never saw.")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Column to predict for train-on-synthetic accuracy.")
    ] = None,
    figure: Annotated[Path | None, typer.Option(help="report: where to write the PNG.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    no_ingest: Annotated[
        bool, typer.Option("--no-ingest", help="Write the table but do not add it to the KB.")
    ] = False,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Write a synthetic table that mimics SOURCE (same columns and types), or report on one.

    The mst generator is differentially private (--epsilon); copula is not, and is for
    fidelity checks only. Sources whose consent is 'refused' are refused."""
    if args and args[0] == "report":
        if len(args) != 3:
            fail(f"report needs SOURCE and SYNTHETIC: {USAGE}")
        _report(Path(args[1]), Path(args[2]), holdout, target, out, figure, json_out)
        return
    if len(args) != 1:
        fail(f"expected one SOURCE: {USAGE}")
    if generator in ("mst", "mst-v1") and epsilon is None:
        epsilon = 1.0
    _synth(
        args[0], generator, epsilon, delta, rows, out, report, target, seed, no_ingest, kb, json_out
    )


def _synth(
    ref: str,
    generator: str,
    epsilon: float | None,
    delta: float | None,
    rows: int | None,
    out: Path | None,
    report: bool,
    target: str | None,
    seed: int,
    no_ingest: bool,
    kb: str | None,
    json_out: bool,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cairn.knowledge import open_kb
    from cairn.synth.service import synthesize

    progress = Progress(
        TextColumn("fitting {task.fields[step]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=json_out,
        transient=True,
    )
    with errors_as_messages(), open_kb(kb) as base, progress:
        task = progress.add_task("fit", total=None, step=generator)

        def on_progress(step: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, step=f"{generator}: {step}")

        result = synthesize(
            ref,
            kb=base,
            generator=generator,
            epsilon=epsilon,
            delta=delta,
            rows=rows,
            out=out,
            seed=seed,
            ingest=not no_ingest,
            holdout=0.2 if report else None,
            target=target,
            progress=on_progress,
        )
    if json_out:
        print_json(result.to_dict())
        return
    privacy = (
        f"epsilon={result.epsilon:g}, delta={result.delta:.2g}"
        if result.epsilon is not None
        else "NOT differentially private"
    )
    console.print(
        f"wrote {result.rows} synthetic rows to {result.path} ({result.generator}, {privacy})"
    )
    console.print(f"provenance: {result.provenance_path}; derived from {result.derived_from}")
    if result.source_id is not None:
        console.print(f"added as source {result.source_id} (licence {result.license or 'none'})")
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}")
    if result.report_path:
        console.print(f"report: {result.report_path}, figure: {result.figure_path}")


def _report(
    real: Path,
    synthetic: Path,
    holdout: Path | None,
    target: str | None,
    out: Path | None,
    figure: Path | None,
    json_out: bool,
) -> None:
    from cairn.synth.service import report_tables

    with errors_as_messages(), console.status("comparing"):
        result = report_tables(
            real, synthetic, holdout=holdout, target=target, out=out, figure=figure
        )
    if json_out:
        print_json(result)
        return
    _print_report(result)


def _print_report(r: dict[str, Any]) -> None:
    f, p = r["fidelity"], r["privacy"]
    console.print(
        f"fidelity: mean column TVD {f['mean_column_tvd']}, mean 2-way TVD {f['mean_2way_tvd']}"
    )
    if f.get("holdout_mean_2way_tvd") is not None:
        console.print(
            f"  (a real hold-out scores {f['holdout_mean_2way_tvd']} against the same rows)"
        )
    if "utility" in f:
        u = f["utility"]
        console.print(
            f"  predicting {u['target']}: train-on-real {u['train_real_test_real']}, "
            f"train-on-synthetic {u['train_synthetic_test_real']} (ratio {u['ratio']})"
        )
    console.print(
        f"privacy: {p['exact_copies']} exact copies, median DCR {p['dcr_synthetic_median']}"
    )
    if "membership_auc" in p:
        console.print(
            f"  membership-inference AUC {p['membership_auc']} (0.5 = no better than chance)"
        )
    for note in r["notes"]:
        console.print(f"[yellow]note:[/] {note}")
    console.print(f"report: {r['report']}, figure: {r['figure']}")
