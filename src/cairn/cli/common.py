"""Options and helpers shared by every command."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from cairn.cli.safe_text import SafeConsole
from cairn.errors import CairnError

if TYPE_CHECKING:
    from cairn.knowledge import KnowledgeBase

_C1 = re.compile("[\x80-\x9f\u202a-\u202e\u2066-\u2069]")
console = SafeConsole()
# Off a terminal (a log file, a pipe) an error line stays one line, not wrapped at 80 columns.
err_console = SafeConsole(stderr=True, soft_wrap=not sys.stderr.isatty())

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
    from rich.markup import escape  # a message naming `pip install 'cairn[train]'` keeps it

    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
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
    """One JSON line. JSON escapes C0 controls; C1 controls (8-bit CSI) and bidi overrides too."""
    line = json.dumps(obj, ensure_ascii=False)
    sys.stdout.write(_C1.sub(lambda m: f"\\u{ord(m.group()):04x}", line) + "\n")


def open_kb(path: str | Path | None = None, **kwargs: Any) -> KnowledgeBase:
    """``cairn.knowledge.open_kb``, imported on first use so ``cairn --help`` stays fast
    (the library pulls in spaCy, numpy and the models)."""
    from cairn import knowledge

    return knowledge.open_kb(path, **kwargs)
