"""Ingest files into a store: discover -> hash -> load -> chunk -> (entities) -> embed -> write.

Files are parsed ahead on a thread pool while the embedder works (onnxruntime releases the GIL).
Chunks from several small files are embedded together in large batches; each source is then
written in its own transaction, so an interrupted run keeps every source it finished and
a rerun skips them by content hash.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt

from cairn.errors import CairnError, LoadError, StoreError
from cairn.events import Event, EventCallback, EventType, ignore
from cairn.graph.extract import EntityExtractor, cooccurrence_relations
from cairn.ingest.chunker import ChunkerConfig, chunk_text
from cairn.ingest.file_reading import LoadedDocument, LoadOptions
from cairn.ingest.loaders import discover, load
from cairn.kb.protocol import Store
from cairn.kb.types import ChunkIn, DocumentIn, EntityMention, Provenance
from cairn.models.embed import Embedder

STAGE = "ingest"


class Status(StrEnum):
    added = "added"
    updated = "updated"
    unchanged = "unchanged"
    relabelled = "relabelled"  # same text, new provenance: no re-embedding
    duplicate = "duplicate"
    skipped = "skipped"  # found inside a folder but not a file Cairn reads (the message says why)
    failed = "failed"


@dataclass(frozen=True)
class FileOutcome:
    path: str
    status: Status
    documents: int = 0
    chunks: int = 0
    code: str | None = None
    message: str | None = None


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0
    chunks_embedded: int = 0
    embed_seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == Status.failed]

    @property
    def chunks_per_second(self) -> float:
        return self.chunks_embedded / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class IngestOptions:
    provenance: Provenance = field(default_factory=Provenance)
    load: LoadOptions = field(default_factory=LoadOptions)
    chunker: ChunkerConfig = field(default_factory=ChunkerConfig)
    graph: bool = True
    parse_workers: int = 2
    embed_batch_chunks: int = 256  # chunks gathered across files before one embedding pass


@dataclass
class _Prepared:
    path: Path
    uri: str
    content_hash: str
    size: int
    status: Status
    docs: list[LoadedDocument]
    chunk_spans: list[list[tuple[int, int]]]
    warnings: list[str] = field(default_factory=list)

    @property
    def n_chunks(self) -> int:
        return sum(len(c) for c in self.chunk_spans)


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def ingest_paths(
    store: Store,
    embedder: Embedder,
    paths: Sequence[str | Path],
    options: IngestOptions,
    *,
    extractor: EntityExtractor | None = None,
    on_event: EventCallback = ignore,
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    skipped: list[LoadError] = []
    files, errors = discover(paths, skipped)
    # Every outcome reported below counts towards the total (a progress bar never shows 1/0).
    total = len(files) + len(errors) + len(skipped)
    on_event(Event(EventType.stage_start, STAGE, {"files": total}))
    _record_unread(report, on_event, errors, skipped)
    seen_hashes: dict[str, str] = {}
    pending: list[_Prepared] = []

    for item in _prepare_all(store, files, options, seen_hashes):
        if isinstance(item, FileOutcome):
            _record(report, on_event, item)
            continue
        for w in item.warnings:
            on_event(Event(EventType.warning, STAGE, {"path": item.uri, "message": w}))
        pending.append(item)
        if sum(p.n_chunks for p in pending) >= options.embed_batch_chunks:
            _flush(store, embedder, extractor, options, pending, report, on_event)
            pending = []
    if pending:
        _flush(store, embedder, extractor, options, pending, report, on_event)
    return _finish(report, on_event, started)


def _record_unread(
    report: IngestReport,
    on_event: EventCallback,
    errors: Sequence[LoadError],
    skipped: Sequence[LoadError],
) -> None:
    """Report the paths that could not be used (failed) and the files skipped in folders."""
    for err in errors:
        _record(
            report,
            on_event,
            FileOutcome(err.path or "?", Status.failed, code=err.code, message=err.message),
        )
    for skip in skipped:
        _record(
            report,
            on_event,
            FileOutcome(skip.path or "?", Status.skipped, code=skip.code, message=skip.message),
        )


def _finish(report: IngestReport, on_event: EventCallback, started: float) -> IngestReport:
    """Stamp the report's duration and announce the end of the ingest stage."""
    report.seconds = time.perf_counter() - started
    on_event(
        Event(
            EventType.stage_end,
            STAGE,
            {
                "seconds": round(report.seconds, 3),
                **{s.value: report.count(s) for s in Status},
                "chunks": report.chunks_embedded,
            },
        )
    )
    return report


def _record(report: IngestReport, on_event: EventCallback, outcome: FileOutcome) -> None:
    report.outcomes.append(outcome)
    kind = EventType.error if outcome.status == Status.failed else EventType.progress
    on_event(
        Event(
            kind,
            STAGE,
            {
                "path": outcome.path,
                "status": outcome.status.value,
                "documents": outcome.documents,
                "chunks": outcome.chunks,
                "code": outcome.code,
                "message": outcome.message,
            },
        )
    )


