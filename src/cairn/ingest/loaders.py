"""Read files into plain text documents, one small function per format.

``discover`` turns the paths a person names into the files to ingest; ``load`` reads one
file into zero or more :class:`LoadedDocument`. Every failure is a
:class:`~cairn.errors.LoadError` whose ``code`` is stable and whose message is one line that
names the file and says what is wrong.

Codes: ``not-found``, ``unreadable``, ``unsupported-format``, ``too-large``, ``empty``,
``binary``, ``encoding``, ``no-text``, ``bad-pdf``, ``bad-docx``, ``archive-too-large`` and
``suspicious-archive`` (zip bombs), ``bad-csv``, ``bad-json``, ``ocr-unavailable``,
``ocr-failed``; for audio (transcribed, see :mod:`cairn.ingest.audio_loader`)
``stt-unavailable``, ``stt-failed``, ``no-speech`` and the audio decoder's codes.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cairn.errors import ConfigError, LoadError
from cairn.ingest.parser_warnings import parser_warnings

TEXT_EXTENSIONS = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".csv", ".json", ".jsonl"}
)
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"})
AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".mp3", ".ogg", ".webm", ".m4a"})
SUPPORTED_EXTENSIONS = TEXT_EXTENSIONS | IMAGE_EXTENSIONS | AUDIO_EXTENSIONS | {".pdf", ".docx"}

OCR_TIMEOUT_S = 120
_SNIFF_CHARS = 8192  # how much of a file the binary check and the CSV sniffer look at
_MAX_CONTROL_SHARE = 0.1  # more control characters than this in the sniffed part: binary


@dataclass(frozen=True)
class LoadedDocument:
    text: str  # the full text; all later offsets index into this string
    title: str | None
    doc_key: str | None  # a JSON/JSONL record's "_id" or "id" when present
    metadata: dict[str, str] = field(default_factory=dict)  # small, string values only
    warnings: tuple[str, ...] = ()  # what the parser complained about (reported, not stored)


@dataclass(frozen=True)
class LoadOptions:
    max_bytes: int = 100 * 1024 * 1024  # larger files are refused ("too-large")
    encoding: str | None = None  # None: strict UTF-8 (a BOM is allowed); else this codec

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise ConfigError("bad-max-bytes", f"max_bytes must be positive, got {self.max_bytes}")
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ConfigError(
                    "bad-encoding", f"unknown encoding {self.encoding!r} (try utf-8 or latin-1)"
                ) from None


# --------------------------------------------------------------------------- discover


def discover(
    paths: Sequence[str | Path], skipped: list[LoadError] | None = None
) -> tuple[list[Path], list[LoadError]]:
    """The supported files under ``paths``, absolute and each once, plus what could not be used.

    Folders are walked recursively in sorted order, skipping hidden files and folders; a file
    of unknown type, a link that loops or leads nowhere, a link to a folder (not followed) or
    a FIFO found inside a folder is skipped and, when ``skipped`` is given, added to it with
    its reason. A file named explicitly with an unknown type is an error.
    """
    skipped = [] if skipped is None else skipped
    files: list[Path] = []
    errors: list[LoadError] = []
    seen: set[Path] = set()

    def keep(path: Path) -> None:
        if path not in seen:
            seen.add(path)
            files.append(path)

    for raw in paths:
        given = Path(raw)
        try:
            resolved = given.resolve()
            exists = resolved.exists()
        except (OSError, RuntimeError) as err:  # RuntimeError: a symlink loop
            errors.append(
                LoadError(
                    "unreadable", f"{_show(given)}: cannot resolve path: {err}", path=str(given)
                )
            )
            continue
        if not exists:
            errors.append(
                LoadError("not-found", f"{_show(given)}: no such file or folder", path=str(given))
            )
        elif resolved.is_dir():
            for path in _walk(resolved, errors, skipped):
                keep(path)
        elif resolved.suffix.lower() not in SUPPORTED_EXTENSIONS:
            errors.append(_unsupported(given))
        elif not resolved.is_file():
            errors.append(
                LoadError("unreadable", f"{_show(given)}: not a regular file", path=str(given))
            )
        elif not os.access(resolved, os.R_OK):
            errors.append(
                LoadError("unreadable", f"{_show(given)}: permission denied", path=str(given))
            )
        else:
            keep(resolved)
    return files, errors


def _walk(folder: Path, errors: list[LoadError], skipped: list[LoadError]) -> Iterator[Path]:
    def on_error(err: OSError) -> None:
        where = _show(Path(err.filename)) if err.filename else _show(folder)
        errors.append(
            LoadError("unreadable", f"{where}: cannot list folder: {err.strerror}", str(folder))
        )

    for dirpath, dirnames, filenames in os.walk(folder, onerror=on_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in list(dirnames):
            if Path(dirpath, name).is_symlink():  # os.walk does not follow it: say so
                dirnames.remove(name)
                skipped.append(_skip(Path(dirpath, name), "a link to a folder, not followed"))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if name.startswith("."):
                continue
            if not path.is_file():  # a FIFO, a link that loops or leads nowhere
                skipped.append(_skip(path, _not_a_file(path)))
                continue
            if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
                kind = path.suffix or "(no extension)"
                skipped.append(_skip(path, f"unsupported file type {kind}", "unsupported-format"))
                continue
            if not os.access(path, os.R_OK):
                errors.append(
                    LoadError("unreadable", f"{_show(path)}: permission denied", path=str(path))
                )
                continue
            yield path.resolve()


# --------------------------------------------------------------------------- load

Loader = Callable[[Path, LoadOptions], list[LoadedDocument]]


def load(path: Path, options: LoadOptions = LoadOptions()) -> list[LoadedDocument]:
    """Read one file into zero or more documents; raise :class:`LoadError` if it can't be read."""
    path = Path(path)
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        raise _unsupported(path)
    _check_size(path, options)
    return loader(path, options)


