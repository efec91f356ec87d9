"""The registered API tools as candidates for `cairn understand`, and `--explain`'s table."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from cairn.cli.common import console

if TYPE_CHECKING:
    from cairn.command.schema_match import OperationIndex


def load_tools(kb: str | None) -> OperationIndex | None:
    """The operations of the tools in ``kb`` (default KB only when it already exists)."""
    from cairn.command.schema_match import tool_index
    from cairn.config import default_kb_path
    from cairn.knowledge import open_kb

    if kb is None and not os.environ.get("CAIRN_KB") and not default_kb_path().exists():
        return None  # no knowledge base yet: nothing registered, and none is created
    base = open_kb(kb)
    try:
        index = tool_index(base.store)
    finally:
        base.close()
    return index if index.ops else None


def explain_match(text: str, tools: OperationIndex | None) -> None:
    """Print the candidate operations with their signals, best first."""
    if tools is None:
        console.print("  no API tools are registered: only the command grammar was used")
        return
    match = tools.match(text)
    table = Table("operation", "score", "meaning", "name", "words", "parameters", "missing")
    for c in match.candidates[:5]:
        params = ", ".join(
            f"{k}={v!r} ({c.filled.evidence.get(k, '')})" for k, v in c.filled.values.items()
        )
        table.add_row(
            c.op.key,
            f"{c.score:.2f}",
            f"{c.meaning:.2f}",
            f"{c.name:.2f}",
            f"{c.words:.2f}",
            escape(params),
            escape(", ".join(c.filled.missing) or (c.op.unusable and "unusable") or ""),
        )
    console.print(table)
    console.print(f"  {escape(match.reason)}", highlight=False)
    unusable = [op for op in tools.ops if op.unusable]
    for op in unusable[:10]:
        console.print(f"  not usable: {op.key}: {escape(op.unusable)}", highlight=False)
