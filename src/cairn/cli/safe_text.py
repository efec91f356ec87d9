"""Neutralise control characters before anything reaches a terminal.

Ingested documents, API rows and answers are untrusted: an ESC sequence in them could move the
cursor, rewrite earlier lines, set the window title or hide text. :func:`printable` makes every
control character visible instead (ESC becomes ``␛``), keeping newlines and tabs.
:class:`SafeConsole` applies it to everything a rich console prints, so every renderer (tables,
answers, search hits, progress lines, and command modules added later) gets it without asking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.segment import Segment
from rich.text import Text

# C0 controls except tab and newline, DEL, C1 controls, and the bidirectional overrides that
# reorder what a reader sees ("Trojan Source").
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control picture": ESC -> ␛, CR -> ␍
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"


def printable(text: str) -> str:
    """``text`` with every control character shown as a visible symbol (``\\n``, ``\\t`` kept)."""
    return _CONTROL.sub(_visible, text)


class SafeConsole(Console):
    """A rich console that never writes a control character it did not make itself.

    Strings are cleaned before layout (so tables keep their widths); the rendered segments are
    cleaned again before output, which also covers ``Text`` objects built directly. Rich's own
    control segments (cursor moves of a progress bar) and styles are left alone.
    """

    def render_str(self, text: str, *args: Any, **kwargs: Any) -> Text:
        return super().render_str(printable(text), *args, **kwargs)

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            seg if seg.control else Segment(printable(seg.text), seg.style, seg.control)
            for seg in buffer
        )