def _check_size(path: Path, options: LoadOptions) -> None:
    """Refuse missing, non-regular, empty and too large files before reading a byte."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise LoadError("not-found", f"{_show(path)}: no such file") from None
    except OSError as err:
        raise LoadError("unreadable", f"{_show(path)}: {err.strerror or err}") from err
    if path.is_dir():
        raise LoadError("unreadable", f"{_show(path)}: is a folder, not a file")
    if st.st_size > options.max_bytes:
        raise LoadError(
            "too-large",
            f"{_show(path)}: {st.st_size:,} bytes is over the limit of {options.max_bytes:,} bytes",
        )
    if st.st_size == 0:
        raise LoadError("empty", f"{_show(path)}: file is empty")


def _read_bytes(path: Path, options: LoadOptions) -> bytes:
    try:
        with path.open("rb") as f:
            data = f.read(options.max_bytes + 1)  # the file may have grown since stat()
    except PermissionError:
        raise LoadError("unreadable", f"{_show(path)}: permission denied") from None
    except OSError as err:
        raise LoadError("unreadable", f"{_show(path)}: {err.strerror or err}") from err
    if len(data) > options.max_bytes:
        raise LoadError(
            "too-large", f"{_show(path)}: over the limit of {options.max_bytes:,} bytes"
        )
    if not data:
        raise LoadError("empty", f"{_show(path)}: file is empty")
    return data


def _read_text(path: Path, options: LoadOptions) -> str:
    """The file decoded, newlines normalised; refuses binary, mis-encoded and blank files."""
    data = _read_bytes(path, options)
    if options.encoding is None:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise LoadError(
                "encoding", f"{_show(path)}: looks like UTF-16 text; pass --encoding utf-16"
            )
        _reject_binary(path, data[:_SNIFF_CHARS].decode("latin-1"))
        text = _decode_utf8(path, data)
    else:
        try:
            text = data.decode(options.encoding)
        except UnicodeDecodeError as err:
            line = data.count(b"\n", 0, err.start) + 1
            raise LoadError(
                "encoding",
                f"{_show(path)}: not valid {options.encoding} at byte {err.start} (line {line})",
            ) from None
        except LookupError as err:  # a codec that is not a text encoding, like rot13
            raise LoadError("encoding", f"{_show(path)}: {err}") from None
        _reject_binary(path, text[:_SNIFF_CHARS])
        text = text.removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LoadError("empty", f"{_show(path)}: contains only whitespace")
    return text


def _decode_utf8(path: Path, data: bytes) -> str:
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as err:
        offset = bom + err.start
        line = data.count(b"\n", 0, offset) + 1
        raise LoadError(
            "encoding",
            f"{_show(path)}: not valid UTF-8 at byte {offset} (line {line}); "
            "if the file uses another encoding, name it, e.g. --encoding latin-1",
        ) from None


def _reject_binary(path: Path, sample: str) -> None:
    if "\x00" in sample:
        raise LoadError("binary", f"{_show(path)}: binary data (NUL bytes), not text")
    controls = sum(1 for ch in sample if (ch < " " and ch not in "\t\n\r\f\v") or ch == "\x7f")
    if sample and controls / len(sample) > _MAX_CONTROL_SHARE:
        raise LoadError("binary", f"{_show(path)}: binary data (control characters), not text")


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
_BLANK_LINES = re.compile(r"\n{3,}")


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


def _squash(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- PDF


def _load_pdf(path: Path, options: LoadOptions) -> list[LoadedDocument]:
    from pypdf import PdfReader

    data = _read_bytes(path, options)
    try:
        with parser_warnings("pypdf") as complaints:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise LoadError(
                    "bad-pdf", f"{_show(path)}: the PDF is encrypted (needs a password)"
                )
            pages = [_clean_page(page.extract_text() or "") for page in reader.pages]
            meta_title = reader.metadata.title if reader.metadata is not None else None
    except LoadError:
        raise
    except Exception as err:  # pypdf raises many exception types on damaged files
        raise LoadError("bad-pdf", f"{_show(path)}: cannot read PDF: {_reason(err)}") from err
    if not any(pages):
        raise LoadError(
            "no-text",
            f"{_show(path)}: no extractable text (scanned PDF? OCR of PDFs is not supported yet)",
        )
    starts, offset = [], 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + 2
    title = meta_title.strip() if isinstance(meta_title, str) else ""
    if title.lower() == "untitled":  # what reportlab and others write when none was set
        title = ""
    metadata = {
        "format": "pdf",
        "pages": str(len(pages)),
        "page_starts": ",".join(map(str, starts)),
    }
    return [
        LoadedDocument(
            "\n\n".join(pages), title or path.stem, None, metadata, tuple(complaints.summary())
        )
    ]


def _clean_page(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


# --------------------------------------------------------------------------- DOCX


# Zip archives (DOCX) are checked before anything is expanded. ``zipfile`` never inflates a
# member beyond the size its directory declares (it stops and fails the CRC check), so the
# declared sizes bound the memory that parsing can take.
ZIP_MAX_EXPANDED = 512 * 1024 * 1024  # all members together, uncompressed
ZIP_MAX_RATIO = 100  # uncompressed / compressed, for members over ZIP_RATIO_FROM bytes
ZIP_RATIO_FROM = 1024 * 1024
ZIP_MAX_MEMBERS = 10_000


def check_zip(data: bytes | Path, name: str, *, max_expanded: int = ZIP_MAX_EXPANDED) -> None:
    """Refuse a zip bomb before expanding it: ``LoadError`` ``archive-too-large`` when the
    members would expand beyond ``max_expanded`` bytes or are too many, and
    ``suspicious-archive`` when a large member is compressed more than ``ZIP_MAX_RATIO`` times.
    A file that is not a zip archive at all is left to the format's loader to report."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    if len(members) > ZIP_MAX_MEMBERS:
        raise LoadError(
            "archive-too-large",
            f"{name}: the archive has {len(members):,} members; the limit is {ZIP_MAX_MEMBERS:,}",
        )
    total = sum(m.file_size for m in members)
    if total > max_expanded:
        raise LoadError(
            "archive-too-large",
            f"{name}: the archive would expand to {total:,} bytes; the limit is "
            f"{max_expanded:,} bytes (refused before expanding it)",
        )
    for m in members:
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > ZIP_RATIO_FROM and ratio > ZIP_MAX_RATIO:
            raise LoadError(
                "suspicious-archive",
                f"{name}: member {m.filename[:80]!r} expands {ratio:,.0f} times "
                f"({m.compress_size:,} -> {m.file_size:,} bytes), more than the "
                f"{ZIP_MAX_RATIO} times a document's parts do: refused as a likely zip bomb",
            )


