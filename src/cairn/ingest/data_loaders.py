"""Loaders for tables and records: CSV, JSON and JSON Lines."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from cairn.errors import LoadError
from cairn.ingest.file_reading import (
    _SNIFF_CHARS,
    LoadedDocument,
    LoadOptions,
    _read_text,
    _reason,
    _show,
    _squash,
)

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
