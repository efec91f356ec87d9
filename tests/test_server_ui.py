"""The web UI and its endpoints (``/``, ``/api/voice``, ``/api/runs``), in process with fakes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import cairn
from cairn.answer.span import RuleSpans
from cairn.answer.verify import SupportModel
from cairn.demo import DEMO_LICENSE, DEMO_QUESTION, demo_files
from cairn.graph.extract import CapitalisedExtractor
from cairn.models.embed import HashingEmbedder
from cairn.models.stt import FakeSTT
from cairn.models.tts import FakeTTS, wav_bytes
from cairn.server.app import create_app
from cairn.server.settings import ServerSettings

MODEL = SupportModel(
    {"overlap": 4.0, "context_overlap": 2.0, "type_fit": 4.0, "cosine": 1.0},
    bias=-5.5,
    threshold=0.5,
)
KEY = "ui-s3cret"


def _client(tmp_path: Path, **settings: Any) -> Iterator[TestClient]:
    kb = cairn.open(
        tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    )
    kb.ingest(demo_files(), collection="demo", license=DEMO_LICENSE)
    app = create_app(
        ServerSettings(data_dir=tmp_path / "data", **settings),
        kb=kb,
        stt=FakeSTT(DEMO_QUESTION),
        tts=FakeTTS(),
        spans=RuleSpans(),
        support_model=MODEL,
    )
    with TestClient(app) as client:
        yield client
    kb.close()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(tmp_path)


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(tmp_path, api_key=KEY)


def events_of(text: str) -> list[dict[str, Any]]:
    out = []
    for block in text.split("\n\n"):
        if block.startswith("data: "):
            out.append(json.loads(block[len("data: ") :]))
    return out


def test_page_has_landmarks_and_labels(client: TestClient) -> None:
    resp = client.get("/")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    page = resp.text
    assert '<html lang="en">' in page
    assert 'name="viewport"' in page
    for landmark in ("<header", "<main", "<footer"):
        assert landmark in page
    # Every form control has a label.
    for control in ("question", "files", "license", "consent", "collection", "api-key"):
        assert f'<label for="{control}">' in page, control
    assert re.search(r'<button type="button" id="mic" aria-pressed="false"', page)
    assert 'aria-live="polite"' in page
    assert '<audio id="answer-audio" controls' in page
    assert '<dialog id="confirm-dialog"' in page
    # Nothing is fetched from elsewhere.
    assert not re.search(r'(src|href)="(https?:)?//', page)
    for asset, kind in (("/ui/app.js", "javascript"), ("/ui/app.css", "text/css")):
        got = client.get(asset)
        assert got.status_code == 200 and kind in got.headers["content-type"], asset
        assert "http://" not in got.text and "https://" not in got.text
    assert client.get("/ui/../settings.py").status_code == 404
    assert client.get("/ui/nope.js").status_code == 404


def test_voice_typed_streams_events_and_cited_result(client: TestClient) -> None:
    with client.stream("POST", "/api/voice", data={"text": DEMO_QUESTION}) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        body = "".join(resp.iter_text())
    events = events_of(body)
    assert events[-1]["type"] == "result"
    stages = [e["stage"] for e in events[:-1] if e["type"] == "stage-end"]
    assert stages[:3] == ["stt", "understand", "act"] and "speak" in stages
    result = events[-1]
    assert result["ok"] and result["error"] is None
    assert result["transcript"] == DEMO_QUESTION
    assert result["command"]["intent"] == "ask"
    assert "Watt" in result["answer"] and "[1]" in result["answer"]
    cite = result["citations"][0]
    assert {"n", "title", "source", "license", "start", "end", "quote"} <= set(cite)
    assert cite["license"] == DEMO_LICENSE
    assert any(c["source"].endswith("steam-engine.md") for c in result["citations"])
    audio = client.get(result["audio"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF"
    # The run is logged and listed.
    runs = client.get("/api/runs").json()["runs"]
    assert runs[0]["id"] == result["run_id"] and runs[0]["request"] == DEMO_QUESTION
    assert "events" not in runs[0]
    one = client.get(f"/api/runs/{result['run_id']}").json()
    assert one["result"]["audio_url"] == result["audio"] and one["events"]
    assert client.get("/api/runs/999999").json()["error"]["code"] == "unknown-run"


def test_voice_audio_upload_uses_stt(client: TestClient) -> None:
    tone = wav_bytes([0.1] * 16000, 16000)
    resp = client.post(
        "/api/voice",
        files={"audio": ("question.wav", tone, "audio/wav")},
        data={"speak": "false"},
    )
    events = events_of(resp.text)
    stt_end = [e for e in events if e["type"] == "stage-end" and e["stage"] == "stt"]
    assert stt_end[0]["data"]["text"] == DEMO_QUESTION
    result = events[-1]
    assert result["ok"] and result["citations"] and result["audio"] is None


def test_voice_bad_input_and_files(client: TestClient) -> None:
    assert client.post("/api/voice", data={}).json()["error"]["code"] == "bad-input"
    both = client.post(
        "/api/voice", data={"text": "hi"}, files={"audio": ("a.wav", b"RIFF", "audio/wav")}
    )
    assert both.status_code == 400
    for bad in ("/api/files/xyz/answer.wav", f"/api/files/{'0' * 32}/answer.wav"):
        assert client.get(bad).status_code == 404
    assert client.get(f"/api/files/{'0' * 32}/..%2Fkb.sqlite").status_code == 404


def test_voice_failure_is_an_event_not_a_500(client: TestClient) -> None:
    resp = client.post("/api/voice", files={"audio": ("q.wav", b"not audio at all", "audio/wav")})
    assert resp.status_code == 200
    events = events_of(resp.text)
    assert any(e["type"] == "error" for e in events)
    assert events[-1]["type"] == "result" and not events[-1]["ok"]
    assert events[-1]["error"]["stage"] == "stt"


def test_page_is_public_but_data_needs_the_key(keyed: TestClient) -> None:
    assert keyed.get("/").status_code == 200
    assert keyed.get("/ui/app.js").status_code == 200
    assert keyed.post("/api/voice", data={"text": "hi"}).status_code == 401
    assert keyed.get("/api/runs").status_code == 401
    ok = keyed.get("/api/runs", headers={"Authorization": f"Bearer {KEY}"})
    assert ok.status_code == 200
