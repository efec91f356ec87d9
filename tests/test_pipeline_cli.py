"""`cairn voice`, `cairn runs list/show`, and the example script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import cairn
from cairn import knowledge
from cairn.cli import voice_commands
from cairn.graph.extract import CapitalisedExtractor
from cairn.models.embed import HashingEmbedder
from cairn.models.tts import write_wav

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI opens knowledge bases through open_kb; give it the fake models."""
    real = knowledge.open_kb

    def open_with_fakes(path: str | Path | None = None, **kw: object) -> knowledge.KnowledgeBase:
        return real(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor())

    monkeypatch.setattr("cairn.cli.voice_commands.open_kb", open_with_fakes)


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    voice_commands.register(app)
    return app


@pytest.fixture
def kb_path(tmp_path: Path) -> Path:
    doc = tmp_path / "lighthouse.txt"
    doc.write_text(
        "The Old Harbour Lighthouse stands on the northern pier. It was built in 1874 by the "
        "engineer Margaret Hale.",
        encoding="utf-8",
    )
    path = tmp_path / "kb.sqlite"
    with cairn.open(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor()) as kb:
        kb.ingest([doc], collection="town")
    return path


def test_voice_typed_request_then_runs(app: typer.Typer, kb_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    kb = str(kb_path)
    chart = tmp_path / "chart.png"
    res = runner.invoke(
        app,
        ["voice", "--text", "search for lighthouse", "--chart", str(chart), "--kb", kb],
    )
    assert res.exit_code == 0, res.output
    for stage in ("stt", "understand", "act", "answer", "chart", "speak", "remember"):
        assert stage in res.output
    assert "skipped: typed request" in res.output
    assert '"intent": "search"' in res.output
    assert "[1] lighthouse" in res.output
    assert chart.read_bytes()[:4] == b"\x89PNG"

    res = runner.invoke(app, ["voice", "--text", "list my sources", "--kb", kb, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["ok"] and out["command"]["intent"] == "list_sources"
    assert out["run_id"] == 2

    res = runner.invoke(app, ["runs", "list", "--kb", kb])
    assert res.exit_code == 0, res.output
    assert "search" in res.output and "list my" in res.output  # (the table wraps)
    res = runner.invoke(app, ["runs", "list", "--kb", kb, "--json", "--limit", "1"])
    (latest,) = json.loads(res.stdout)
    assert latest["id"] == 2 and latest["request"] == "list my sources"

    res = runner.invoke(app, ["runs", "show", "1", "--kb", kb])
    assert res.exit_code == 0, res.output
    assert "run 1" in res.output and "search for lighthouse" in res.output
    assert "[1] lighthouse" in res.output

    res = runner.invoke(app, ["runs", "show", "2", "--kb", kb, "--json"])
    run = json.loads(res.stdout)
    assert run["status"] == "ok" and run["result"]["command"]["intent"] == "list_sources"
    assert [e["stage"] for e in run["events"] if e["type"] == "stage-end"][-1] == "remember"

    res = runner.invoke(app, ["runs", "show", "99", "--kb", kb])
    assert res.exit_code == 2 and "no run with id 99" in res.output


def test_voice_errors_exit_1_and_are_logged(
    app: typer.Typer, kb_path: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(8000, dtype=np.float32), 16000)
    res = runner.invoke(app, ["voice", str(quiet), "--stt", "fake:hello", "--kb", str(kb_path)])
    assert res.exit_code == 1
    assert "no-speech" in res.output
    res = runner.invoke(app, ["runs", "list", "--kb", str(kb_path), "--json"])
    (run,) = json.loads(res.stdout)
    assert run["status"] == "error" and run["result"]["error"]["code"] == "no-speech"
    res = runner.invoke(app, ["voice", "--kb", str(kb_path)])
    assert res.exit_code == 2 and "--text" in res.output


def test_runs_list_empty(app: typer.Typer, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["runs", "list", "--kb", str(tmp_path / "new.sqlite")])
    assert res.exit_code == 0 and "no runs yet" in res.output


def test_example_script_prints_a_cited_answer(tmp_path: Path) -> None:
    env = {**os.environ, "CAIRN_KB": str(tmp_path / "unused.sqlite")}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "voice_pipeline.py"), "--fast"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "James Watt [1]" in proc.stdout
    assert "[1] Steam engine (CC-BY-SA-4.0)" in proc.stdout
    assert "logged as run 1" in proc.stdout
