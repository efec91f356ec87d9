"""transcribe, say."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from cairn.cli.common import JsonOption, console, err_console, errors_as_messages, print_json


def register(app: typer.Typer) -> None:
    app.command()(transcribe)
    app.command()(say)


def transcribe(
    audio: Annotated[Path, typer.Argument(help="wav, flac, mp3, ogg or webm file.")],
    model: Annotated[
        str | None,
        typer.Option(
            help="'base' (default, packaged), 'tiny' (packaged, faster), a folder or name."
        ),
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="Language code, e.g. en; detected when omitted.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Transcribe speech to text, with word timestamps."""
    from cairn.cli.progress import step
    from cairn.models.stt import load_stt

    with errors_as_messages():
        stt = load_stt(None if model in (None, "base") else model)
        with step("loading the speech model", quiet=json_out):
            stt.warm_up()
        progress = Progress(
            TextColumn("transcribing"),
            BarColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            console=err_console,
            disable=json_out,
            transient=True,
        )
        with progress:
            task = progress.add_task("stt", total=1.0)
            result = stt.transcribe(
                audio,
                language=language,
                on_progress=lambda f: progress.update(task, completed=f),
            )
    if json_out:
        print_json(
            {
                "text": result.text,
                "language": result.language,
                "language_probability": result.language_probability,
                "duration": result.duration,
                "segments": [
                    {
                        "text": s.text,
                        "start": s.start,
                        "end": s.end,
                        "words": [
                            {"text": w.text, "start": w.start, "end": w.end, "p": w.probability}
                            for w in s.words
                        ],
                    }
                    for s in result.segments
                ],
            }
        )
        return
    if result.is_empty:
        err_console.print("no speech detected")
        raise typer.Exit(1)
    console.print(result.text, highlight=False)


def say(
    text: Annotated[str, typer.Argument(help="What to say.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="WAV file to write.")] = Path("say.wav"),
    engine: Annotated[
        str | None, typer.Option(help="piper, espeak or festival (default: best installed).")
    ] = None,
) -> None:
    """Speak text into a WAV file."""
    from cairn.models.tts import load_tts

    if not text.strip():
        err_console.print("[bold red]error:[/] nothing to say: the text is empty")
        raise typer.Exit(2)
    with errors_as_messages():
        tts = load_tts(engine)
        path = tts.synthesize_to_file(text, out)
    console.print(f"wrote {path}")