def _prepare_all(
    store: Store, files: list[Path], options: IngestOptions, seen_hashes: dict[str, str]
) -> Iterator[_Prepared | FileOutcome]:
    """Parse files ahead on a thread pool, yielding them in order."""
    workers = max(1, options.parse_workers)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cairn-parse") as pool:
        window: list[tuple[Path, Future[_Prepared | FileOutcome]]] = []
        it = iter(files)
        for path in it:
            window.append((path, pool.submit(_prepare_one, store, path, options)))
            if len(window) >= workers * 4:
                yield from _dedupe(_pop(window), seen_hashes)
        while window:
            yield from _dedupe(_pop(window), seen_hashes)


def _pop(window: list[tuple[Path, Future[_Prepared | FileOutcome]]]) -> _Prepared | FileOutcome:
    path, fut = window.pop(0)
    try:
        return fut.result()
    except CairnError as err:
        return FileOutcome(str(path), Status.failed, code=err.code, message=err.message)
    except Exception as err:  # a loader bug must not end the batch
        return FileOutcome(
            str(path),
            Status.failed,
            code="internal",
            message=f"{path}: {type(err).__name__}: {err}",
        )


def _dedupe(
    item: _Prepared | FileOutcome, seen: dict[str, str]
) -> Iterator[_Prepared | FileOutcome]:
    if isinstance(item, _Prepared):
        first = seen.setdefault(item.content_hash, item.uri)
        if first != item.uri:
            yield FileOutcome(
                item.uri, Status.duplicate, message=f"{item.uri}: same content as {first}; skipped"
            )
            return
    yield item


def _prepare_one(store: Store, path: Path, options: IngestOptions) -> _Prepared | FileOutcome:
    uri = str(path)
    try:
        size = path.stat().st_size
        if size > options.load.max_bytes:
            raise LoadError(
                "too-large",
                f"{uri}: {size / 1e6:.1f} MB is over the "
                f"{options.load.max_bytes / 1e6:.0f} MB limit (--max-mb)",
            )
        digest = file_hash(path)
    except OSError as err:
        return FileOutcome(uri, Status.failed, code="unreadable", message=f"{uri}: {err.strerror}")
    existing = store.get_source(uri)
    if existing is not None and existing.content_hash == digest:
        if existing.provenance != options.provenance:
            store.update_provenance(existing.id, options.provenance)
            return FileOutcome(
                uri,
                Status.relabelled,
                documents=existing.n_documents,
                chunks=existing.n_chunks,
                message=f"{uri}: unchanged text; provenance updated",
            )
        return FileOutcome(
            uri, Status.unchanged, documents=existing.n_documents, chunks=existing.n_chunks
        )
    docs = load(path, options.load)
    warnings = []
    skipped = next(
        (d.metadata.get("skipped_lines") for d in docs if "skipped_lines" in d.metadata), None
    )
    if skipped:
        warnings.append(f"skipped malformed lines {skipped}")
    warnings.extend(w for d in docs for w in d.warnings)  # e.g. pypdf's, now naming the file
    spans = [[(c.start, c.end) for c in chunk_text(d.text, options.chunker)] for d in docs]
    if not any(spans):
        return FileOutcome(uri, Status.failed, code="empty", message=f"{uri}: no text to index")
    status = Status.updated if existing is not None else Status.added
    return _Prepared(path, uri, digest, size, status, docs, spans, warnings)


def _embedding_text(title: str | None, chunk: str) -> str:
    if title and not chunk.startswith(title):
        return f"{title}\n{chunk}"
    return chunk


def _flush(
    store: Store,
    embedder: Embedder,
    extractor: EntityExtractor | None,
    options: IngestOptions,
    pending: list[_Prepared],
    report: IngestReport,
    on_event: EventCallback,
) -> None:
    texts: list[str] = []
    chunk_texts: list[str] = []
    for p in pending:
        for doc, spans in zip(p.docs, p.chunk_spans, strict=True):
            for s, e in spans:
                texts.append(_embedding_text(doc.title, doc.text[s:e]))
                chunk_texts.append(doc.text[s:e])
    t0 = time.perf_counter()
    vectors = np.zeros((0, embedder.dim), dtype=np.float32)
    step = max(options.embed_batch_chunks, 1)
    parts = []
    for lo in range(0, len(texts), step):
        parts.append(embedder.embed_batch(texts[lo : lo + step]))
        on_event(
            Event(
                EventType.progress,
                STAGE,
                {"embedded": min(lo + step, len(texts)), "of": len(texts)},
            )
        )
    if parts:
        vectors = np.concatenate(parts).astype(np.float32, copy=False)
    report.embed_seconds += time.perf_counter() - t0
    mentions: list[list[EntityMention]] = (
        extractor.extract_batch(chunk_texts)
        if extractor and options.graph
        else [[] for _ in chunk_texts]
    )
    i = 0
    for p in pending:
        docs_in = documents_in(
            p.path.name,
            p.docs,
            p.chunk_spans,
            vectors[i : i + p.n_chunks],
            mentions[i : i + p.n_chunks],
        )
        i += p.n_chunks
        if not write_source(
            store, p.uri, p.content_hash, p.size, options, docs_in, embedder.name, report, on_event
        ):
            continue
        report.chunks_embedded += p.n_chunks
        _record(
            report,
            on_event,
            FileOutcome(p.uri, p.status, documents=len(docs_in), chunks=p.n_chunks),
        )


