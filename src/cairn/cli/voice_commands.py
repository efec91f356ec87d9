"""voice, runs list, runs show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cairn.cli.common import (
    JsonOption,
    KbOption,
    console,
    err_console,
    errors_as_messages,
    fail,
    open_kb,
    print_json,
)
from cairn.events import Event, EventType, Stage

runs_app = typer.Typer(
    name="runs",
    help="The run log: every request `cairn voice` (or the server) carried out.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.command()(voice)
    runs_app.command("list")(runs_list)
    runs_app.command("show")(runs_show)
    app.add_typer(runs_app, name="runs")


def _stage_line(ev: Event) -> str | None:
    d = ev.data
    if ev.type == EventType.error:
        return (
            f"[bold red]x {ev.stage:<10}[/] [red]{escape(str(d.get('code')))}[/]: "
            f"{escape(str(d.get('message')))}"
        )
    if ev.type == EventType.warning:
        return f"[yellow]! {ev.stage:<10}[/] {escape(str(d.get('message')))}"
    if ev.type != EventType.stage_end:
        return None
    seconds = float(d.get("seconds", 0.0))
    if "skipped" in d:
        return f"[dim]- {ev.stage:<10} {seconds:6.2f} s  skipped: {escape(str(d['skipped']))}[/]"
    detail = ""
    if ev.stage == Stage.stt:
        detail = f"\u201c{d.get('text', '')}\u201d"
    elif ev.stage == Stage.understand:
        detail = str(d.get("command", {}).get("intent", ""))
    elif ev.stage == Stage.act:
        detail = ", ".join(f"{k}={v}" for k, v in d.items() if k not in ("seconds", "intent"))
    elif ev.stage == Stage.answer:
        detail = f"{len(d.get('citations', []))} citations"
    elif ev.stage == Stage.chart:
        detail = ", ".join(d.get("paths", []))
    elif ev.stage == Stage.speak:
        detail = str(d.get("path", ""))
    elif ev.stage == Stage.remember:
        detail = str(d.get("path") or d.get("stored", ""))
    return f"[green]\u2713 {ev.stage:<10}[/] {seconds:6.2f} s  {escape(detail)}"


def voice(
    audio: Annotated[
        Path | None, typer.Argument(help="The spoken request: wav, flac, mp3, ogg or webm.")
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", help="A typed request instead of audio.")
    ] = None,
    speak: Annotated[
        Path | None, typer.Option("--speak", help="Write the spoken answer to this WAV file.")
    ] = None,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Draw a PNG chart here when the result is numeric."),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm destructive requests (forget a source).")
    ] = False,
    stt_model: Annotated[
        str | None,
        typer.Option(
            "--stt",
            help="'base' (default, packaged), 'tiny', 'moonshine' (faster on short questions), "
            "a folder or a name.",
        ),
    ] = None,
    tts_engine: Annotated[
        str | None,
        typer.Option("--tts", help="piper, espeak-ng or festival (default: best installed)."),
    ] = None,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Carry out a spoken (or typed) request: transcribe, understand, act, answer with
    citations, chart and speak; each stage shows as it ends, and the run is logged."""
    from cairn.compose import speech_to_text, text_to_speech
    from cairn.pipeline import run_pipeline

    if (audio is None) == (text is None):
        fail("give an audio file or --text (one of them)")

    def on_event(ev: Event) -> None:
        line = _stage_line(ev)
        if line and not json_out:
            err_console.print(line, highlight=False)

    with errors_as_messages(), open_kb(kb) as base:
        stt = speech_to_text(stt_model) if audio else None
        if stt is not None:  # the first Moonshine load prepares its cache (~20 s)
            from cairn.cli.progress import step

            with step("loading the speech model", quiet=json_out):
                stt.warm_up()
        tts = text_to_speech(tts_engine) if speak else None
        result = run_pipeline(
            base,
            audio=audio,
            text=text,
            speak_to=speak,
            chart_to=chart,
            stt=stt,
            tts=tts,
            on_event=on_event,
            confirm=yes,
        )
    if json_out:
        print_json(result.to_dict())
    else:
        if result.transcript is not None:
            console.print(f"[bold]request[/] {escape(result.transcript)}", highlight=False)
        if result.command is not None:
            console.print("[bold]command[/]", highlight=False)
            console.print_json(result.command.model_dump_json(exclude_defaults=True))
        if result.answer is not None:
            console.print("[bold]answer[/]", highlight=False)
            console.print(escape(result.answer), highlight=False)
            for c in result.citations:
                lic = f", {c.license}" if c.license else ""
                console.print(
                    f"  [{c.n}] {escape(c.title or c.doc_key)} ({escape(c.source)}{lic}, "
                    f"chars {c.start}-{c.end})",
                    highlight=False,
                )
        if result.run_id is not None:
            console.print(f"[dim]run {result.run_id} logged ({result.seconds:.2f} s)[/]")
    if result.error is not None:
        if not json_out:
            err_console.print(
                f"[bold red]error:[/] {escape(result.error.message)}", highlight=False
            )
        raise typer.Exit(1)


def _short(value: Any, width: int = 60) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def runs_list(
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """List the latest runs: id, time, status, request and answer."""
    with errors_as_messages(), open_kb(kb) as base:
        runs = base.store.list_runs(limit)
    if json_out:
        print_json([{k: v for k, v in r.items() if k != "events"} for r in runs])
        return
    if not runs:
        console.print("no runs yet: try `cairn voice --text 'what can you do'`")
        return
    table = Table("id", "started", "status", "request", "answer")
    for r in runs:
        status = r["status"]
        style = "green" if status == "ok" else "red"
        error = (r["result"].get("error") or {}).get("code")
        table.add_row(
            str(r["id"]),
            str(r["started_at"])[:19].replace("T", " "),
            f"[{style}]{escape(status)}[/]" + (f" ({escape(error)})" if error else ""),
            escape(_short(r["request"], 40)),
            escape(_short(r["result"].get("answer"))),
        )
    console.print(table)


def runs_show(
    run_id: Annotated[int, typer.Argument(help="A run id from `cairn runs list`.")],
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Show one run: its stages with timings, the command, the answer and its citations."""
    with errors_as_messages(), open_kb(kb) as base:
        run = base.store.get_run(run_id)
    if run is None:
        fail(f"no run with id {run_id} (see `cairn runs list`)")
    if json_out:
        print_json(run)
        return
    res: dict[str, Any] = run["result"]
    console.print(
        f"[bold]run {run['id']}[/] {run['status']}  {run['started_at']} -> {run['finished_at']}",
        highlight=False,
    )
    for d in run["events"]:
        try:
            ev = Event(EventType(d["type"]), d["stage"], d.get("data", {}), d.get("t", 0.0))
        except (KeyError, ValueError):
            continue
        line = _stage_line(ev)
        if line:
            console.print(line, highlight=False)
    console.print(f"[bold]request[/] {escape(str(run['request']))}", highlight=False)
    if res.get("command"):
        console.print("[bold]command[/]")
        console.print_json(json.dumps(res["command"]))
    if res.get("answer") is not None:
        console.print("[bold]answer[/]")
        console.print(escape(str(res["answer"])), highlight=False)
        for c in res.get("citations", []):
            console.print(
                f"  [{c['n']}] {escape(str(c.get('title') or c.get('doc_key')))} "
                f"({escape(str(c.get('source')))}, chars {c.get('start')}-{c.get('end')})",
                highlight=False,
            )
