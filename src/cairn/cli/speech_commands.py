"""transcribe, say."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from cairn.cli.common import (
    JsonOption,
    KbOption,
    console,
    err_console,
    errors_as_messages,
    print_json,
)


def register(app: typer.Typer) -> None:
    app.command()(transcribe)
    app.command()(say)


def transcribe(
    audio: Annotated[Path, typer.Argument(help="wav, flac, mp3, ogg or webm file.")],
    model: Annotated[
        str | None,
        typer.Option(
            help="'base' (default, packaged), 'tiny' (packaged, faster), 'moonshine' "
            "(packaged, English, fastest on short clips), a folder or name."
        ),
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="Language code, e.g. en; detected when omitted.")
    ] = None,
    prime: Annotated[
        bool,
        typer.Option(
            "--prime/--no-prime",
            help="Tell Whisper the names and terms of the knowledge base (when it exists) "
            "and its tools, so it hears them.",
        ),
    ] = True,
    prompt: Annotated[
        str | None,
        typer.Option("--prompt", help="Words to expect instead, e.g. 'Watt, Newcomen'."),
    ] = None,
    kb: KbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Transcribe speech to text, with word timestamps."""
    from cairn.cli.progress import step
    from cairn.models.stt import load_stt

    with errors_as_messages():
        stt = load_stt(None if model in (None, "base") else model)
        if prompt and prompt.strip():
            stt = stt.with_context(prompt)
        elif prime:
            stt = stt.with_context(_kb_words(kb))

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
                "primed": stt.context is not None,
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


def _kb_words(kb: str | None) -> str | None:
    """The priming words of the knowledge base at ``kb`` (default: $CAIRN_KB, else the user's),
    or None when there is none: a missing SQLite file is not created just to be read."""
    import os

    from cairn.compose import speech_context
    from cairn.config import default_kb_path
    from cairn.knowledge import open_kb

    where = kb or (os.environ.get("CAIRN_KB") or "").strip() or str(default_kb_path())
    if "://" not in where and not Path(where).expanduser().is_file():
        return None
    with open_kb(where) as base:
        return speech_context(base.store)


def say(
    text: Annotated[str, typer.Argument(help="What to say.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="WAV file to write.")] = Path("say.wav"),
    engine: Annotated[
        str | None,
        typer.Option(help="neural, piper, espeak or festival (default: best installed)."),
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