def _load_docx(path: Path, options: LoadOptions) -> list[LoadedDocument]:
    import docx

    data = _read_bytes(path, options)
    check_zip(data, _show(path))
    try:
        document = docx.Document(io.BytesIO(data))
        blocks, heading = _docx_blocks(document)
        core_title = document.core_properties.title
    except Exception as err:  # zipfile.BadZipFile, KeyError for missing parts, lxml errors, ...
        raise LoadError("bad-docx", f"{_show(path)}: cannot read DOCX: {_reason(err)}") from err
    if not blocks:
        raise LoadError("no-text", f"{_show(path)}: the document has no text")
    title = (core_title or "").strip() or heading or path.stem
    return [LoadedDocument("\n\n".join(blocks), title, None, {"format": "docx"})]


def _docx_blocks(document: Any) -> tuple[list[str], str | None]:
    """Paragraphs and table rows in document order, and the first heading's text."""
    from docx.table import Table

    blocks: list[str] = []
    heading: str | None = None
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.extend(_docx_table_rows(item))
            continue
        text = item.text.replace("\r", "\n").strip()
        if not text:
            continue
        blocks.append(text)
        style = item.style.name if item.style is not None else ""
        if heading is None and (style.startswith("Heading") or style == "Title"):
            heading = _squash(text)
    return blocks, heading


