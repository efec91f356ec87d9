"""Hostile input over real HTTP on loopback: zip bombs, huge uploads, ``../`` file names, and
transcriptions that must not starve searches (a real uvicorn server in a thread)."""

from __future__ import annotations

import io
import os
import socket
import struct
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import pytest

from cairn.answer.span import RuleSpans
from cairn.errors import LoadError
from cairn.ingest.document_loaders import ZIP_MAX_EXPANDED
from cairn.ingest.file_reading import LoadOptions
from cairn.ingest.loaders import load
from cairn.knowledge import KnowledgeBase
from cairn.models.audio import SAMPLE_RATE
from cairn.models.stt import Progress, Segment, SpeechToText, Transcript
from cairn.models.tts import FakeTTS, wav_bytes
from cairn.server.app import create_app
from cairn.server.settings import MB, ServerSettings, Services
from helpers import FIXED_SUPPORT, TOWN_DOCS, fake_kb, serve_in_thread

pytest.importorskip("uvicorn")
pytest.importorskip("docx")

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class BlockingSTT(SpeechToText):
    """Holds each transcription until ``release`` is set (a slow Whisper, for tests)."""

    name = "blocking"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.nice: list[int] = []  # the priority each transcription ran at

    def transcribe_array(
        self,
        audio: npt.NDArray[Any],
        sample_rate: int = SAMPLE_RATE,
        *,
        language: str | None = None,
        word_timestamps: bool = True,
        on_progress: Progress | None = None,
    ) -> Transcript:
        self.nice.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        self.started.set()
        self.release.wait(30)
        duration = len(audio) / sample_rate
        return Transcript("hello", "en", 1.0, duration, [Segment("hello", 0.0, duration)])


class Live:
    def __init__(
        self, base: str, root: Path, kb: KnowledgeBase, stt: BlockingSTT, services: Services
    ) -> None:
        self.base = base
        self.services = services
        self.root = root
        self.kb = kb
        self.stt = stt

    @property
    def data(self) -> Path:
        return self.root / "data"

    def stored_files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file())


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    kb = fake_kb(tmp_path, TOWN_DOCS)
    stt = BlockingSTT()
    settings = ServerSettings(
        data_dir=tmp_path / "data",
        max_body_bytes=8 * MB,
        max_upload_bytes=6 * MB,
        max_transcriptions=1,
        transcription_queue=1,
        retry_after_s=7,
    )
    app = create_app(
        settings, kb=kb, stt=stt, tts=FakeTTS(), spans=RuleSpans(), support_model=FIXED_SUPPORT
    )
    try:
        with serve_in_thread(app) as port:
            yield Live(f"http://127.0.0.1:{port}", tmp_path, kb, stt, app.state.services)
    finally:
        stt.release.set()
        kb.close()


def docx_bytes(text: str = "The Pier Bridge opened in 1880.") -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zeros_bomb(megabytes: int) -> bytes:
    """A DOCX-named zip whose document part really inflates to ``megabytes`` MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as part:
            block = b"\0" * MB
            for _ in range(megabytes):
                part.write(block)
    return out.getvalue()


def lying_bomb(declared: int = 3_000_000_000) -> bytes:
    """A small zip whose directory says its member expands to ``declared`` bytes (a zip bomb
    as the archive describes itself; ``zipfile`` would inflate up to that size)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", "<w:document/>" * 200)
    data = bytearray(out.getvalue())
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, declared)  # local header: uncompressed size
    struct.pack_into("<I", data, central + 24, declared)  # central directory: the same
    return bytes(data)


def ingest(live: Live, name: str, data: bytes, kind: str = DOCX) -> httpx.Response:
    return httpx.post(live.base + "/api/ingest", files=[("files", (name, data, kind))], timeout=60)


def assert_json_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = resp.json()
    assert body["error"]["code"] == code and body["error"]["message"]
    assert "Traceback" not in resp.text
    return body


# --------------------------------------------------------------------------- zip bombs


