"""Cairn's own API under ``/api``: ingest uploads, search, ask, sources, forget, health.

Endpoints are plain ``def`` functions: FastAPI runs them in its thread pool, so a slow
embedding or a search never blocks the event loop.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import queue
import re
import tempfile
import threading
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

import cairn
from cairn.answer.ask import ask
from cairn.answer.types import Citation
from cairn.compose import stage_error
from cairn.errors import CairnError, LoadError
from cairn.events import Event, EventType, Stage
from cairn.ingest.document_loaders import check_zip
from cairn.ingest.file_reading import SUPPORTED_EXTENSIONS
from cairn.ingest.pipeline import Status
from cairn.ingest.provenance import make_provenance
from cairn.pipeline.stages import PipelineError
from cairn.server.security import ApiError
from cairn.server.settings import Services

router = APIRouter(prefix="/api", tags=["cairn"])
log = logging.getLogger("cairn.server")

MAX_NAME = 200
_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


ServicesDep = Annotated[Services, Depends(services)]


def json_body(request: Request) -> None:
    """415 unless the request says its body is JSON (before the body is validated)."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        raise ApiError(
            415,
            "unsupported-media-type",
            f"send the body as JSON with 'Content-Type: application/json' (got {kind or 'none'})",
        )


JSON_ONLY = [Depends(json_body)]


# --------------------------------------------------------------------------- uploads


def sanitise_filename(name: str | None) -> str:
    """A safe file name from a client's: no folders, no leading dots, no control characters.

    ``../../etc/passwd`` -> ``passwd``; ``..`` -> ``upload``; ``C:\\x\\a b.txt`` -> ``a b.txt``.
    The extension is kept (the loaders choose a format by it).
    """
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base or set(base) <= {"_", "."}:
        return "upload"
    if len(base) > MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        ext = ext[:16] if dot else ""
        base = (stem if dot else base)[: MAX_NAME - len(ext) - 1].rstrip(" .") + (
            f".{ext}" if ext else ""
        )
    return base


def save_upload(upload: UploadFile, root: Path, max_bytes: int) -> Path:
    """Copy an upload to ``root/<sha256>/<safe name>``; ``ApiError(413)`` over ``max_bytes``."""
    root.mkdir(parents=True, exist_ok=True)
    name = sanitise_filename(upload.filename)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            while block := upload.file.read(1 << 20):
                size += len(block)
                if size > max_bytes:
                    raise ApiError(
                        413, "too-large", f"{name}: over the upload limit of {max_bytes:,} bytes"
                    )
                digest.update(block)
                out.write(block)
        folder = root / digest.hexdigest()
        target = folder / name
        # Defence in depth: the name cannot leave its folder.
        if target.resolve().parent != folder.resolve():
            raise ApiError(400, "bad-filename", f"unsafe file name {upload.filename!r}")
        folder.mkdir(exist_ok=True)
        if target.exists():
            tmp.unlink()
        else:
            os.replace(tmp, target)
        return target
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


ZIP_FORMATS = frozenset({".docx"})


def _check_archive(path: Path, root: Path) -> None:
    """Refuse a zip bomb (by its declared member sizes) before anything expands it; the
    stored upload is removed. 413 when it would expand too far, 422 when it is suspicious."""
    try:
        check_zip(path, path.name)
    except LoadError as err:
        _remove_upload(root, str(path))
        status = 413 if err.code == "archive-too-large" else 422
        raise ApiError(status, err.code, err.message) from err


