"""The ``cairn`` command line: thin, over the library API. One module per command group."""

from __future__ import annotations

import typer

from cairn.cli import (
    answer_commands,
    chart_commands,
    command_commands,
    demo_command,
    eval_commands,
    kb_commands,
    migrate_commands,
    server_commands,
    speech_commands,
    synth_commands,
    tools_commands,
    voice_commands,
)

app = typer.Typer(
    name="cairn",
    help="Cairn: grounded answers from your own documents, on your own machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
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
synth_commands.register(app)


def main() -> None:
    app()
