"""Progress bars: totals that hold (no 1/0, no 22/18), and progress for the eval's queries."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import cairn
import cairn.cli.progress as progress_module
from cairn.cli.progress import event_progress
from cairn.cli.safe_text import SafeConsole
from cairn.events import Event, EventType
from cairn.graph.extract import CapitalisedExtractor
from cairn.models.embed import HashingEmbedder
from cairn_eval.retrieval import run_retrieval_eval


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    out = io.StringIO()
    term = SafeConsole(file=out, force_terminal=True, width=120, color_system=None)
    monkeypatch.setattr(progress_module, "err_console", term)
    return out


def _final(out: io.StringIO, name: str) -> str:
    """The last drawn line of the bar called ``name``."""
    lines = [line for line in out.getvalue().replace("\r", "\n").splitlines() if name in line]
    return lines[-1]


def test_ingest_bars_count_every_file(tmp_path: Path, terminal: io.StringIO) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"d{i}.txt").write_text(f"Document {i} about Watt and steam.", encoding="utf-8")
    (docs / "odd.xyz").write_text("skipped", encoding="utf-8")
    with (
        cairn.open(
            tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
        ) as kb,
        event_progress() as on_event,
    ):
        kb.ingest([docs, tmp_path / "missing.txt"], on_event=on_event)
    assert "5/5" in _final(terminal, "files")  # 3 added, 1 skipped, 1 missing
    assert "3/3" in _final(terminal, "chunks embedded")
    text = terminal.getvalue()
    assert "failed" in text and "missing.txt" in text
    assert "skipped" in text and "odd.xyz" in text


def test_a_bar_never_shows_more_done_than_its_total(terminal: io.StringIO) -> None:
    with event_progress() as on_event:
        on_event(Event(EventType.stage_start, "ingest", {"files": 1}))
        for _ in range(3):  # a producer that announced too few
            on_event(Event(EventType.progress, "ingest", {"status": "added"}))
    assert "3/3" in _final(terminal, "files")


def test_quiet_and_off_a_terminal_draw_no_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(progress_module, "err_console", SafeConsole(file=out, width=120))
    with event_progress() as on_event:
        on_event(Event(EventType.stage_start, "ingest", {"files": 1}))
        on_event(Event(EventType.progress, "ingest", {"status": "added"}))
    assert "━" not in out.getvalue()


def test_retrieval_eval_reports_query_progress(tmp_path: Path, terminal: io.StringIO) -> None:
    root = tmp_path / "mini"
    (root / "qrels").mkdir(parents=True)
    corpus = [{"_id": f"d{i}", "title": "", "text": f"Statins and topic {i}."} for i in range(5)]
    queries = [{"_id": str(i), "text": f"statins topic {i}"} for i in range(25)]
    (root / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in corpus))
    (root / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in queries))
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{i}\td{i % 5}\t1\n" for i in range(25))
    )
    with (
        cairn.open(
            tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
        ) as kb,
        event_progress() as on_event,
    ):
        report = run_retrieval_eval(kb, root, modes=("keyword",), peers=(), on_event=on_event)
    assert report.queries == 25
    assert "25/25" in _final(terminal, "queries keyword")
    assert "1/1" in _final(terminal, "files")  # the corpus ingest inside the eval shows too


def test_fit_fusion_reports_its_queries_and_grid(tmp_path: Path, terminal: io.StringIO) -> None:
    from cairn_eval.fusion_fit import fit_fusion

    root = tmp_path / "mini"
    (root / "qrels").mkdir(parents=True)
    corpus = [{"_id": f"d{i}", "title": "", "text": f"Statins and topic {i}."} for i in range(5)]
    queries = [{"_id": str(i), "text": f"statins topic {i}"} for i in range(12)]
    (root / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in corpus))
    (root / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in queries))
    (root / "qrels" / "train.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{i}\td{i % 5}\t1\n" for i in range(12))
    )
    with (
        cairn.open(
            tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
        ) as kb,
        event_progress() as on_event,
    ):
        result = fit_fusion(kb, root, keyword_grid=(0.3, 0.6), graph_grid=(0.0,), on_event=on_event)
    assert result.queries == 12
    assert "12/12" in _final(terminal, "queries")
    assert "2/2" in _final(terminal, "fit weights")
