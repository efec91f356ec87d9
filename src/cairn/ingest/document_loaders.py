"""Loaders for PDF and DOCX, and the zip-bomb check DOCX (and uploads) pass first."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from cairn.errors import LoadError
from cairn.ingest.file_reading import (
    LoadedDocument,
    LoadOptions,
    _read_bytes,
    _reason,
    _show,
    _squash,
)
from cairn.ingest.parser_warnings import parser_warnings

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
