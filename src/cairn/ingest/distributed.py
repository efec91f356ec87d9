"""Ingest on a Ray cluster: parse, chunk, embed (and extract entities) on Ray workers.

The driver (the process that runs ``cairn ingest --ray ADDRESS``) does everything that touches
the store, and only it needs to reach the store:

1. it lists the files, reads each one, hashes it and skips those already stored unchanged
   (the same content-hash check as the local path; a changed provenance is relabelled);
2. it ships the bytes of the rest, a few files per task, to Ray workers (so the workers need
   no shared file system), keeping a bounded number of tasks in flight (backpressure);
3. each task loads, chunks, embeds and, with the graph on, extracts entities, and sends back
   the text, chunk offsets, float32 vectors and mentions, or a per-file error;
4. the driver writes each file with :meth:`Store.write_source`, in one transaction per file,
   exactly as the local path does (same provenance, graph and full-text index).

A worker that dies (killed, out of memory, its node lost) loses only its in-flight task, which
Ray runs again (``max_retries``); as nothing is written by workers, a retried file is never
written twice. A batch that still fails is split and its files are retried one by one, so one
file that crashes its worker does not take the others with it; the files that still fail are
reported as failed (code ``worker-lost``) and a rerun picks them up. Sources are unique by
URI in both stores and each write replaces atomically, so two ingests of the same files at
the same time cannot duplicate them; the second one finds the content already stored and
reports it as unchanged.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import socket
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cairn.errors import CairnError, IngestError, LoadError
from cairn.events import Event, EventCallback, EventType, ignore
from cairn.graph.extract import EntityExtractor
from cairn.ingest.chunker import chunk_text
from cairn.ingest.file_reading import LoadedDocument
from cairn.ingest.loaders import discover, load
from cairn.ingest.pipeline import (
    STAGE,
    FileOutcome,
    IngestOptions,
    IngestReport,
    Status,
    _embedding_text,
    _finish,
    _record,
    _record_unread,
    already_stored,
    documents_in,
    write_source,
)
from cairn.kb.protocol import Store
from cairn.kb.types import EntityMention
from cairn.models.embed import Embedder

# How a worker builds its embedder: a ``load_embedder`` spec ("default", "hashing", a folder)
# or a picklable callable that takes the thread count and returns an embedder.
EmbedderSpec = str | Callable[[int], Embedder]
ExtractorSpec = Callable[[], EntityExtractor]

RAY_MISSING = (
    "--ray needs Ray on this machine and on every node of the cluster: "
    "pip install 'cairn[ray]' (Ray 2.60)"
)


@dataclass(frozen=True)
class RayOptions:
    """How the work is spread. ``threads`` is each worker's CPU budget (onnxruntime threads
    and Ray ``num_cpus``); ``in_flight`` bounds the tasks submitted and not yet collected
    (0: twice the cluster's CPUs divided by ``threads``)."""

    address: str = "auto"
    threads: int = 1
    files_per_task: int = 8
    bytes_per_task: int = 1 << 20
    in_flight: int = 0
    max_retries: int = 3
    embedder: EmbedderSpec = "default"
    extractor: ExtractorSpec | None = None  # None: the packaged spaCy model (graph on)

    def __post_init__(self) -> None:
        for name in ("threads", "files_per_task", "bytes_per_task"):
            if int(getattr(self, name)) < 1:
                raise IngestError("bad-ray-option", f"{name} must be at least 1")
        if self.in_flight < 0 or self.max_retries < 0:
            raise IngestError("bad-ray-option", "in_flight and max_retries must be 0 or more")


# --------------------------------------------------------------------------- worker side


@dataclass(frozen=True)
class _Job:
    uri: str
    data: bytes
    content_hash: str
    size: int
    status: Status


@dataclass
class _Done:
    uri: str
    docs: list[LoadedDocument]
    spans: list[list[tuple[int, int]]]
    vectors: npt.NDArray[np.float32]
    mentions: list[list[EntityMention]]
    warnings: list[str] = field(default_factory=list)

    @property
    def n_chunks(self) -> int:
        return sum(len(s) for s in self.spans)


@dataclass
class _BatchResult:
    model: str
    embed_seconds: float
    files: list[_Done | FileOutcome]


_MODELS: dict[str, tuple[Embedder, EntityExtractor | None]] = {}


def _models(
    spec: EmbedderSpec, extractor: ExtractorSpec | None, graph: bool, threads: int
) -> tuple[Embedder, EntityExtractor | None]:
    """This worker's models, loaded once per worker process and reused by later tasks."""
    key = repr((spec, extractor, graph, threads))
    if key not in _MODELS:
        if isinstance(spec, str):
            from cairn.models.embed import load_embedder

            embedder = load_embedder(spec, threads=threads)
        else:
            embedder = spec(threads)
        ext: EntityExtractor | None = None
        if graph:
            if extractor is None:
                from cairn.graph.extract import SpacyExtractor

                ext = SpacyExtractor()
            else:
                ext = extractor()
        _MODELS.clear()  # one ingest's models at a time (a callable spec may repr anew)
        _MODELS[key] = (embedder, ext)
    return _MODELS[key]


def process_batch(
    jobs: list[_Job], options: IngestOptions, ray_options: RayOptions
) -> _BatchResult:
    """Load, chunk, embed and tag a few files (runs on a Ray worker; no store access)."""
    embedder, extractor = _models(
        ray_options.embedder, ray_options.extractor, options.graph, ray_options.threads
    )
    files: list[_Done | FileOutcome] = []
    with tempfile.TemporaryDirectory(prefix="cairn-ray-") as tmp:
        for n, job in enumerate(jobs):
            files.append(_load_one(job, Path(tmp) / str(n), options))
    done = [f for f in files if isinstance(f, _Done)]
    texts: list[str] = []
    chunk_texts: list[str] = []
    for d in done:
        for doc, spans in zip(d.docs, d.spans, strict=True):
            for s, e in spans:
                texts.append(_embedding_text(doc.title, doc.text[s:e]))
                chunk_texts.append(doc.text[s:e])
    t0 = time.perf_counter()
    vectors = embedder.embed_batch(texts).astype(np.float32, copy=False)
    seconds = time.perf_counter() - t0
    mentions = (
        extractor.extract_batch(chunk_texts) if extractor is not None else [[] for _ in texts]
    )
    i = 0
    for d in done:
        d.vectors = vectors[i : i + d.n_chunks]
        d.mentions = mentions[i : i + d.n_chunks]
        i += d.n_chunks
    return _BatchResult(embedder.name, seconds, files)


def _load_one(job: _Job, folder: Path, options: IngestOptions) -> _Done | FileOutcome:
    """One file's documents and chunk spans; its errors name the driver's path, not ours."""
    folder.mkdir()
    path = folder / Path(job.uri).name  # same name and suffix: loaders and doc keys agree
    path.write_bytes(job.data)
    try:
        docs = load(path, options.load)
    except CairnError as err:
        message = err.message.replace(str(path), job.uri)
        return FileOutcome(job.uri, Status.failed, code=err.code, message=message)
    except Exception as err:  # a loader bug must not end the batch
        return FileOutcome(
            job.uri,
            Status.failed,
            code="internal",
            message=f"{job.uri}: {type(err).__name__}: {str(err).replace(str(path), job.uri)}",
        )
    warnings = []
    skipped = next(
        (d.metadata.get("skipped_lines") for d in docs if "skipped_lines" in d.metadata), None
    )
    if skipped:
        warnings.append(f"skipped malformed lines {skipped}")
    spans = [[(c.start, c.end) for c in chunk_text(d.text, options.chunker)] for d in docs]
    if not any(spans):
        return FileOutcome(
            job.uri, Status.failed, code="empty", message=f"{job.uri}: no text to index"
        )
    empty = np.zeros((0, 0), dtype=np.float32)
    return _Done(job.uri, docs, spans, empty, [], warnings)


# --------------------------------------------------------------------------- driver side


def _ray() -> Any:
    try:
        return importlib.import_module("ray")
    except ImportError as err:
        raise IngestError("ray-missing", RAY_MISSING) from err


def connect(address: str) -> bool:
    """Join the cluster at ``address`` (``host:port`` or ``auto``); True if this call did."""
    ray = _ray()
    if ray.is_initialized():
        return False
    _probe(address)
    try:
        ray.init(
            address=address,
            log_to_driver=False,
            logging_level=logging.WARNING,
            configure_logging=True,
        )
    except Exception as err:  # ConnectionError, ValueError, RuntimeError, ...
        raise IngestError(
            "ray-connect",
            f"--ray {address}: cannot connect to a Ray cluster there ({_one_line(err)}); "
            "start one with `ray start --head` or give its head's host:port",
        ) from err
    return True


def _probe(address: str) -> None:
    """Fail fast, and clearly, when nothing listens at ``host:port`` (Ray itself would wait
    for minutes)."""
    if address == "auto" or address.startswith("ray://"):
        return
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise IngestError(
            "ray-address",
            f"--ray {address!r}: expected the head node's host:port (e.g. 10.0.0.5:6379) or auto",
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as err:
        raise IngestError(
            "ray-connect",
            f"--ray {address}: no Ray head node answers there ({err.strerror or err}); "
            "start one with `ray start --head --port=PORT` or check the address",
        ) from err


def _one_line(err: BaseException) -> str:
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    text = lines[0] if lines else type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def ingest_paths_ray(
    store: Store,
    paths: Sequence[str | Path],
    options: IngestOptions,
    ray_options: RayOptions,
    *,
    on_event: EventCallback = ignore,
) -> IngestReport:
    """Like :func:`cairn.ingest.pipeline.ingest_paths`, with the models run on Ray workers."""
    ray = _ray()
    started = time.perf_counter()
    joined = connect(ray_options.address)
    try:
        return _run(ray, store, paths, options, ray_options, on_event, started)
    finally:
        if joined:
            ray.shutdown()


@dataclass
class _Pending:
    jobs: list[_Job]
    split: bool = False  # already retried file by file


def _run(
    ray: Any,
    store: Store,
    paths: Sequence[str | Path],
    options: IngestOptions,
    ray_options: RayOptions,
    on_event: EventCallback,
    started: float,
) -> IngestReport:
    report = IngestReport()
    skipped: list[LoadError] = []
    files, errors = discover(paths, skipped)
    total = len(files) + len(errors) + len(skipped)
    on_event(Event(EventType.stage_start, STAGE, {"files": total, "ray": True}))
    _record_unread(report, on_event, errors, skipped)
    task = ray.remote(
        num_cpus=ray_options.threads,
        max_retries=ray_options.max_retries,
        retry_exceptions=False,
    )(process_batch)
    options_ref = ray.put(options)
    cpus = float(ray.cluster_resources().get("CPU", 0.0))
    node_cpus = [float(n["Resources"].get("CPU", 0.0)) for n in ray.nodes() if n.get("Alive")]
    if max(node_cpus, default=0.0) < ray_options.threads:
        raise IngestError(
            "ray-no-cpus",
            f"--ray {ray_options.address}: no node of the cluster has {ray_options.threads} "
            f"CPUs for a task (--ray-threads; nodes: {node_cpus}); give nodes more with "
            "`ray start --num-cpus=N`",
        )
    limit = ray_options.in_flight or max(2, int(2 * cpus // ray_options.threads))
    in_flight: dict[Any, _Pending] = {}
    hashes: dict[str, str] = {}  # content hash -> the file that will write it

    def submit(batch: _Pending) -> None:
        in_flight[task.remote(batch.jobs, options_ref, ray_options)] = batch

    def collect(block: bool) -> None:
        while in_flight and (block or len(in_flight) >= limit):
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            batch = in_flight.pop(ready[0])
            try:
                result: _BatchResult = ray.get(ready[0])
            except ray.exceptions.RayTaskError as err:  # the task raised: no worker died
                cause = getattr(err, "cause", None)
                if isinstance(cause, CairnError):  # e.g. the model is missing on a node
                    raise type(cause)(cause.code, f"on a Ray worker: {cause.message}") from err
                for job in batch.jobs:
                    msg = f"{job.uri}: {type(cause or err).__name__}: {_one_line(cause or err)}"
                    _record(
                        report,
                        on_event,
                        FileOutcome(job.uri, Status.failed, code="internal", message=msg),
                    )
                continue
            except Exception as err:  # the worker or its node died more than max_retries times
                if len(batch.jobs) > 1 and not batch.split:
                    for job in batch.jobs:  # find the file to blame; the rest still land
                        submit(_Pending([job], split=True))
                    continue
                for job in batch.jobs:
                    _record(report, on_event, _lost(job, err, ray_options.max_retries))
                continue
            _write(store, options, batch, result, report, on_event)

    batch = _Pending([])
    batch_bytes = 0
    for path in files:
        job = _job(store, path, options, hashes, report, on_event)
        if job is None:
            continue
        batch.jobs.append(job)
        batch_bytes += job.size
        if (
            len(batch.jobs) >= ray_options.files_per_task
            or batch_bytes >= ray_options.bytes_per_task
        ):
            submit(batch)
            batch, batch_bytes = _Pending([]), 0
            collect(block=False)
    if batch.jobs:
        submit(batch)
    collect(block=True)
    return _finish(report, on_event, started)


def _lost(job: _Job, err: BaseException, retries: int) -> FileOutcome:
    return FileOutcome(
        job.uri,
        Status.failed,
        code="worker-lost",
        message=(
            f"{job.uri}: the Ray worker processing it failed {retries + 1} times "
            f"({type(err).__name__}: {_one_line(err)}); nothing was written, run again to retry"
        ),
    )


def _job(
    store: Store,
    path: Path,
    options: IngestOptions,
    hashes: dict[str, str],
    report: IngestReport,
    on_event: EventCallback,
) -> _Job | None:
    """Read and hash one file; None when it needs no work (its outcome is recorded)."""
    uri = str(path)
    try:
        size = path.stat().st_size
        if size > options.load.max_bytes:
            raise LoadError(
                "too-large",
                f"{uri}: {size / 1e6:.1f} MB is over the "
                f"{options.load.max_bytes / 1e6:.0f} MB limit (--max-mb)",
            )
        with path.open("rb") as f:
            data = f.read(options.load.max_bytes + 1)
    except LoadError as err:
        _record(
            report, on_event, FileOutcome(uri, Status.failed, code=err.code, message=err.message)
        )
        return None
    except OSError as err:
        msg = f"{uri}: {err.strerror or err}"
        _record(report, on_event, FileOutcome(uri, Status.failed, code="unreadable", message=msg))
        return None
    digest = hashlib.sha256(data).hexdigest()
    outcome = already_stored(store, uri, digest, options)
    if outcome is not None:
        _record(report, on_event, outcome)
        return None
    first = hashes.get(digest)
    if first is not None:
        msg = f"{uri}: same content as {first}; skipped"
        _record(report, on_event, FileOutcome(uri, Status.duplicate, message=msg))
        return None
    existing = store.get_source(uri)
    status = Status.updated if existing is not None else Status.added
    job = _Job(uri, data, digest, len(data), status)
    hashes[digest] = uri
    return job


def _write(
    store: Store,
    options: IngestOptions,
    batch: _Pending,
    result: _BatchResult,
    report: IngestReport,
    on_event: EventCallback,
) -> None:
    """Write a finished batch, one transaction per file."""
    report.embed_seconds += result.embed_seconds
    jobs = {j.uri: j for j in batch.jobs}
    n_chunks = sum(f.n_chunks for f in result.files if isinstance(f, _Done))
    if n_chunks:
        on_event(Event(EventType.progress, STAGE, {"embedded": n_chunks, "of": n_chunks}))
    for item in result.files:
        if isinstance(item, FileOutcome):
            _record(report, on_event, item)
            continue
        job = jobs[item.uri]
        for w in item.warnings:
            on_event(Event(EventType.warning, STAGE, {"path": item.uri, "message": w}))
        mentions = item.mentions if options.graph else [[] for _ in range(item.n_chunks)]
        docs = documents_in(Path(item.uri).name, item.docs, item.spans, item.vectors, mentions)
        if not write_source(
            store,
            item.uri,
            job.content_hash,
            job.size,
            options,
            docs,
            result.model,
            report,
            on_event,
        ):
            continue
        report.chunks_embedded += item.n_chunks
        _record(
            report,
            on_event,
            FileOutcome(item.uri, job.status, documents=len(docs), chunks=item.n_chunks),
        )


def ingest_on_ray(
    store: Store,
    paths: Sequence[str | Path],
    *,
    address: str,
    threads: int = 1,
    collection: str = "default",
    license: str | None = None,
    source_url: str | None = None,
    owner: str | None = None,
    consent: str = "unknown",
    graph: bool = True,
    max_bytes: int | None = None,
    encoding: str | None = None,
    on_event: EventCallback = ignore,
) -> IngestReport:
    """What :meth:`cairn.knowledge.KnowledgeBase.ingest` does, on the Ray cluster at
    ``address``, with the packaged models (the CLI's ``cairn ingest --ray``)."""
    from cairn.ingest.file_reading import LoadOptions
    from cairn.ingest.provenance import make_provenance

    provenance = make_provenance(
        collection=collection, license=license, source_url=source_url, owner=owner, consent=consent
    )
    load_options = (
        LoadOptions(encoding=encoding)
        if max_bytes is None
        else LoadOptions(max_bytes=max_bytes, encoding=encoding)
    )
    options = IngestOptions(provenance=provenance, load=load_options, graph=graph)
    return ingest_paths_ray(
        store, paths, options, RayOptions(address=address, threads=threads), on_event=on_event
    )
