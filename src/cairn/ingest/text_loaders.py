"""Loaders for plain text, Markdown and HTML."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cairn.errors import LoadError
from cairn.ingest.file_reading import (
    _BLANK_LINES,
    LoadedDocument,
    LoadOptions,
    _read_text,
    _show,
    _squash,
)

# --------------------------------------------------------------------------- plain text


def _load_txt(path: Path, options: LoadOptions) -> list[LoadedDocument]:
    text = _read_text(path, options)
    return [LoadedDocument(text, path.stem, None, {"format": "txt"})]


_ATX_H1 = re.compile(r"#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*")
_FENCE = re.compile(r"[ ]{0,3}(```|~~~)")


def _load_markdown(path: Path, options: LoadOptions) -> list[LoadedDocument]:
    text = _read_text(path, options)
    return [LoadedDocument(text, _markdown_title(text) or path.stem, None, {"format": "markdown"})]


def _markdown_title(text: str) -> str | None:
    """The first level-1 ATX heading ("# Title") outside fenced code blocks."""
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (m := _ATX_H1.fullmatch(line)) and m.group(1).strip():
            return m.group(1).strip()
    return None


# --------------------------------------------------------------------------- HTML

_HTML_SKIP = frozenset({"script", "style", "noscript", "template", "head", "-comment"})
_HTML_BLOCKS = frozenset(
    {"p", "div", "section", "article", "aside", "header", "footer", "main", "nav", "pre"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote", "hr"}
    | {"figure", "figcaption", "form", "fieldset", "address", "details", "summary", "caption"}
)
_HTML_LINES = frozenset({"li", "tr", "dt", "dd", "br"})
_HTML_CELLS = frozenset({"td", "th"})
_CELL = "\ue000"  # a private-use character marking where a table cell starts
_WHITESPACE = re.compile(r"\s+")
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_CELL_SEP = re.compile(rf"[^\S\n]*{_CELL}[^\S\n]*")


def _load_html(path: Path, options: LoadOptions) -> list[LoadedDocument]:
    from selectolax.lexbor import LexborHTMLParser  # selectolax >= 1.0 dropped selectolax.parser

    tree = LexborHTMLParser(_read_text(path, options).replace(_CELL, ""))
    title_node = tree.head.css_first("title") if tree.head is not None else None
    title = _squash(title_node.text()) if title_node is not None else ""
    if not title:
        h1 = tree.css_first("h1")
        title = _squash(h1.text()) if h1 is not None else ""
    root = tree.body if tree.body is not None else tree.root
    text = _html_text(root) if root is not None else ""
    if not text:
        raise LoadError("no-text", f"{_show(path)}: the page has no visible text")
    return [LoadedDocument(text, title or path.stem, None, {"format": "html"})]


def _html_text(root: Any) -> str:
    """Visible text: blocks separated by a blank line, list items and rows by a newline."""
    parts: list[str | int] = []  # text, or a break: 1 = newline, 2 = blank line
    stack: list[Any] = [root]  # nodes to visit, or the break to emit when an element closes
    while stack:
        node = stack.pop()
        if isinstance(node, int):
            parts.append(node)
            continue
        tag = node.tag
        if tag == "-text":
            parts.append(_WHITESPACE.sub(" ", node.text(deep=False)))
            continue
        if tag in _HTML_SKIP:
            continue
        if tag == "pre":  # keep its line breaks
            parts.extend((2, node.text(deep=True), 2))
            continue
        if tag in _HTML_BLOCKS or tag in _HTML_LINES:
            gap = 2 if tag in _HTML_BLOCKS else 1
            parts.append(gap)
            stack.append(gap)
        elif tag in _HTML_CELLS:
            parts.append(_CELL)
        children = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        stack.extend(reversed(children))
    return _tidy_lines(_join_breaks(parts))


def _join_breaks(parts: list[str | int]) -> str:
    """Text with each run of breaks (and the blank text between them) as its widest break."""
    out: list[str] = []
    pending = 0
    for part in parts:
        if isinstance(part, int):
            pending = max(pending, part)
        elif pending and not part.strip():
            continue
        else:
            out.append("\n" * pending + part)
            pending = 0
    return "".join(out)


def _tidy_lines(text: str) -> str:
    lines = []
    for raw in text.split("\n"):
        line = _INLINE_SPACE.sub(" ", raw).strip().removeprefix(_CELL)
        lines.append(_CELL_SEP.sub(" | ", line).strip())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