@router.post("/ingest")
def ingest(
    svc: ServicesDep,
    files: Annotated[list[UploadFile], File(description="One or more documents.")],
    collection: Annotated[str, Form()] = "default",
    license: Annotated[str | None, Form(description="SPDX licence id or expression.")] = None,
    consent: Annotated[str, Form(description="granted, refused or unknown.")] = "unknown",
    source_url: Annotated[str | None, Form()] = None,
    owner: Annotated[str | None, Form()] = None,
    graph: Annotated[bool, Form(description="Extract entities and relations.")] = True,
) -> dict[str, Any]:
    """Upload documents and add them to the knowledge base (unchanged files are skipped).

    Files are stored under ``<data dir>/uploads/<sha256>/<name>``; the answer lists what
    happened to each file, errors included.
    """
    # Check the provenance before writing anything.
    make_provenance(
        collection=collection,
        license=license,
        source_url=source_url,
        owner=owner,
        consent=consent,
    )
    settings = svc.settings
    results: list[dict[str, Any]] = []
    saved: list[tuple[int, Path]] = []
    refused: list[ApiError] = []
    for upload in files:
        result: dict[str, Any] = {"filename": upload.filename, "status": Status.failed.value}
        suffix = Path(sanitise_filename(upload.filename)).suffix.lower()
        try:
            if suffix not in SUPPORTED_EXTENSIONS:
                raise ApiError(
                    415,
                    "unsupported-format",
                    f"unsupported file type {suffix or '(no extension)'}; "
                    f"supported: {' '.join(sorted(SUPPORTED_EXTENSIONS))}",
                )
            path = save_upload(upload, settings.uploads_dir, settings.max_upload_bytes)
            if suffix in ZIP_FORMATS:
                _check_archive(path, settings.uploads_dir)
        except ApiError as err:
            result |= {"code": err.code, "message": err.message}
            refused.append(err)
        else:
            result |= {"stored_as": path.name, "sha256": path.parent.name}
            saved.append((len(results), path))
        finally:
            upload.file.close()
        results.append(result)
    if not saved and refused:
        # Nothing was accepted: the request fails as a whole, with the first file's status.
        first = refused[0]
        name = sanitise_filename(results[0]["filename"])
        message = (
            first.message if first.message.startswith(f"{name}:") else f"{name}: {first.message}"
        )
        more = f" (and {len(refused) - 1} more files refused)" if len(refused) > 1 else ""
        raise ApiError(
            first.status,
            first.code,
            message + more,
            extra={"counts": {Status.failed.value: len(results)}, "files": results},
        )
    if saved:
        report = svc.kb.ingest(
            [p for _, p in saved],
            collection=collection,
            license=license,
            source_url=source_url,
            owner=owner,
            consent=consent,
            graph=graph,
            max_bytes=settings.max_upload_bytes,
        )
        by_path = {o.path: o for o in report.outcomes}
        for index, path in saved:
            outcome = by_path.get(str(path.resolve())) or by_path.get(str(path))
            if outcome is None:
                results[index] |= {"code": "not-ingested", "message": "no result for this file"}
                continue
            results[index] |= {
                "status": outcome.status.value,
                "documents": outcome.documents,
                "chunks": outcome.chunks,
            }
            if outcome.code or outcome.message:
                # Messages name the file, never the server's folders.
                message = (outcome.message or "").replace(str(path.resolve()), path.name)
                results[index] |= {"code": outcome.code, "message": message}
            if outcome.status in (Status.failed, Status.duplicate):  # not a source: not kept
                _remove_upload(settings.uploads_dir, str(path))
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return {"counts": counts, "files": results}


# --------------------------------------------------------------------------- reading


