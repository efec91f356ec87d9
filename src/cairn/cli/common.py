"""Options and helpers shared by every command."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from cairn.errors import CairnError

console = Console()
err_console = Console(stderr=True)

KbOption = Annotated[
    str | None,
    typer.Option(
        "--kb",
        help="Knowledge base: a SQLite file or a postgresql:// URL "
        "(default: $CAIRN_KB, else the user data directory).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def errors_as_messages() -> Iterator[None]:
    """Turn Cairn's errors into one clear line and exit code 2 (no traceback)."""
    try:
        yield
    except CairnError as err:
        fail(err.message)
    except KeyboardInterrupt:
        err_console.print("interrupted; everything written so far is kept")
        raise typer.Exit(130) from None


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
