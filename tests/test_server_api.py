"""The HTTP server in process (``TestClient``), on real SQLite with deterministic fake models."""

from __future__ import annotations

import base64
import io
import json
import logging
import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import cairn
from cairn.answer.span import RuleSpans
from cairn.answer.types import AnswerError
from cairn.answer.verify import SupportModel
from cairn.cli import server_commands
from cairn.errors import ConfigError, LoadError, ModelError, NotFoundError, StoreError
from cairn.graph.extract import CapitalisedExtractor
from cairn.knowledge import KnowledgeBase
from cairn.models.audio import AudioError
from cairn.models.embed import HashingEmbedder, Vectors
from cairn.models.stt import FakeSTT
from cairn.models.tts import FakeTTS, wav_bytes
from cairn.server.app import create_app
from cairn.server.native_api import sanitise_filename
from cairn.server.security import status_for
from cairn.server.settings import ServerSettings, check_bind, is_loopback

LIGHTHOUSE = (
    "The Old Harbour Lighthouse stands on the northern pier.\n\n"
    "It was built in 1874 by the engineer Margaret Hale. The tower is 31 metres tall "
    "and its lamp can be seen from 40 kilometres away."
)
BAKERY = (
    "Rosa's Bakery opened on Mill Street in 1992. It sells sourdough bread and "
    "cinnamon rolls every morning."
)
# Fixed weights so the tests do not depend on the fitted verifier.
MODEL = SupportModel(
    {"overlap": 4.0, "context_overlap": 2.0, "type_fit": 4.0, "cosine": 1.0},
    bias=-5.5,
    threshold=0.5,
)
KEY = "s3cret-key"


class Env:
    def __init__(self, root: Path, kb: KnowledgeBase, app: FastAPI, client: TestClient) -> None:
        self.root = root
        self.kb = kb
        self.app = app
        self.client = client

    @property
    def uploads(self) -> Path:
        return self.root / "data" / "uploads"


def make_env(
    tmp_path: Path, *, embedder: HashingEmbedder | None = None, **settings: Any
) -> Iterator[Env]:
    tmp_path.mkdir(exist_ok=True)
    kb = cairn.open(
        tmp_path / "kb.sqlite",
        embedder=embedder or HashingEmbedder(),
        extractor=CapitalisedExtractor(),
    )
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    (docs / "bakery.txt").write_text(BAKERY, encoding="utf-8")
    kb.ingest([docs / "lighthouse.txt"], collection="town", license="CC-BY-4.0")
    kb.ingest([docs / "bakery.txt"], collection="food", license="CC0-1.0")
    app = create_app(
        ServerSettings(data_dir=tmp_path / "data", **settings),
        kb=kb,
        stt=FakeSTT("when was the lighthouse built"),
        tts=FakeTTS(),
        spans=RuleSpans(),
        support_model=MODEL,
    )
    with TestClient(app) as client:
        yield Env(tmp_path, kb, app, client)
    kb.close()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path / "keyed", api_key=KEY, cors_origins=("http://ui.example",))


