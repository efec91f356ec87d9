"""Files skipped inside a folder are reported, each with its reason; totals count every file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import cairn
from cairn.cli import app
from cairn.events import Event, EventType
from cairn.graph.extract import CapitalisedExtractor
from cairn.ingest.loaders import discover
from cairn.ingest.pipeline import Status
from cairn.models.embed import HashingEmbedder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "good.txt").write_text("James Watt improved the steam engine.", encoding="utf-8")
    (d / "table.xyz").write_text("not a format Cairn reads", encoding="utf-8")
    (d / "loop.txt").symlink_to(d / "loop.txt")
    (d / "nowhere.md").symlink_to(d / "missing.md")
    (d / "back").symlink_to(d)  # a folder link back to the folder itself
    (d / ".hidden.txt").write_text("hidden files are skipped by design", encoding="utf-8")
    os.mkfifo(d / "pipe.txt")
    return d


def test_discover_names_every_skipped_file_and_why(folder: Path) -> None:
    skipped: list[Any] = []
    files, errors = discover([folder], skipped)
    assert [f.name for f in files] == ["good.txt"]
    assert errors == []
    why = {Path(s.path).name: s.message.split(": skipped: ")[1] for s in skipped}
    assert why == {
        "back": "a link to a folder, not followed",
        "loop.txt": "a symbolic link that loops",
        "nowhere.md": "a symbolic link to nothing",
        "pipe.txt": "not a regular file (a FIFO, socket or device)",
        "table.xyz": "unsupported file type .xyz",
    }
    assert {s.code for s in skipped} == {"skipped", "unsupported-format"}


def test_ingest_reports_skips_and_counts_every_file(folder: Path, tmp_path: Path) -> None:
    events: list[Event] = []
    with cairn.open(
        tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    ) as kb:
        report = kb.ingest([folder, tmp_path / "no-such-file.txt"], on_event=events.append)
    assert report.count(Status.added) == 1
    assert report.count(Status.skipped) == 5
    assert report.count(Status.failed) == 1  # the missing path named explicitly
    start = next(e for e in events if e.type == EventType.stage_start)
    counted = [e for e in events if e.type in (EventType.progress, EventType.error)]
    per_file = [e for e in counted if "status" in e.data]
    assert start.data["files"] == len(per_file) == 7  # the bar's total is never below its count


def test_cli_prints_one_line_per_skipped_file(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cairn.knowledge as knowledge

    real = knowledge.open_kb

    def open_with_fakes(path: Any = None, **_: Any) -> knowledge.KnowledgeBase:
        return real(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor())

    monkeypatch.setattr(knowledge, "open_kb", open_with_fakes)
    r = CliRunner().invoke(app, ["ingest", str(folder), "--kb", str(tmp_path / "kb.sqlite")])
    assert r.exit_code == 0, r.output  # skipping is not failing
    lines = r.output.splitlines()
    for name in ("table.xyz", "loop.txt", "nowhere.md", "pipe.txt", "back"):
        assert any(line.startswith("skipped ") and name in line for line in lines), r.output
    assert "1 added, 5 skipped" in r.output
    assert ".hidden.txt" not in r.output