def _docx_table_rows(table: Any) -> list[str]:
    rows = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell is repeated once per grid column
                continue
            previous = cell._tc
            cells.append(_squash(cell.text))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


# --------------------------------------------------------------------------- CSV


_CSV_DELIMITERS = ",;\t|"


def _load_csv(path: Path, options: LoadOptions) -> list[LoadedDocument]:
    text = _read_text(path, options)
    reader = csv.reader(io.StringIO(text), _csv_dialect(text))
    lines: list[str] = []
    try:
        header = next(reader, [])
        for row in reader:
            line = _csv_line(header, row)
            if line:
                lines.append(line)
    except csv.Error as err:
        raise LoadError("bad-csv", f"{_show(path)}: line {reader.line_num}: {err}") from None
    if not lines:
        raise LoadError("empty", f"{_show(path)}: no data rows")
    metadata = {"format": "csv", "rows": str(len(lines))}
    return [LoadedDocument("\n".join(lines), path.stem, None, metadata)]


def _csv_dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """The sniffed dialect; else excel, with the delimiter the header line uses most."""
    try:
        return csv.Sniffer().sniff(text[:_SNIFF_CHARS], delimiters=_CSV_DELIMITERS)
    except csv.Error:
        header = text.partition("\n")[0]
        delimiter = max(_CSV_DELIMITERS, key=header.count)
        if delimiter == "," or not header.count(delimiter):
            return csv.excel
        return type("guessed", (csv.excel,), {"delimiter": delimiter})


def _csv_line(header: list[str], row: list[str]) -> str:
    """ "name: Ada; born: 1815" for one row; empty values are left out."""
    pairs = []
    for i, value in enumerate(row):
        value = _squash(value)
        if value:
            name = _squash(header[i]) if i < len(header) else ""
            pairs.append(f"{name or f'column {i + 1}'}: {value}")
    return "; ".join(pairs)


# --------------------------------------------------------------------------- JSON / JSONL


def _load_json(path: Path, options: LoadOptions) -> list[LoadedDocument]:
    text = _read_text(path, options)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        if err.msg == "Extra data":  # several values, one per line: read it as JSON Lines
            return _jsonl_documents(path, text)
        raise LoadError(
            "bad-json", f"{_show(path)}: line {err.lineno} column {err.colno}: {err.msg}"
        ) from None
    except (ValueError, RecursionError) as err:  # too many digits, nested too deep
        raise LoadError("bad-json", f"{_show(path)}: {_reason(err)}") from None
    if isinstance(value, dict):
        value = [value]
    elif not isinstance(value, list):
        raise LoadError(
            "bad-json",
            f"{_show(path)}: the file holds {_json_type(value)}; "
            "expected an object or a list of objects",
        )
    documents = []
    for i, record in enumerate(value):
        if not isinstance(record, dict):
            raise LoadError(
                "bad-json",
                f"{_show(path)}: item {i} is {_json_type(record)}; expected an object or a "
                "list of objects",
            )
        doc = _record_document(record, {"format": "json", "index": str(i)})
        if doc is not None:
            documents.append(doc)
    return documents


def _load_jsonl(path: Path, options: LoadOptions) -> list[LoadedDocument]:
    return _jsonl_documents(path, _read_text(path, options))


def _jsonl_documents(path: Path, text: str) -> list[LoadedDocument]:
    documents: list[LoadedDocument] = []
    bad: list[tuple[int, str]] = []  # (line number, reason)
    good = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            bad.append((number, f"{err.msg} at column {err.colno}"))
            continue
        except (ValueError, RecursionError) as err:
            bad.append((number, _reason(err)))
            continue
        if not isinstance(record, dict):
            bad.append((number, f"expected an object, got {_json_type(record)}"))
            continue
        good += 1
        doc = _record_document(record, {"format": "jsonl", "line": str(number)})
        if doc is not None:
            documents.append(doc)
    if bad and not good:
        number, reason = bad[0]
        more = f" (and {len(bad) - 1} more bad lines)" if len(bad) > 1 else ""
        raise LoadError("bad-json", f"{_show(path)}: line {number}: {reason}{more}")
    if bad and documents:
        skipped = ",".join(str(n) for n, _ in bad)
        first = documents[0]
        documents[0] = replace(first, metadata={**first.metadata, "skipped_lines": skipped})
    return documents