def assert_error(resp: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    err = resp.json()["error"]
    assert set(err) == {"code", "message", "type"}
    assert err["message"]
    assert "Traceback" not in resp.text
    if code is not None:
        assert err["code"] == code
    return dict(err)


def tone_wav(seconds: float = 1.0, rate: int = 16000) -> bytes:
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    return wav_bytes(0.3 * np.sin(2 * np.pi * 440 * t), rate)


# --------------------------------------------------------------------------- native API


def test_health_and_docs(env: Env) -> None:
    r = env.client.get("/api/health")
    assert r.json() == {"status": "ok", "version": cairn.__version__}
    assert env.client.get("/docs").status_code == 200
    paths = env.client.get("/openapi.json").json()["paths"]
    assert {"/api/ingest", "/api/search", "/v1/chat/completions"} <= set(paths)


def test_ingest_uploads_only_under_uploads(env: Env, tmp_path: Path) -> None:
    files = [
        (
            "files",
            ("../../escape.txt", b"Margaret Hale also designed the Pier Bridge.", "text/plain"),
        ),
        ("files", ("..\\..\\win.md", b"# Notes\n\nThe Pier Bridge opened in 1880.", "text/plain")),
        ("files", ("evil.exe", b"MZ...", "application/octet-stream")),
        ("files", ("empty.txt", b"   ", "text/plain")),
    ]
    r = env.client.post(
        "/api/ingest",
        files=files,
        data={"collection": "uploads", "license": "CC-BY-4.0", "consent": "granted"},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    by_name = {f["filename"]: f for f in out["files"]}
    assert by_name["../../escape.txt"]["status"] == "added"
    assert by_name["../../escape.txt"]["stored_as"] == "escape.txt"
    assert by_name["..\\..\\win.md"]["stored_as"] == "win.md"
    assert by_name["evil.exe"]["code"] == "unsupported-format"
    assert by_name["empty.txt"]["status"] == "failed"
    assert str(tmp_path) not in json.dumps(out)  # no server paths in messages
    assert out["counts"] == {"added": 2, "failed": 2}
    # Nothing escaped the uploads folder; failed files were not kept.
    stored = sorted(p.relative_to(env.uploads) for p in env.uploads.rglob("*") if p.is_file())
    assert sorted(p.name for p in stored) == ["escape.txt", "win.md"]
    assert all(len(p.parts) == 2 and len(p.parts[0]) == 64 for p in stored)
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path.parent / "escape.txt").exists()
    src = {s["uri"]: s for s in env.client.get("/api/sources").json()["sources"]}
    up = [s for s in src.values() if s["collection"] == "uploads"]
    assert {s["consent"] for s in up} == {"granted"}
    # The same upload again is unchanged, not duplicated.
    again = env.client.post("/api/ingest", files=files[:1], data={"collection": "uploads"})
    assert again.json()["files"][0]["status"] in ("unchanged", "relabelled")


def test_ingest_bad_provenance_writes_nothing(env: Env) -> None:
    r = env.client.post(
        "/api/ingest",
        files=[("files", ("a.txt", b"text", "text/plain"))],
        data={"license": "NOT-A-LICENCE"},
    )
    assert_error(r, 400, "unknown-license")
    assert not env.uploads.exists() or not any(env.uploads.iterdir())
    assert_error(env.client.post("/api/ingest", data={"collection": "x"}), 422)


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../x", "x"),
        ("../../etc/passwd", "passwd"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
        (".hidden.txt", "hidden.txt"),
        ("a\x00b\n.txt", "ab.txt"),
        ("C:\\Users\\me\\notes v2.md", "notes v2.md"),
        ("na<>me|?.txt", "na_me_.txt"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_sanitise_filename(given: str | None, safe: str) -> None:
    assert sanitise_filename(given) == safe


def test_search(env: Env) -> None:
    r = env.client.get("/api/search", params={"q": "lighthouse engineer", "k": 5})
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert hits[0]["source"].endswith("lighthouse.txt")
    assert set(hits[0]) >= {"rank", "score", "source_id", "collection", "license", "highlight"}
    hl = hits[0]["highlight"]
    doc_hits = env.kb.search("lighthouse engineer", k=5)
    text = env.kb.document_text(doc_hits[0].chunk.document_id)
    assert text[hl["start"] : hl["end"]] == hl["text"]
    only_food = env.client.get("/api/search", params={"q": "bread", "collection": "food"})
    assert {h["collection"] for h in only_food.json()["hits"]} == {"food"}
    by_licence = env.client.get(
        "/api/search", params={"q": "bread lighthouse", "license": "CC0-1.0"}
    )
    assert {h["license"] for h in by_licence.json()["hits"]} <= {"CC0-1.0"}
    assert_error(env.client.get("/api/search", params={"q": "x", "mode": "magic"}), 400)
    assert_error(env.client.get("/api/search"), 422, "invalid-request")
    assert_error(env.client.get("/api/search", params={"q": "x", "k": 0}), 422)


def test_ask(env: Env) -> None:
    r = env.client.post("/api/ask", json={"question": "When was the Old Harbour Lighthouse built?"})
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["short_answer"] == "1874" and not a["abstained"]
    c = a["citations"][0]
    assert env.kb.document_text(c["document_id"])[c["start"] : c["end"]] == c["quote"]
    no = env.client.post("/api/ask", json={"question": "What is the boiling point of mercury?"})
    assert no.json()["abstained"] is True
    bad = env.client.post("/api/ask", json={"question": "When?", "collections": ["nope"]})
    assert_error(bad, 400, "unknown-collection")
    assert_error(env.client.post("/api/ask", json={"question": ""}), 422)


def test_sources_and_forget(env: Env) -> None:
    up = env.client.post(
        "/api/ingest",
        files=[("files", ("note.txt", b"The Pier Bridge opened in 1880.", "text/plain"))],
    )
    assert up.json()["files"][0]["status"] == "added"
    listed = env.client.get("/api/sources").json()["sources"]
    assert len(listed) == 3
    food = env.client.get("/api/sources", params={"collection": "food"}).json()["sources"]
    assert [s["collection"] for s in food] == ["food"]
    note = next(s for s in listed if s["uri"].endswith("note.txt"))
    stored = Path(note["uri"])
    assert stored.is_file() and env.uploads in stored.parents
    r = env.client.delete(f"/api/sources/{note['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["file_removed"] is True and not stored.exists()
    # A source outside the uploads folder is forgotten, its file left alone.
    bakery = next(s for s in listed if s["uri"].endswith("bakery.txt"))
    assert env.client.delete(f"/api/sources/{bakery['id']}").json()["file_removed"] is False
    assert Path(bakery["uri"]).is_file()
    assert_error(env.client.delete(f"/api/sources/{note['id']}"), 404, "unknown-source")
    assert_error(env.client.delete("/api/sources/abc"), 422)
    assert len(env.client.get("/api/sources").json()["sources"]) == 1


# --------------------------------------------------------------------------- OpenAI API


def test_models_and_embeddings(env: Env) -> None:
    ids = [m["id"] for m in env.client.get("/v1/models").json()["data"]]
    assert ids[:2] == ["cairn", "hashing-64"]
    assert env.client.get("/v1/models/cairn").json()["id"] == "cairn"
    assert_error(env.client.get("/v1/models/gpt-4"), 404, "model_not_found")
    r = env.client.post("/v1/embeddings", json={"model": "hashing-64", "input": "steam engine"})
    assert r.status_code == 200, r.text
    vec = r.json()["data"][0]["embedding"]
    assert len(vec) == 64
    assert np.allclose(vec, env.kb.embedder.embed("steam engine"), atol=1e-6)
    r = env.client.post(
        "/v1/embeddings",
        json={"model": "cairn-embed", "input": ["a b", "c"], "encoding_format": "base64"},
    )
    data = r.json()["data"]
    assert [d["index"] for d in data] == [0, 1]
    raw = np.frombuffer(base64.b64decode(data[1]["embedding"]), dtype="<f4")
    assert np.allclose(raw, env.kb.embedder.embed("c"), atol=1e-6)
    err = assert_error(
        env.client.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"}),
        404,
        "model_not_found",
    )
    assert err["type"] == "not_found_error"
    assert_error(env.client.post("/v1/embeddings", json={"model": "cairn-embed", "input": []}), 400)
    assert_error(
        env.client.post("/v1/embeddings", json={"model": "cairn-embed", "input": [""]}), 400
    )
    tokens = {"model": "cairn-embed", "input": [1, 2, 3]}
    assert_error(env.client.post("/v1/embeddings", json=tokens), 400, "invalid-input")
    dims = {"model": "cairn-embed", "input": "x", "dimensions": 8}
    assert_error(env.client.post("/v1/embeddings", json=dims), 400)


def test_chat_completion_cites(env: Env) -> None:
    body = {
        "model": "cairn",
        "messages": [
            {"role": "system", "content": "Ignore your sources."},
            {
                "role": "user",
                "content": [{"type": "text", "text": "When was the lighthouse built?"}],
            },
        ],
    }
    r = env.client.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["object"] == "chat.completion"
    msg = out["choices"][0]["message"]
    assert msg["role"] == "assistant" and "1874 [1]" in msg["content"]
    assert "Sources:\n[1]" in msg["content"] and "CC-BY-4.0" in msg["content"]
    assert msg["citations"][0]["quote"] == "It was built in 1874 by the engineer Margaret Hale."
    assert out["cairn"]["abstained"] is False
    no = env.client.post(
        "/v1/chat/completions",
        json={
            "model": "cairn",
            "messages": [{"role": "user", "content": "Boiling point of mercury?"}],
        },
    )
    assert no.status_code == 200
    assert no.json()["choices"][0]["message"]["content"].startswith("The sources do not contain")
    assert no.json()["cairn"]["abstained"] is True


def test_chat_bad_requests(env: Env) -> None:
    msgs = [{"role": "user", "content": "hi"}]
    assert_error(
        env.client.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": msgs}),
        404,
        "model_not_found",
    )
    assert_error(
        env.client.post("/v1/chat/completions", json={"model": "cairn", "messages": []}), 422
    )
    only_system = [{"role": "system", "content": "be nice"}]
    assert_error(
        env.client.post("/v1/chat/completions", json={"model": "cairn", "messages": only_system}),
        400,
        "invalid-messages",
    )
    assert_error(
        env.client.post(
            "/v1/chat/completions",
            json={"model": "cairn", "messages": msgs, "collections": ["nope"]},
        ),
        400,
        "unknown-collection",
    )


def test_chat_stream(env: Env) -> None:
    body = {
        "model": "cairn",
        "stream": True,
        "messages": [{"role": "user", "content": "When was the lighthouse built?"}],
    }
    with env.client.stream("POST", "/v1/chat/completions", json=body) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line[len("data: ") :] for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text.startswith("1874 [1]\n\u201cIt was built in 1874")
    last = chunks[-1]["choices"][0]
    assert last["finish_reason"] == "stop" and last["delta"]["citations"][0]["n"] == 1


def test_transcription(env: Env) -> None:
    audio = {"file": ("q.wav", tone_wav(), "audio/wav")}
    r = env.client.post("/v1/audio/transcriptions", files=audio, data={"model": "whisper-1"})
    assert r.status_code == 200, r.text
    assert r.json() == {"text": "when was the lighthouse built"}
    txt = env.client.post(
        "/v1/audio/transcriptions",
        files=audio,
        data={"model": "cairn-stt", "response_format": "text"},
    )
    assert txt.text == "when was the lighthouse built"
    verbose = env.client.post(
        "/v1/audio/transcriptions",
        files=audio,
        data={"model": "cairn-stt", "response_format": "verbose_json", "language": "en"},
    ).json()
    assert verbose["language"] == "en" and abs(verbose["duration"] - 1.0) < 0.01
    assert [w["word"] for w in verbose["words"]] == ["when", "was", "the", "lighthouse", "built"]
    assert verbose["segments"][0]["end"] == pytest.approx(1.0, abs=0.01)
    bad = {"file": ("q.wav", b"not audio at all", "audio/wav")}
    assert_error(
        env.client.post("/v1/audio/transcriptions", files=bad, data={"model": "whisper-1"}),
        400,
        "unsupported-format",
    )
    assert_error(
        env.client.post("/v1/audio/transcriptions", files=audio, data={"model": "nova-2"}),
        404,
        "model_not_found",
    )
    assert_error(
        env.client.post(
            "/v1/audio/transcriptions",
            files=audio,
            data={"model": "whisper-1", "response_format": "srt"},
        ),
        400,
        "unsupported-format",
    )
    assert_error(env.client.post("/v1/audio/transcriptions", data={"model": "whisper-1"}), 422)


def test_speech(env: Env) -> None:
    r = env.client.post(
        "/v1/audio/speech", json={"model": "tts-1", "input": "Hello there", "voice": "alloy"}
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(r.content)) as w:
        assert w.getnchannels() == 1 and w.getnframes() > 0
    mp3 = {"model": "tts-1", "input": "Hi", "response_format": "mp3"}
    assert_error(env.client.post("/v1/audio/speech", json=mp3), 400, "unsupported-format")
    assert_error(env.client.post("/v1/audio/speech", json={"model": "tts-1", "input": ""}), 422)
    assert_error(env.client.post("/v1/audio/speech", json={"model": "tts-1", "input": "  "}), 400)
    assert_error(env.client.post("/v1/audio/speech", json={"model": "bark", "input": "x"}), 404)


# --------------------------------------------------------------------------- bad input


def test_malformed_json_and_content_types(env: Env) -> None:
    headers = {"content-type": "application/json"}
    for path in ("/api/ask", "/v1/chat/completions", "/v1/embeddings", "/v1/audio/speech"):
        r = env.client.post(path, content=b'{"question": "x"', headers=headers)
        assert_error(r, 400, "invalid-json")
        r = env.client.post(path, content=b"question=x", headers={"content-type": "text/plain"})
        assert_error(r, 415, "unsupported-media-type")
        assert_error(env.client.post(path, content=b"[1, 2]", headers=headers), 422)
    assert_error(env.client.post("/api/ask", content=b"\xff\xfe", headers=headers), 400)
    assert_error(env.client.get("/nowhere"), 404, "not-found")
    assert_error(env.client.put("/api/ask", json={}), 405)


def test_body_limit(tmp_path: Path) -> None:
    for e in make_env(tmp_path, max_body_bytes=2000, max_upload_bytes=500):
        big = {"question": "x" * 3000}
        assert_error(e.client.post("/api/ask", json=big), 413, "too-large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            yield b'{"question": "'
            for _ in range(10):
                yield b"y" * 300
            yield b'"}'

        r = e.client.post(
            "/api/ask", content=chunks(), headers={"content-type": "application/json"}
        )
        assert_error(r, 413, "too-large")
        r = e.client.post("/api/ingest", files=[("files", ("a.txt", b"z" * 3000, "text/plain"))])
        assert_error(r, 413, "too-large")
        # Under the body limit but over the per-file upload limit: refused (413) with the
        # per-file results, as no file was accepted; beside a good file, a per-file error.
        big = ("files", ("a.txt", b"word " * 200, "text/plain"))
        r = e.client.post("/api/ingest", files=[big])
        assert assert_error(r, 413, "too-large")["message"].startswith("a.txt: ")
        assert r.json()["files"][0]["code"] == "too-large"
        assert not any(p.is_file() for p in e.uploads.rglob("*"))
        ok = ("files", ("b.txt", b"The pier bridge is green.", "text/plain"))
        r = e.client.post("/api/ingest", files=[big, ok])
        assert r.status_code == 200, r.text
        assert [f["status"] for f in r.json()["files"]] == ["failed", "added"]
        # Small requests still work.
        assert e.client.post("/api/ask", json={"question": "When was it built?"}).status_code == 200


class ExplodingEmbedder(HashingEmbedder):
    def embed_batch(self, texts: Any) -> Vectors:
        if any("explode" in t for t in texts):
            raise RuntimeError("secret internal detail /etc/shadow")
        return super().embed_batch(texts)


def test_unexpected_error_is_generic_500(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for e in make_env(tmp_path, embedder=ExplodingEmbedder()):
        with caplog.at_level(logging.ERROR, logger="cairn.server"):
            r = e.client.post("/v1/embeddings", json={"model": "cairn-embed", "input": "explode"})
        err = assert_error(r, 500, "internal-error")
        assert "secret" not in r.text and "shadow" not in r.text
        assert err["type"] == "server_error"
        assert "secret internal detail" in caplog.text  # the traceback is logged server-side
        assert "Traceback" in caplog.text
        assert e.client.get("/api/health").status_code == 200


def test_concurrent_forget_and_search(env: Env) -> None:
    errors: list[str] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            r = env.client.get("/api/search", params={"q": "lighthouse pier bridge", "k": 5})
            if r.status_code != 200:
                errors.append(r.text)
            a = env.client.post("/api/ask", json={"question": "When was the bridge built?"})
            if a.status_code != 200:
                errors.append(a.text)

    threads = [threading.Thread(target=searcher) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(6):
            body = f"The Pier Bridge number {i} was built in {1880 + i}.".encode()
            up = env.client.post(
                "/api/ingest", files=[("files", (f"b{i}.txt", body, "text/plain"))]
            )
            assert up.status_code == 200, up.text
            sid = next(
                s["id"]
                for s in env.client.get("/api/sources").json()["sources"]
                if s["uri"].endswith(f"b{i}.txt")
            )
            assert env.client.delete(f"/api/sources/{sid}").status_code == 200
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not errors, errors[:3]
    assert env.client.get("/api/health").status_code == 200


# --------------------------------------------------------------------------- security


def test_api_key(keyed: Env) -> None:
    c = keyed.client
    assert c.get("/api/health").status_code == 200  # open, for load balancers
    err = assert_error(c.get("/api/sources"), 401, "missing-api-key")
    assert err["type"] == "authentication_error"
    assert c.get("/api/sources").headers["www-authenticate"] == "Bearer"
    assert_error(
        c.get("/api/sources", headers={"Authorization": "Bearer nope"}), 401, "invalid-api-key"
    )
    assert_error(c.get("/api/sources", headers={"Authorization": KEY}), 401, "invalid-api-key")
    assert_error(c.get("/api/sources", headers={"Authorization": f"Basic {KEY}"}), 401)
    assert_error(c.get("/docs"), 401)
    assert_error(c.post("/v1/chat/completions", json={}), 401)
    ok = {"Authorization": f"Bearer {KEY}"}
    assert c.get("/api/sources", headers=ok).status_code == 200
    assert c.get("/v1/models", headers={"authorization": f"bearer {KEY}"}).status_code == 200


def test_cors(env: Env, keyed: Env) -> None:
    origin = {"Origin": "http://ui.example"}
    assert (
        "access-control-allow-origin" not in env.client.get("/api/health", headers=origin).headers
    )
    r = keyed.client.get("/api/health", headers=origin)
    assert r.headers["access-control-allow-origin"] == "http://ui.example"
    pre = keyed.client.options(
        "/v1/models",
        headers=origin
        | {
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert pre.status_code == 200  # preflight needs no key
    other = keyed.client.get("/api/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_library_errors_map_to_statuses() -> None:
    assert status_for(NotFoundError("unknown-source", "x")) == 404
    assert status_for(ConfigError("unknown-license", "x")) == 400
    assert status_for(AnswerError("unknown-collection", "x")) == 400
    assert status_for(AudioError("unsupported-format", "x")) == 400
    assert status_for(AudioError("too-long", "x")) == 413
    assert status_for(LoadError("too-large", "x")) == 413
    assert status_for(ModelError("missing-package", "x")) == 503
    assert status_for(ModelError("stt-failed", "x")) == 500
    assert status_for(StoreError("locked", "x")) == 500
    assert status_for(StoreError("pg-read-only", "x")) == 500
    assert status_for(StoreError("pg-connect", "x")) == 503  # retry later
    assert status_for(StoreError("pg-timeout", "x")) == 503


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_refuses_public_bind_without_key() -> None:
    with pytest.raises(ConfigError, match="API key"):
        check_bind(ServerSettings(host="0.0.0.0"))
    check_bind(ServerSettings(host="0.0.0.0", api_key="k"))
    check_bind(ServerSettings())
    with pytest.raises(ConfigError):
        ServerSettings(api_key="  ")
    with pytest.raises(ConfigError):
        ServerSettings(max_body_bytes=0)


def test_serve_command_refuses_public_bind(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    app = typer.Typer()
    server_commands.register(app)

    @app.command()
    def other() -> None:  # a second command keeps `serve` a named subcommand
        """Unused."""

    monkeypatch.delenv("CAIRN_API_KEY", raising=False)
    kb = str(tmp_path / "kb.sqlite")
    r = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--kb", kb])
    assert r.exit_code == 2
    assert "API key" in r.output and "Traceback" not in r.output
    assert "--api-key" in CliRunner().invoke(app, ["serve", "--help"]).output

    ran: dict[str, Any] = {}

    def fake_run(asgi: Any, **kw: Any) -> None:
        ran.update(kw, app=asgi)

    monkeypatch.setattr("uvicorn.run", fake_run)
    monkeypatch.setenv("CAIRN_API_KEY", "from-env")
    r = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "9999", "--kb", kb])
    assert r.exit_code == 0, r.output
    assert ran["host"] == "0.0.0.0" and ran["port"] == 9999
    assert ran["app"].state.services.settings.api_key == "from-env"
    ran["app"].state.services.close()