def documents_in(
    name: str,
    docs: Sequence[LoadedDocument],
    spans: Sequence[Sequence[tuple[int, int]]],
    vectors: npt.NDArray[np.float32],
    mentions: Sequence[list[EntityMention]],
) -> list[DocumentIn]:
    """The documents of one file as the store takes them: chunks (in order, one vector and one
    list of entity mentions each) with co-occurrence relations; a document without a key of
    its own is named after its file ``name``, or its position when the file holds several.
    Used by the local and the Ray ingest, so both store the same thing."""
    out: list[DocumentIn] = []
    i = 0
    for n, (doc, doc_spans) in enumerate(zip(docs, spans, strict=True)):
        chunks = []
        for s, e in doc_spans:
            ents = [EntityMention(m.name, m.label, m.start + s, m.end + s) for m in mentions[i]]
            chunks.append(
                ChunkIn(
                    start=s,
                    end=e,
                    text=doc.text[s:e],
                    vector=vectors[i].tobytes(),
                    entities=ents,
                    relations=cooccurrence_relations(doc.text, ents) if ents else [],
                )
            )
            i += 1
        key = doc.doc_key if doc.doc_key is not None else (name if len(docs) == 1 else str(n))
        out.append(DocumentIn(key, doc.title, doc.text, chunks, dict(doc.metadata)))
    return out


def already_stored(
    store: Store, uri: str, digest: str, options: IngestOptions, *, concurrent: bool = False
) -> FileOutcome | None:
    """The outcome when ``uri`` is already stored with this content (unchanged, or only its
    provenance relabelled); None when it must be written."""
    existing = store.get_source(uri)
    if existing is None or existing.content_hash != digest:
        return None
    if existing.provenance != options.provenance:
        store.update_provenance(existing.id, options.provenance)
        return FileOutcome(
            uri,
            Status.relabelled,
            documents=existing.n_documents,
            chunks=existing.n_chunks,
            message=f"{uri}: unchanged text; provenance updated",
        )
    note = f"{uri}: written meanwhile by another ingest; kept as is" if concurrent else None
    return FileOutcome(
        uri,
        Status.unchanged,
        documents=existing.n_documents,
        chunks=existing.n_chunks,
        message=note,
    )


def write_source(
    store: Store,
    uri: str,
    content_hash: str,
    size: int,
    options: IngestOptions,
    docs: list[DocumentIn],
    model: str,
    report: IngestReport,
    on_event: EventCallback,
) -> bool:
    """Write one file's documents; a store error is recorded as that file's failure. When
    another ingest wrote the same content meanwhile, nothing is written and the file is
    recorded as unchanged (checked inside the store's write transaction)."""
    try:
        store.write_source(
            uri,
            content_hash=content_hash,
            size_bytes=size,
            provenance=options.provenance,
            documents=_unique_keys(docs),
            embedding_model=model,
            keep_same=True,
        )
    except StoreError as err:
        if err.code != "kb-same-content":
            _record(report, on_event, _failed(uri, err))
            return False
        outcome = already_stored(store, uri, content_hash, options, concurrent=True)
        _record(report, on_event, outcome or _failed(uri, err))
        return False
    except CairnError as err:
        outcome = FileOutcome(uri, Status.failed, code=err.code, message=f"{uri}: {err.message}")
        _record(report, on_event, outcome)
        return False
    return True


def _failed(uri: str, err: CairnError) -> FileOutcome:
    return FileOutcome(uri, Status.failed, code=err.code, message=f"{uri}: {err.message}")


def _unique_keys(docs: list[DocumentIn]) -> list[DocumentIn]:
    """Records with a repeated id keep the first; later ones get a suffix so none is lost."""
    seen: dict[str, int] = {}
    out = []
    for d in docs:
        n = seen.get(d.doc_key, 0)
        seen[d.doc_key] = n + 1
        out.append(
            d
            if n == 0
            else DocumentIn(f"{d.doc_key}#{n + 1}", d.title, d.text, d.chunks, d.metadata)
        )
    return out