def _record_document(record: dict[str, Any], metadata: dict[str, str]) -> LoadedDocument | None:
    """A record's text (its "text" field, else its plain fields as "key: value" lines)."""
    raw = record.get("text")
    if isinstance(raw, str):
        text = raw.replace("\r\n", "\n").replace("\r", "\n")
    else:
        text = "\n".join(
            f"{key}: {_scalar(value)}"
            for key, value in record.items()
            if key not in ("_id", "id") and _scalar(value)
        )
    if not text.strip():
        return None
    title = record.get("title")
    return LoadedDocument(
        text=text,
        title=(title.strip() or None) if isinstance(title, str) else None,
        doc_key=_doc_key(record),
        metadata=metadata,
    )


def _doc_key(record: dict[str, Any]) -> str | None:
    for key in ("_id", "id"):
        value = record.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
    return None


def _scalar(value: Any) -> str:
    """A string or number as text; anything else (lists, objects, booleans, null) as ""."""
    if isinstance(value, str):
        return _squash(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    names[type(None)] = "null"
    return names.get(type(value), "a number")


# --------------------------------------------------------------------------- images (OCR)


def _load_image(path: Path, options: LoadOptions) -> list[LoadedDocument]:
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        raise LoadError(
            "ocr-unavailable",
            f"{_show(path)}: is an image, and OCR needs tesseract: "
            "apt-get install tesseract-ocr tesseract-ocr-eng",
        )
    _read_bytes(path, options)  # readable, and not grown past the limit
    try:
        done = subprocess.run(
            [tesseract, os.fspath(path.absolute()), "stdout"],
            capture_output=True,
            timeout=OCR_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise LoadError(
            "ocr-failed", f"{_show(path)}: tesseract took longer than {OCR_TIMEOUT_S} s"
        ) from None
    if done.returncode != 0:
        reason = _one_line(done.stderr.decode("utf-8", "replace")) or f"exit {done.returncode}"
        raise LoadError("ocr-failed", f"{_show(path)}: tesseract failed: {reason}")
    text = done.stdout.decode("utf-8", "replace").replace("\f", "\n")
    text = _BLANK_LINES.sub("\n\n", text.replace("\r\n", "\n")).strip()
    if not text:
        raise LoadError("no-text", f"{_show(path)}: OCR found no text in the image")
    return [LoadedDocument(text, path.stem, None, {"format": "image", "ocr": "tesseract"})]


# --------------------------------------------------------------------------- audio


def _load_audio(path: Path, options: LoadOptions) -> list[LoadedDocument]:
    from cairn.ingest.audio_loader import load_audio  # imports this module: load it late

    return load_audio(path, options)


# --------------------------------------------------------------------------- helpers

_LOADERS: dict[str, Loader] = {
    ".txt": _load_txt,
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".csv": _load_csv,
    ".json": _load_json,
    ".jsonl": _load_jsonl,
    **dict.fromkeys(IMAGE_EXTENSIONS, _load_image),
    **dict.fromkeys(AUDIO_EXTENSIONS, _load_audio),
}


def _unsupported(path: Path) -> LoadError:
    kind = path.suffix or "(no extension)"
    return LoadError(
        "unsupported-format",
        f"{_show(path)}: unsupported file type {kind}; "
        f"supported: {' '.join(sorted(SUPPORTED_EXTENSIONS))}",
        path=str(path),
    )


def _skip(path: Path, why: str, code: str = "skipped") -> LoadError:
    return LoadError(code, f"{_show(path)}: skipped: {why}", path=str(path))


def _not_a_file(path: Path) -> str:
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except RuntimeError:
            return "a symbolic link that loops"
        except OSError as err:
            if err.errno == errno.ELOOP:
                return "a symbolic link that loops"
            return "a symbolic link to nothing"
        return "a symbolic link to something that is not a file"
    return "not a regular file (a FIFO, socket or device)"


def _show(path: Path) -> str:
    """The path for a one-line message: control characters (a newline in a name) escaped."""
    name = str(path)
    if name.isprintable():
        return name
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in name)


def _reason(err: BaseException) -> str:
    """An exception as a short one-line reason."""
    return _one_line(str(err)) or type(err).__name__


def _one_line(text: str) -> str:
    """The last non-blank line of ``text``, trimmed to a readable length ("" if none)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= 200 else line[:197] + "..."
