"""The run log's row format, shared by every store backend.

A run is a plain dict: ``started_at`` and ``finished_at`` (ISO 8601 text, or epoch seconds,
turned into ISO text), ``status`` (``"ok"``, ``"error"``, ...), ``request`` (the transcript or
typed text), ``events`` (a list of event dicts) and ``result`` (a dict). Events and result are
stored as JSON text; values JSON cannot hold (paths, ...) are stored as their ``str``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cairn.errors import StoreError

MAX_RUN_LIMIT = 10_000

RunRow = tuple[str, str | None, str, str | None, str, str]


def _iso(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=UTC)
        return when.astimezone(UTC).isoformat(timespec="milliseconds")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC).isoformat(timespec="milliseconds")
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise StoreError("bad-run", f"run {field} must be a time (ISO text or epoch seconds)")


def run_row(run: dict[str, Any]) -> RunRow:
    """The columns (started_at, finished_at, status, request, events, result) for ``run``."""
    if not isinstance(run, dict):
        raise StoreError("bad-run", "a run must be a dict")
    status = run.get("status")
    if not isinstance(status, str) or not status.strip():
        raise StoreError("bad-run", "a run needs a status, e.g. 'ok' or 'error'")
    started = _iso(run.get("started_at"), "started_at")
    if started is None:
        started = datetime.now(UTC).isoformat(timespec="milliseconds")
    request = run.get("request")
    events = run.get("events") or []
    result = run.get("result") or {}
    if not isinstance(events, list) or not isinstance(result, dict):
        raise StoreError("bad-run", "run events must be a list and result a dict")
    return (
        started,
        _iso(run.get("finished_at"), "finished_at"),
        status.strip(),
        None if request is None else str(request).replace("\x00", ""),
        json.dumps(events, ensure_ascii=False, default=str),
        json.dumps(result, ensure_ascii=False, default=str),
    )


def run_from_row(row: tuple[Any, ...]) -> dict[str, Any]:
    """A stored row (id, started_at, finished_at, status, request, events, result) as a dict."""
    return {
        "id": int(row[0]),
        "started_at": str(row[1]),
        "finished_at": None if row[2] is None else str(row[2]),
        "status": str(row[3]),
        "request": None if row[4] is None else str(row[4]),
        "events": json.loads(row[5]) if row[5] else [],
        "result": json.loads(row[6]) if row[6] else {},
    }


def check_limit(limit: int) -> int:
    return max(0, min(int(limit), MAX_RUN_LIMIT))


RUN_COLUMNS = "id, started_at, finished_at, status, request, events, result"


def run_needle(uri: str) -> str:
    """How a source's URI appears inside a stored run's JSON (to forget runs that cite it)."""
    return json.dumps(uri, ensure_ascii=False)[1:-1]
