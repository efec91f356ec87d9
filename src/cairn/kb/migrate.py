"""Copy a knowledge base from one store to another (SQLite <-> PostgreSQL), then check it.

Sources are copied one by one, each in one transaction of the target, with everything derived
from them (documents, chunks, vectors, entity mentions and relations, records), so an
interrupted copy resumes: a source already in the target with the same content hash and the
same number of chunks is skipped. Runs are copied after the sources, each one unless the target
already holds an identical run; imported API tools last. At the end :func:`verify` compares
counts and a checksum per source computed the same way on both sides (:func:`source_checksum`).
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cairn.errors import StoreError
from cairn.kb.factory import is_postgres_url, open_store
from cairn.kb.protocol import Store
from cairn.kb.runs import RunRow, run_row
from cairn.kb.types import DocumentIn, Source

COUNT_NAMES = (
    "sources",
    "documents",
    "chunks",
    "vectors",
    "entities",
    "relations",
    "records",
    "runs",
)

ProgressCallback = Callable[[str, Source | None], None]


def _ignore(_: str, __: Source | None) -> None:
    pass


# -- checksums and counts -----------------------------------------------------------------------
def documents_checksum(documents: Sequence[DocumentIn]) -> str:
    """sha256 over the documents' text, their chunks' offsets and vector bytes, in order."""
    h = hashlib.sha256()
    for doc in documents:
        text = doc.text.encode("utf-8")
        h.update(struct.pack("<Q", len(text)) + text)
        h.update(struct.pack("<Q", len(doc.chunks)))
        for c in doc.chunks:
            vector = c.vector or b""
            h.update(struct.pack("<qqQ", c.start, c.end, len(vector)) + vector)
    return h.hexdigest()


def source_checksum(store: Store, source_id: int) -> str:
    return documents_checksum(store.source_documents(source_id))


def iter_runs(store: Store, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Every run, oldest first, ``batch`` per query."""
    after = 0
    while True:
        page = store.runs_after(after, batch)
        yield from page
        if len(page) < batch:
            return
        after = int(page[-1]["id"])


def store_counts(store: Store, batch: int = 500) -> dict[str, int]:
    stats = store.stats()
    records = sum(len(store.source_records(s.id)) for s in store.list_sources())
    runs = sum(1 for _ in iter_runs(store, batch))
    return {
        "sources": stats.sources,
        "documents": stats.documents,
        "chunks": stats.chunks,
        "vectors": stats.vectors,
        "entities": stats.entities,
        "relations": stats.relations,
        "records": records,
        "runs": runs,
    }


# -- the copy -------------------------------------------------------------------------------------
@dataclass
class Verification:
    counts: dict[str, tuple[int, int]]  # name -> (source, target)
    checksums: dict[str, tuple[str, str | None]]  # uri -> (source, target or None if absent)

    @property
    def mismatched_counts(self) -> list[str]:
        return [n for n, (a, b) in self.counts.items() if a != b]

    @property
    def mismatched_sources(self) -> list[str]:
        return [u for u, (a, b) in self.checksums.items() if a != b]

    @property
    def ok(self) -> bool:
        return not self.mismatched_counts and not self.mismatched_sources


@dataclass
class MigrationReport:
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    runs_copied: int = 0
    runs_skipped: int = 0


def _run_key(run: dict[str, Any]) -> RunRow:
    return run_row({k: v for k, v in run.items() if k != "id"})


def check_models(source: Store, target: Store) -> str:
    """The source's embedding model ('' when it has no vectors); StoreError if the target's
    vectors come from another model."""
    model = source.embedding_model() or ""
    theirs = target.embedding_model()
    if model and source.stats().vectors and theirs is not None and theirs != model:
        raise StoreError(
            "embedding-model-mismatch",
            f"the target holds vectors from {theirs!r}, the source from {model!r}; "
            "migrate into an empty knowledge base, or one made with the same model",
        )
    return model


