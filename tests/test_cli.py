"""The CLI as a person uses it: real SQLite, fake models injected through the library API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cairn.cli import app
from cairn.graph.extract import CapitalisedExtractor
from cairn.models.embed import HashingEmbedder

runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI opens knowledge bases through cairn.knowledge.open_kb; give it fake models."""
    import cairn.knowledge as knowledge

    real = knowledge.open_kb

    def open_with_fakes(path: object = None, **kw: object) -> knowledge.KnowledgeBase:
        return real(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor())  # type: ignore[arg-type]

    monkeypatch.setattr(knowledge, "open_kb", open_with_fakes)
    monkeypatch.setattr("cairn.cli.kb_commands.open_kb", open_with_fakes)


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return tmp_path / "kb.sqlite"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    d = tmp_path / "my docs"
    d.mkdir()
    (d / "a.jsonl").write_text(
        json.dumps({"_id": "x1", "title": "Watt", "text": "James Watt improved the engine."})
        + "\n"
        + json.dumps({"_id": "x2", "title": "Rollo", "text": "Rollo founded Normandy."})
    )
    (d / "notes.txt").write_text("Packet switching splits data into packets.")
    return d


def test_ingest_search_sources_forget(kb: Path, corpus: Path) -> None:
    r = runner.invoke(
        app,
        ["ingest", str(corpus), "--kb", str(kb), "--license", "CC-BY-4.0", "--collection", "c1"],
    )
    assert r.exit_code == 0, r.output
    assert "2 added" in r.output

    r = runner.invoke(app, ["search", "Watt engine", "--kb", str(kb), "--json", "--k", "2"])
    assert r.exit_code == 0, r.output
    first = json.loads(r.output.splitlines()[0])
    assert first["document_id"] == "x1"
    assert first["license"] == "CC-BY-4.0" and first["collection"] == "c1"
    assert first["source"].endswith("a.jsonl")
    assert first["highlight"]["text"] == "James Watt improved the engine."
    assert {"rank", "score", "chunk", "signals"} <= first.keys()

    r = runner.invoke(app, ["sources", "--kb", str(kb), "--json"])
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert sorted(row["documents"] for row in rows) == [1, 2]

    r = runner.invoke(app, ["forget", str(corpus / "notes.txt"), "--kb", str(kb)])
    assert r.exit_code == 0 and "forgot" in r.output
    r = runner.invoke(app, ["search", "packets", "--kb", str(kb), "--mode", "keyword"])
    assert "no results" in r.output


def test_partial_failure_sets_exit_code_and_names_the_file(kb: Path, corpus: Path) -> None:
    (corpus / "empty.md").write_text("")
    r = runner.invoke(app, ["ingest", str(corpus), "--kb", str(kb)])
    assert r.exit_code == 1
    assert "empty.md" in r.output and "2 added" in r.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["ingest", "x.txt", "--license", "Nope-1.0"], "unknown SPDX licence id Nope-1.0"),
        (["ingest", "x.txt", "--consent", "perhaps"], "--consent"),
        (["search", "?!?"], "no words"),
        (["search", "hello", "--mode", "fuzzy"], "--mode"),
        (["forget", "/no/such/source"], "no source matches"),
    ],
)
def test_bad_arguments_get_one_clear_line(kb: Path, args: list[str], needle: str) -> None:
    r = runner.invoke(app, [*args, "--kb", str(kb)])
    assert r.exit_code == 2
    assert needle in " ".join(r.output.split())
    assert "Traceback" not in r.output


def test_every_command_has_help() -> None:
    for cmd in ["ingest", "search", "sources", "forget", "demo", "transcribe", "say"]:
        r = runner.invoke(app, [cmd, "--help"])
        assert r.exit_code == 0 and "--help" in r.output