def json_response(payload: dict[str, Any]) -> Response:
    """Plain ``json.dumps`` of a payload made of JSON types only (skips FastAPI's encoder)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, media_type="application/json")


@router.get("/search", response_class=Response)
def search(
    svc: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="What to look for.")],
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    mode: Annotated[str, Query(description="keyword, dense or hybrid.")] = "hybrid",
    collection: Annotated[list[str] | None, Query()] = None,
    license: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """Hybrid search (BM25 + dense vectors + entity graph)."""
    kb = svc.kb
    hits = kb.search(q, k=k, mode=mode, collections=collection or (), licenses=license or ())
    return json_response({"query": q, "hits": [h.to_dict(kb.document_text) for h in hits]})


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    collections: list[str] = Field(default_factory=list)
    k: int = Field(default=5, ge=1, le=50)
    explain: bool = False


@router.post("/ask", dependencies=JSON_ONLY)
def ask_endpoint(svc: ServicesDep, body: AskRequest) -> dict[str, Any]:
    """A grounded answer with exact citations, or an abstention with the closest sources."""
    answer = ask(
        svc.kb,
        body.question,
        collections=body.collections,
        k=body.k,
        explain=body.explain,
        spans=svc.spans,
        model=svc.support_model,
    )
    return answer.to_dict()


@router.get("/sources")
def sources(svc: ServicesDep, collection: Annotated[str | None, Query()] = None) -> dict[str, Any]:
    """Sources with their provenance and counts."""
    return {"sources": [s.to_dict() for s in svc.kb.sources(collection)]}


@router.delete("/sources/{source_id}")
def forget(svc: ServicesDep, source_id: int) -> dict[str, Any]:
    """Remove a source and everything derived from it, with every file this server or a run
    wrote of it (the upload, a remembered note, spoken answers and charts of runs citing it)."""
    report = svc.kb.forget_report(source_id, own_folders=(svc.settings.uploads_dir, runs_dir(svc)))
    gone = report.source
    return {
        "forgotten": gone.id,
        "uri": gone.uri,
        "documents": gone.n_documents,
        "chunks": gone.n_chunks,
        "file_removed": any(Path(f) == Path(gone.uri) for f in report.files_removed),
        "files_removed": len(report.files_removed),
        "pending": report.pending,
    }


def _remove_upload(root: Path, uri: str) -> bool:
    try:
        path = Path(uri).resolve()
        root = root.resolve()
    except (OSError, ValueError):
        return False
    if path.parent.parent != root or not path.is_file():
        return False
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only when empty
    return True


@router.get("/health")
def health() -> dict[str, Any]:
    """Liveness; needs no API key and says nothing about the data."""
    return {"status": "ok", "version": cairn.__version__}


# --------------------------------------------------------------------------- voice (web UI)

RUNS_DIR = "runs"  # under the data dir: one folder per /api/voice run (answer WAV, charts)
KEEP_RUN_FOLDERS = 200
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_FILE_NAME = re.compile(r"^[\w][\w.\-]{0,100}$")
_FILE_TYPES = {".wav": "audio/wav", ".png": "image/png", ".svg": "image/svg+xml"}


def runs_dir(svc: Services) -> Path:
    return svc.settings.resolved_data_dir() / RUNS_DIR


def file_url(svc: Services, path: str | Path | None) -> str | None:
    """``/api/files/<token>/<name>`` for a file this server wrote for a run, else None."""
    if not path:
        return None
    try:
        p = Path(path).resolve()
        root = runs_dir(svc).resolve()
    except (OSError, ValueError):
        return None
    if p.parent.parent != root or not _TOKEN.match(p.parent.name) or not p.is_file():
        return None
    return f"/api/files/{p.parent.name}/{p.name}"


def _prune_run_folders(root: Path, keep: int = KEEP_RUN_FOLDERS) -> None:
    """Keep the newest ``keep`` run folders (their WAVs and charts); remove older ones."""
    with contextlib.suppress(OSError):
        folders = [d for d in root.iterdir() if d.is_dir() and _TOKEN.match(d.name)]
        folders.sort(key=lambda d: d.stat().st_mtime, reverse=True)
        for old in folders[keep:]:
            for f in old.iterdir():
                f.unlink(missing_ok=True)
            old.rmdir()


def citation_json(c: Citation) -> dict[str, Any]:
    return {
        "n": c.n,
        "document_id": c.document_id,
        "title": c.title,
        "source": c.source,
        "license": c.license,
        "start": c.start,
        "end": c.end,
        "quote": c.quote,
    }


def _sse(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, default=str)}\n\n"


def _voice_stream(
    svc: Services,
    *,
    audio: bytes | None,
    text: str | None,
    speak: bool,
) -> Iterator[str]:
    """Run the pipeline in a worker thread; yield its events as SSE, then the result."""
    from cairn.pipeline.run import PipelineResult, run_pipeline
    from cairn.pipeline.stages import AskOptions

    events: queue.Queue[Event | None] = queue.Queue()
    holder: dict[str, PipelineResult] = {}
    folder = runs_dir(svc) / uuid.uuid4().hex

    def work() -> None:
        try:
            stt = tts = None
            if audio is not None:
                try:
                    stt = svc.stt
                except CairnError as err:
                    failure = stage_error(err, Stage.stt)
                    data = {"code": failure.code, "message": failure.message}
                    events.put(Event(EventType.error, Stage.stt, data))
                    holder["result"] = PipelineResult(error=failure)
                    return
            if speak:
                try:
                    tts = svc.tts
                except CairnError as err:
                    events.put(
                        Event(
                            EventType.warning,
                            Stage.speak,
                            {"message": f"no spoken answer: {err.message}"},
                        )
                    )
            folder.mkdir(parents=True, exist_ok=True)
            holder["result"] = run_pipeline(
                svc.kb,
                audio=audio,
                text=text,
                stt=stt,
                tts=tts,
                speak_to=folder / "answer.wav" if tts is not None else None,
                chart_to=folder / "chart.png",
                on_event=events.put,
                ask_options=AskOptions(spans=svc.spans, model=svc.support_model),
            )
        except Exception:
            log.exception("the voice pipeline failed")
            holder["result"] = PipelineResult(
                error=PipelineError(
                    "internal-error", "internal server error (logged)", stage=Stage.act
                )
            )
        finally:
            events.put(None)

    worker = threading.Thread(target=work, name="cairn-voice", daemon=True)
    worker.start()
    while (event := events.get()) is not None:
        yield _sse(event.as_dict())
    worker.join()
    result = holder["result"]
    charts = [u for u in (file_url(svc, p) for p in result.charts) if u]
    yield _sse(
        {
            "type": "result",
            "ok": result.ok,
            "run_id": result.run_id,
            "transcript": result.transcript,
            "command": result.command.model_dump(mode="json") if result.command else None,
            "answer": result.answer,
            "abstained": result.abstained,
            "citations": [citation_json(c) for c in result.citations],
            "chart": charts[0] if charts else None,
            "charts": charts,
            "audio": file_url(svc, result.audio),
            "error": result.error.to_dict() if result.error else None,
            "seconds": round(result.seconds, 3),
        }
    )
    with contextlib.suppress(OSError):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    _prune_run_folders(runs_dir(svc))


@router.post("/voice")
def voice(
    svc: ServicesDep,
    audio: Annotated[
        UploadFile | None, File(description="A recording (WAV, WebM, Ogg, MP3, ...).")
    ] = None,
    text: Annotated[str | None, Form(max_length=2000, description="A typed request.")] = None,
    speak: Annotated[bool, Form(description="Write a spoken answer (WAV).")] = True,
) -> StreamingResponse:
    """One spoken or typed request through the whole pipeline, streamed as server-sent events.

    Each stage event is one ``data: {json}`` line; the last event has ``"type": "result"``
    with the transcript, command, answer, citations, chart and spoken-answer URLs.
    """
    data: bytes | None = None
    if audio is not None:
        try:
            limit = svc.settings.max_upload_bytes
            data = audio.file.read(limit + 1)
            if len(data) > limit:
                raise ApiError(413, "too-large", f"the recording is over {limit:,} bytes")
        finally:
            audio.file.close()
        if not data:
            raise ApiError(400, "empty-audio", "the recording is empty")
    typed = (text or "").strip() or None
    if (data is None) == (typed is None):
        raise ApiError(400, "bad-input", "send either 'audio' (a file) or 'text' (not both)")
    if data is not None:
        svc.transcriptions.check()  # 503 before the stream starts when Whisper is saturated
    return StreamingResponse(
        _voice_stream(svc, audio=data, text=typed, speak=speak),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/files/{token}/{name}")
def run_file(svc: ServicesDep, token: str, name: str) -> FileResponse:
    """A spoken answer or chart written by ``/api/voice``."""
    kind = _FILE_TYPES.get(Path(name).suffix.lower())
    if not _TOKEN.match(token) or not _FILE_NAME.match(name) or kind is None:
        raise ApiError(404, "unknown-file", "no such file")
    path = runs_dir(svc) / token / name
    if not path.is_file():
        raise ApiError(404, "unknown-file", "no such file")
    return FileResponse(path, media_type=kind)


def _run_json(svc: Services, run: dict[str, Any]) -> dict[str, Any]:
    out = dict(run)
    result = out.get("result")
    if isinstance(result, dict):
        result = dict(result)
        result["audio_url"] = file_url(svc, result.get("audio"))
        charts = (file_url(svc, p) for p in result.get("charts") or [])
        result["chart_urls"] = [u for u in charts if u]
        out["result"] = result
    return out


@router.get("/runs")
def runs(
    svc: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    events: Annotated[bool, Query(description="Include each run's stage events.")] = False,
) -> dict[str, Any]:
    """The latest pipeline runs (spoken or typed requests), newest first."""
    out = []
    for run in svc.kb.store.list_runs(limit):
        if not events:
            run = {k: v for k, v in run.items() if k != "events"}
        out.append(_run_json(svc, run))
    return {"runs": out}


@router.get("/runs/{run_id}")
def run_detail(svc: ServicesDep, run_id: int) -> dict[str, Any]:
    """One run with its stage events and result."""
    run = svc.kb.store.get_run(run_id)
    if run is None:
        raise ApiError(404, "unknown-run", f"no run with id {run_id}")
    return _run_json(svc, run)
