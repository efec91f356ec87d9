"""Forgetting a source everywhere Cairn copied it.

A source's chunks, vectors, graph facts and records go with the store's ``forget_source``,
which also drops the runs (the run log) whose request, events or result name the source.
Cairn also writes files of its own: the note a "remember that ..." request stores
(``notes/`` beside the knowledge base), uploads and the spoken answers and charts of runs
(under the server's data folder). :func:`forget_everywhere` removes those that belong to the
source or to the runs that created or quoted it, never a file of the user's own, and tells
whether the store could get the text out of its files at once (see ``Forgotten.pending``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.config import default_kb_path
from cairn.errors import NotFoundError
from cairn.events import Stage
from cairn.kb.protocol import Store
from cairn.kb.runs import run_needle
from cairn.kb.types import Source

if TYPE_CHECKING:
    from cairn.knowledge import KnowledgeBase

NOTES_COLLECTION = "notes"
_RUN_PAGE = 500


@dataclass(frozen=True)
class Forgotten:
    """What ``forget`` did: the source removed, Cairn's own files removed with it, and, when
    the text could not yet be removed from the store's files, why and how to finish."""

    source: Source
    files_removed: tuple[str, ...] = ()
    pending: str | None = None


def notes_dir(store: Store) -> Path:
    """``notes/`` beside the knowledge base file (or the default KB's, for a server store)."""
    path = getattr(store, "path", None)
    base = Path(path).parent if isinstance(path, Path | str) else default_kb_path().parent
    return base / "notes"


def _inside(path: Path, folders: Iterable[Path]) -> bool:
    try:
        resolved = path.resolve()
    except (OSError, ValueError):
        return False
    for folder in folders:
        with contextlib.suppress(OSError, ValueError):
            if resolved.is_relative_to(folder.resolve()) and resolved != folder.resolve():
                return True
    return False


def _run_files(run: dict[str, Any]) -> list[Path]:
    """The files a run wrote (its spoken answer, charts, the note it stored)."""
    result = run.get("result") or {}
    out = [result.get("audio"), *(result.get("charts") or [])]
    for event in run.get("events") or []:
        data = event.get("data") if isinstance(event, dict) else None
        if isinstance(data, dict) and event.get("stage") in (
            Stage.remember,
            Stage.speak,
            Stage.chart,
        ):
            out.append(data.get("path"))
            out.extend(data.get("paths") or [])
    return [Path(p) for p in out if isinstance(p, str) and p]


def _runs_naming(store: Store, needles: Sequence[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = store.runs_after(after, _RUN_PAGE)
        if not page:
            return found
        for run in page:
            text = json.dumps(run, ensure_ascii=False, default=str)
            if any(n in text for n in needles):
                found.append(run)
        after = int(page[-1]["id"])


def forget_everywhere(
    kb: KnowledgeBase, ref: str | int, *, own_folders: Sequence[Path] = ()
) -> Forgotten:
    """Forget ``ref`` (id, path or URL) in the store, the run log and Cairn's own files.

    ``own_folders`` are further folders whose files Cairn wrote (the server's uploads and run
    folders); ``notes/`` beside the knowledge base is always one.
    """
    store = kb.store
    source = store.get_source(ref)
    if source is None:
        raise NotFoundError("unknown-source", f"no source matches {ref!r} (see `cairn sources`)")
    folders = [notes_dir(store), *own_folders]
    path = Path(source.uri) if "://" not in source.uri else None
    needles = [run_needle(source.uri)]
    if path is not None and _inside(path, folders):
        needles.append(run_needle(path.name))  # runs that logged the note by another path
    runs = _runs_naming(store, needles)
    files = [p for run in runs for p in _run_files(run)]
    if path is not None:
        files.append(path)
    gone = store.forget_source(source.id)
    for run in runs:  # those that named the source only by a path the store did not match
        store.forget_run(int(run["id"]))
    removed: list[str] = []
    for f in dict.fromkeys(files):
        if _inside(f, folders) and f.is_file():
            with contextlib.suppress(OSError):
                f.unlink()
                removed.append(str(f))
                with contextlib.suppress(OSError):
                    if f.parent.resolve() not in {d.resolve() for d in folders}:
                        f.parent.rmdir()  # a run's or upload's own folder, when empty
    pending_of = getattr(store, "text_pending", None)
    pending = pending_of() if callable(pending_of) else None
    for hook in kb.on_forget:
        hook(gone)
    return Forgotten(gone, tuple(removed), pending if isinstance(pending, str) else None)
