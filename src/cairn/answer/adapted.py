"""Adapted models, stored beside their knowledge base, versioned; which one answers.

For a SQLite knowledge base ``notes.sqlite`` they live in ``notes.sqlite.adapted/``:

    v1/reader.onnx     the fine-tuned reader (same architecture as the packaged one)
    v1/support.json    the refitted support model and threshold
    v1/span_rank.json  the refitted short-answer ranker (absent in older versions)
    v1/manifest.json   data sizes, seed, dates, sha256 of each file, held-out metrics
    active             "v1", or "packaged" (the default when the file is absent)
    work/              the synthetic dataset and training checkpoint of a run in progress

A PostgreSQL knowledge base keeps them in the user data directory, under a name made from its
host, database and schema. The packaged reader and support model answer until an adapted
version exists and is active; ``cairn adapt --use packaged`` goes back.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cairn.answer.reader import READER_SHA256, Reader, SentenceReader, packaged_reader
from cairn.answer.span_rank import SpanRanker
from cairn.answer.verify import SupportModel, default_model
from cairn.errors import ConfigError

PACKAGED = "packaged"
_VERSION = re.compile(r"^v(\d+)$")


def adapted_root(store: Any) -> Path:
    """Where a knowledge base's adapted models live (see the module docstring)."""
    path = getattr(store, "path", None)
    if isinstance(path, Path):
        return path.with_name(path.name + ".adapted")
    from platformdirs import user_data_dir

    where = f"{getattr(store, '_where', '')}/{getattr(store, 'schema', '')}"  # no password
    name = hashlib.sha256(where.encode("utf-8")).hexdigest()[:16]
    return Path(user_data_dir("cairn", appauthor=False)) / "adapted" / name


def versions(root: Path) -> list[str]:
    """The stored versions, oldest first (only those with a manifest: complete ones)."""
    if not root.is_dir():
        return []
    found = [
        (int(m.group(1)), p.name)
        for p in root.iterdir()
        if (m := _VERSION.match(p.name)) and (p / "manifest.json").is_file()
    ]
    return [name for _, name in sorted(found)]


def next_version(root: Path) -> str:
    taken = [int(p.name[1:]) for p in root.glob("v*") if _VERSION.match(p.name)]
    return f"v{max(taken, default=0) + 1}"


def active_name(root: Path) -> str:
    f = root / "active"
    if not f.is_file():
        return PACKAGED
    name = f.read_text(encoding="utf-8").strip()
    return name if name == PACKAGED or name in versions(root) else PACKAGED


def set_active(root: Path, name: str) -> str:
    """Make ``name`` ("packaged" or a stored version) answer from now on."""
    if name != PACKAGED and name not in versions(root):
        have = ", ".join(versions(root)) or "none yet (run `cairn adapt`)"
        raise ConfigError(
            "unknown-version", f"no adapted model {name!r} in {root} (stored versions: {have})"
        )
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / "active.tmp"
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, root / "active")
    return name


def manifest(root: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / name / "manifest.json").read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class Models:
    """The reader and support model that decide, and a line saying which they are."""

    reader: SentenceReader | None
    model: SupportModel
    name: str  # "packaged" or a version ("v2")
    description: str
    ranker: SpanRanker | None = None  # the short-answer ranker; None: the packaged one


def packaged_models() -> Models:
    return Models(
        packaged_reader(),
        default_model(),
        PACKAGED,
        f"packaged reader (reader.onnx, sha256 {READER_SHA256[:12]}) and support model",
    )


@lru_cache(maxsize=8)
def _load(folder: Path, stamp: float) -> Models:
    meta = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    sha = meta.get("files", {}).get("reader.onnx")
    reader = Reader(folder / "reader.onnx", expected_sha256=sha)
    model = SupportModel.from_json((folder / "support.json").read_text(encoding="utf-8"))
    ranker = None
    if (folder / "span_rank.json").is_file():  # versions made before it have none
        ranker = SpanRanker.from_json((folder / "span_rank.json").read_text(encoding="utf-8"))
    return Models(
        reader,
        model,
        folder.name,
        f"adapted {folder.name} ({folder}, made {meta.get('finished', '?')}, "
        f"sha256 {str(sha)[:12]})",
        ranker,
    )


def models_for(store: Any) -> Models:
    """The models that answer for this knowledge base: its active adapted version, if any."""
    root = adapted_root(store)
    name = active_name(root) if root.is_dir() else PACKAGED
    if name == PACKAGED:
        return packaged_models()
    return load_version(root / name)


def load_version(folder: Path) -> Models:
    """A stored version's models (cached until its manifest changes)."""
    return _load(folder, (folder / "manifest.json").stat().st_mtime)