def test_zip_bomb_refused_before_expansion(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    import docx

    def must_not_parse(*_: Any, **__: Any) -> None:
        raise AssertionError("a zip bomb reached the DOCX parser")

    sources = len(live.kb.sources())
    ok = ingest(live, "bridge.docx", docx_bytes())  # a real DOCX still works
    assert ok.status_code == 200 and ok.json()["files"][0]["status"] == "added", ok.text
    monkeypatch.setattr(docx, "Document", must_not_parse)
    # Declares 3 GB: refused by size (413) from the archive's directory alone.
    big = assert_json_error(ingest(live, "big.docx", lying_bomb()), 413, "archive-too-large")
    assert big["error"]["message"].startswith("big.docx: the archive would expand to 3,000,000,000")
    assert big["files"][0]["filename"] == "big.docx"
    # 20 MB of zeros in 20 kB: refused by its compression ratio (422).
    ratio = ingest(live, "zeros.docx", zeros_bomb(20))
    assert_json_error(ratio, 422, "suspicious-archive")
    # In a request with a good file, the bomb is a per-file failure; the good file is added.
    mixed = httpx.post(
        live.base + "/api/ingest",
        files=[
            ("files", ("bomb.docx", lying_bomb(), DOCX)),
            ("files", ("ok.txt", b"The Pier Bridge is painted green.", "text/plain")),
        ],
        timeout=60,
    )
    assert mixed.status_code == 200, mixed.text
    by_name = {f["filename"]: f for f in mixed.json()["files"]}
    assert by_name["bomb.docx"]["code"] == "archive-too-large"
    assert by_name["ok.txt"]["status"] == "added"
    assert len(live.kb.sources()) == sources + 2  # bridge.docx and ok.txt only
    stored = [p.name for p in (live.data / "uploads").rglob("*") if p.is_file()]
    assert sorted(stored) == ["bridge.docx", "ok.txt"]  # no bomb kept


@pytest.mark.slow
def test_real_600_mb_zip_bomb_is_refused_fast(live: Live) -> None:
    bomb = zeros_bomb(600)  # 600 MB of zeros in ~2.7 MB
    assert len(bomb) < 6 * MB
    began = time.perf_counter()
    body = assert_json_error(ingest(live, "bomb.docx", bomb), 413, "archive-too-large")
    assert time.perf_counter() - began < 10  # not inflated: that alone would take longer
    assert f"{ZIP_MAX_EXPANDED:,}" in body["error"]["message"]


def test_loader_guard_refuses_zip_bombs(tmp_path: Path) -> None:
    """``cairn ingest`` (the loader) has the same guard as the server."""
    for name, data, code in (
        ("big.docx", lying_bomb(), "archive-too-large"),
        ("zeros.docx", zeros_bomb(5), "suspicious-archive"),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(LoadError) as info:
            load(path, LoadOptions())
        assert info.value.code == code and name in info.value.message
    good = tmp_path / "good.docx"
    good.write_bytes(docx_bytes())
    assert "Pier Bridge" in load(good, LoadOptions())[0].text


# --------------------------------------------------------------------------- huge bodies


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    """The status and body of the HTTP response on ``sock`` (read until its length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head:
        return 0, b""
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(head.split(b" ", 2)[1]), body


def _upload_head(port: str, extra: str) -> bytes:
    return (
        "POST /api/ingest HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: multipart/form-data; boundary=XyZ\r\n"
        f"{extra}\r\n"
    ).encode()


def test_2gb_upload_refused_while_streaming(live: Live) -> None:
    port = live.base.rsplit(":", 1)[1]
    # Announced as 2 GB: refused from the header, before any of the body is sent.
    with socket.create_connection(("127.0.0.1", int(port)), timeout=30) as sock:
        sock.sendall(_upload_head(port, "Content-Length: 2000000000\r\n"))
        status, body = _read_response(sock)
    assert status == 413 and b"too-large" in body
    # Streamed in chunks with no length: refused once the limit (8 MB) has arrived.
    sent = 0
    with socket.create_connection(("127.0.0.1", int(port)), timeout=30) as sock:
        sock.sendall(_upload_head(port, "Transfer-Encoding: chunked\r\n"))
        preamble = (
            b'--XyZ\r\nContent-Disposition: form-data; name="files"; filename="huge.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\n"
        )
        block = b"word " * (MB // 5)
        sock.sendall(b"%x\r\n%s\r\n" % (len(preamble), preamble))
        try:
            while sent < 2_000_000_000:
                sock.sendall(b"%x\r\n%s\r\n" % (len(block), block))
                sent += len(block)
        except OSError:  # the server answered and closed: it stopped reading
            pass
        status, body = _read_response(sock)
    assert status == 413 and b"too-large" in body
    assert sent < 100 * MB, f"the client could send {sent:,} bytes"  # far from 2 GB
    assert not [p for p in live.stored_files() if "huge" in p.name]
    # The server is fine afterwards.
    assert httpx.get(live.base + "/api/health").status_code == 200


def test_dotdot_names_stay_in_the_uploads_folder(live: Live) -> None:
    names = ["../../../escape.txt", "..\\..\\win.txt", "/etc/cron.d/abs.txt", "a/../../b.txt"]
    files = [
        ("files", (name, f"Note {i}: the Pier Bridge is green.".encode(), "text/plain"))
        for i, name in enumerate(names)
    ]
    r = httpx.post(live.base + "/api/ingest", files=files, timeout=60)
    assert r.status_code == 200, r.text
    stored_as = [f["stored_as"] for f in r.json()["files"]]
    assert stored_as == ["escape.txt", "win.txt", "abs.txt", "b.txt"]
    uploads = (live.data / "uploads").resolve()
    new = [p for p in live.stored_files() if p.suffix == ".txt" and p.name not in TOWN_DOCS]
    assert len(new) == 4
    for p in new:
        assert p.resolve().parent.parent == uploads
    assert not (live.root.parent / "escape.txt").exists()


# --------------------------------------------------------------------------- transcriptions


def test_transcriptions_are_capped_and_search_stays_fast(live: Live) -> None:
    rate = 16000
    t = np.arange(rate, dtype=np.float32) / rate
    wav = wav_bytes(0.3 * np.sin(2 * np.pi * 440 * t), rate)
    form = {"model": "whisper-1"}
    results: list[httpx.Response] = []

    def transcribe() -> None:
        results.append(
            httpx.post(
                live.base + "/v1/audio/transcriptions",
                files={"file": ("q.wav", wav, "audio/wav")},
                data=form,
                timeout=60,
            )
        )

    running = threading.Thread(target=transcribe)
    running.start()
    assert live.stt.started.wait(20)
    waiting = threading.Thread(target=transcribe)  # the one queued turn
    waiting.start()
    gate = live.services.transcriptions
    deadline = time.monotonic() + 20
    while gate.admitted < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert gate.admitted == 2 and not results
    # One running, one waiting: a third is refused at once, with a time to retry.
    third = httpx.post(
        live.base + "/v1/audio/transcriptions",
        files={"file": ("q.wav", wav, "audio/wav")},
        data=form,
        timeout=10,
    )
    assert_json_error(third, 503, "busy")
    assert third.headers["retry-after"] == "7"
    # /api/voice with a recording is refused the same way, before its stream starts.
    voice = httpx.post(
        live.base + "/api/voice", files={"audio": ("q.wav", wav, "audio/wav")}, timeout=10
    )
    assert_json_error(voice, 503, "busy")
    # Searches do not wait for Whisper.
    began = time.perf_counter()
    for _ in range(5):
        s = httpx.get(live.base + "/api/search", params={"q": "lighthouse"}, timeout=10)
        assert s.status_code == 200 and s.json()["hits"]
    assert time.perf_counter() - began < 5
    live.stt.release.set()
    running.join(30)
    waiting.join(30)
    assert [r.status_code for r in results] == [200, 200]
    assert all(r.json()["text"] == "hello" for r in results)
    # Whisper ran below the searches' priority (nice 10 on Linux).
    assert live.stt.nice == [max(10, os.nice(0))] * 2