def migrate(
    source: Store,
    target: Store,
    *,
    batch: int = 500,
    on_progress: ProgressCallback = _ignore,
) -> MigrationReport:
    """Copy every source (and its records) and every run from ``source`` into ``target``.

    ``on_progress`` is called with ("start", None) once the sources are listed (see
    :func:`plan`), then ("copied" | "skipped", source) per source, then ("runs", None)."""
    if batch < 1:
        raise StoreError("bad-batch", f"--batch must be at least 1, not {batch}")
    model = check_models(source, target)
    report = MigrationReport()
    present = {s.uri: s for s in target.list_sources()}
    for src in source.list_sources():
        have = present.get(src.uri)
        if (
            have is not None
            and have.content_hash == src.content_hash
            and have.n_chunks == src.n_chunks
        ):
            report.skipped.append(src.uri)
            on_progress("skipped", src)
            continue
        _copy_source(source, target, src, model)
        report.copied.append(src.uri)
        on_progress("copied", src)
    on_progress("runs", None)
    existing = Counter(_run_key(r) for r in iter_runs(target, batch))
    for run in iter_runs(source, batch):
        key = _run_key(run)
        if existing[key] > 0:
            existing[key] -= 1
            report.runs_skipped += 1
            continue
        target.save_run({k: v for k, v in run.items() if k != "id"})
        report.runs_copied += 1
    for tool in source.list_tools():  # imported API tools: small, replaced by name
        target.save_tool(
            tool.name, tool.spec_json, tool.allowed_hosts, tool.base_url, tool.private_hosts
        )
    return report


def _copy_source(source: Store, target: Store, src: Source, model: str) -> None:
    documents = source.source_documents(src.id)
    records = source.source_records(src.id)
    if not records:
        target.write_source(
            src.uri,
            content_hash=src.content_hash,
            size_bytes=src.size_bytes,
            provenance=src.provenance,
            documents=documents,
            embedding_model=model,
        )
        return
    first = records[0]
    call = (first["operation"], first["requested_at"], first["request"])
    if any((r["operation"], r["requested_at"], r["request"]) != call for r in records):
        raise StoreError(
            "migrate-records",
            f"{src.uri}: its records come from several calls; cannot copy them as one source",
        )
    target.add_records(
        src.uri,
        src.provenance,
        str(first["operation"]),
        dict(first["request"]),
        [r["data"] for r in records],
        documents=documents,
        embedding_model=model,
        requested_at=str(first["requested_at"]),
    )


def verify(source: Store, target: Store, *, batch: int = 500) -> Verification:
    """Counts on both sides, and each source's checksum on both sides (matched by URI)."""
    ours, theirs = store_counts(source, batch), store_counts(target, batch)
    counts = {n: (ours[n], theirs[n]) for n in COUNT_NAMES}
    in_target = {s.uri: s for s in target.list_sources()}
    checksums: dict[str, tuple[str, str | None]] = {}
    for src in source.list_sources():
        other = in_target.get(src.uri)
        checksums[src.uri] = (
            source_checksum(source, src.id),
            None if other is None else source_checksum(target, other.id),
        )
    return Verification(counts, checksums)


# -- opening both ends -------------------------------------------------------------------------
def _is_cairn_sqlite(path: Path) -> bool:
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sources'"
            ).fetchone()
    except sqlite3.Error:
        return False
    return row is not None


def open_end(spec: str, *, must_exist: bool) -> Store:
    """Open ``--from`` (``must_exist``) or ``--to``: a postgresql:// URL or a SQLite path."""
    if is_postgres_url(spec):
        return open_store(spec)
    path = Path(spec).expanduser()
    if path.is_dir():
        raise StoreError("not-a-kb", f"{path} is a folder, not a knowledge base file")
    if must_exist and not path.is_file():
        raise StoreError("not-a-kb", f"{path} does not exist (give a knowledge base file)")
    exists = path.is_file() and path.stat().st_size > 0
    if (must_exist or exists) and not _is_cairn_sqlite(path):
        raise StoreError("not-a-kb", f"{path} is not a Cairn knowledge base")
    return open_store(path)


def same_end(a: str, b: str) -> bool:
    if is_postgres_url(a) or is_postgres_url(b):
        return a.strip() == b.strip()
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()
