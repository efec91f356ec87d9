"""The ``cairn`` command line: thin, over the library API. One module per command group."""

from __future__ import annotations

import typer

from cairn.cli import (
    adapt_commands,
    answer_commands,
    chart_commands,
    command_commands,
    demo_command,
    eval_commands,
    help_style,
    kb_commands,
    mcp_commands,
    migrate_commands,
    server_commands,
    speech_commands,
    synth_commands,
    synthetic_commands,
    tools_commands,
    voice_commands,
)

app = typer.Typer(
    name="cairn",
    help="Cairn: grounded answers from your own documents, on your own machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        from cairn import __version__

        typer.echo(f"cairn {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_show_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Cairn: grounded answers from your own documents, on your own machine."""


demo_command.register(app)
kb_commands.register(app)
answer_commands.register(app)
server_commands.register(app)
command_commands.register(app)
tools_commands.register(app)
voice_commands.register(app)
migrate_commands.register(app)
chart_commands.register(app)
speech_commands.register(app)
eval_commands.register(app)
mcp_commands.register(app)
synthetic_commands.register(app)
synth_commands.register(app)
adapt_commands.register(app)
adapt_commands.register(app)

help_style.tidy_help(app)  # keep last: applies to every command registered above


def main() -> None:
    help_style.tidy_help(app)  # again (idempotent): also covers a register(app) added below it
    app()
