"""Structured records (rows from API calls) and stored tools: helpers every store shares.

A call's rows are kept twice, in the same transaction: as JSON records (``list_records``), and
as one searchable document whose lines render the rows as ``key: value; ...``, so that search,
answers and forgetting treat them like any other source.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cairn.errors import StoreError
from cairn.kb.types import ChunkIn, DocumentIn

MAX_CHUNK_CHARS = 1200
MAX_RECORDS_LIMIT = 100_000
RECORD_KEYS = ("id", "source_id", "operation", "requested_at", "request", "data")


@dataclass(frozen=True)
class StoredTool:
    """An imported API: its OpenAPI document (JSON text), allowed hosts and base URL."""

    name: str
    spec_json: str
    allowed_hosts: tuple[str, ...]
    base_url: str
    saved_at: str  # ISO 8601 UTC
    # "host:port" endpoints at private addresses the owner approved when adding the tool
    private_hosts: tuple[str, ...] = ()


def to_json(value: Any) -> str:
    """JSON text for a record or request; :class:`StoreError` when it is not JSON-able."""
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=False, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise StoreError("kb-write", f"a record is not plain JSON: {err}") from err


def check_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise StoreError("kb-write", f"record {n} is a {type(row).__name__}, not an object")
        out.append(dict(row))
    return out


def records_limit(limit: int) -> int:
    if not 0 <= int(limit) <= MAX_RECORDS_LIMIT:
        raise StoreError("kb-read", f"limit must be in 0..{MAX_RECORDS_LIMIT}, not {limit}")
    return int(limit)


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        text = str(int(value)) if abs(value) < 1e15 else repr(value)
    elif value is None or isinstance(value, bool | int | float):
        text = json.dumps(value)
    else:
        text = json.dumps(value, ensure_ascii=False)
    return " ".join(text.split())


def render_row(row: Mapping[str, Any]) -> str:
    """One row as one line: ``key: value; key: value``."""
    return "; ".join(f"{' '.join(str(k).split())}: {_value_text(v)}" for k, v in row.items())


def records_document(
    title: str, rows: Sequence[Mapping[str, Any]], *, header: str | None = None
) -> DocumentIn:
    """A searchable document for ``rows``: a header line, then one line per row.

    Chunks hold whole lines (at most ``MAX_CHUNK_CHARS`` each unless one line is longer) with
    exact offsets; they carry no vectors (the tool layer adds them).
    """
    lines = ([header] if header else []) + [render_row(r) for r in rows]
    text = "\n".join(lines)
    chunks: list[ChunkIn] = []
    start = pos = 0
    end = 0
    for line in lines:
        line_end = pos + len(line)
        if end > start and line_end - start > MAX_CHUNK_CHARS:
            chunks.append(ChunkIn(start, end, text[start:end]))
            start = pos
        end = line_end
        pos = line_end + 1
    if end > start:
        chunks.append(ChunkIn(start, end, text[start:end]))
    return DocumentIn("records", title, text, chunks, {"kind": "api-records"})


def record_from_row(row: Sequence[Any]) -> dict[str, Any]:
    """A stored record as a dict; ``row`` holds the columns of :data:`RECORD_KEYS`."""
    request, data = row[4], row[5]
    return {
        "id": int(row[0]),
        "source_id": int(row[1]),
        "operation": str(row[2]),
        "requested_at": str(row[3]),
        "request": json.loads(request) if isinstance(request, str) else request,
        "data": json.loads(data) if isinstance(data, str) else data,
    }


@dataclass(frozen=True)
class RecordBatch:
    """What every backend writes for one ``add_records`` call."""

    request_json: str
    data: list[str]  # one JSON object per row
    documents: Sequence[DocumentIn]  # the searchable rendering
    requested_at: str
    content_hash: str
    size: int


def prepare_records(
    operation: str,
    request: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    documents: Sequence[DocumentIn] | None,
    requested_at: str | None,
) -> RecordBatch:
    clean = check_rows(rows)
    data = [to_json(r) for r in clean]
    body = "\n".join(data).encode()
    return RecordBatch(
        request_json=to_json(dict(request)),
        data=data,
        documents=documents if documents is not None else [records_document(operation, clean)],
        requested_at=requested_at or datetime.now(UTC).isoformat(timespec="microseconds"),
        content_hash=hashlib.sha256(body).hexdigest(),
        size=len(body),
    )


def tool_from_row(row: Sequence[Any]) -> StoredTool:
    """A ``tools`` row (name, spec, allowed_hosts JSON, base_url, saved_at, private_hosts
    JSON), any backend."""
    return StoredTool(
        name=str(row[0]),
        spec_json=str(row[1]),
        allowed_hosts=tuple(json.loads(str(row[2]))),
        base_url=str(row[3]),
        saved_at=str(row[4]),
        private_hosts=tuple(json.loads(str(row[5]))) if len(row) > 5 and row[5] else (),
    )


TOOL_COLUMNS = "name, spec, allowed_hosts, base_url, saved_at, private_hosts"
