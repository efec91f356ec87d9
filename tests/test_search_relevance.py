"""Irrelevant hits are not shown as results; the evaluation path never applies the cut."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cairn.cli import app
from cairn.graph.extract import CapitalisedExtractor
from cairn.kb.types import ChunkRecord
from cairn.models.embed import HashingEmbedder
from cairn.search.relevance import DENSE_FLOOR, is_relevant, relevant_hits
from cairn.search.types import SearchHit

runner = CliRunner()


def _hit(rank: int, **signals: float) -> SearchHit:
    chunk: Any = ChunkRecord.__new__(ChunkRecord)  # the cut reads only the signals
    return SearchHit(chunk, score=0.0, rank=rank, signals=signals)


def test_a_hit_is_relevant_by_word_or_meaning() -> None:
    assert is_relevant(_hit(1, keyword=0.01))  # any keyword match
    assert not is_relevant(_hit(1, graph=1.4, dense=0.0))  # an entity of the top hits only
    assert is_relevant(_hit(1, dense=DENSE_FLOOR))
    assert not is_relevant(_hit(1, dense=DENSE_FLOOR - 0.01))
    assert not is_relevant(_hit(1))  # no signal at all


def test_relevant_hits_renumbers_and_counts() -> None:
    hits = [_hit(1, keyword=3.0), _hit(2, dense=-0.1), _hit(3, dense=DENSE_FLOOR + 0.1)]
    kept, left_out = relevant_hits(hits)
    assert [h.rank for h in kept] == [1, 2] and left_out == 1
    assert kept[1].signals == {"dense": DENSE_FLOOR + 0.1}


@pytest.fixture
def kb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import cairn.knowledge as knowledge

    real = knowledge.open_kb

    def open_with_fakes(path: Any = None, **_: Any) -> knowledge.KnowledgeBase:
        return real(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor())

    monkeypatch.setattr(knowledge, "open_kb", open_with_fakes)
    monkeypatch.setattr("cairn.cli.kb_commands.open_kb", open_with_fakes)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "watt.txt").write_text("James Watt improved the steam engine.", encoding="utf-8")
    for i, text in enumerate(["Bees make honey in hives.", "Rivers flow to the sea."]):
        (docs / f"other{i}.txt").write_text(text, encoding="utf-8")
    path = tmp_path / "kb.sqlite"
    assert runner.invoke(app, ["ingest", str(docs), "--kb", str(path)]).exit_code == 0
    return path


def test_search_shows_only_what_matches(kb: Path) -> None:
    r = runner.invoke(app, ["search", "steam engine", "--kb", str(kb), "--json"])
    assert r.exit_code == 0, r.output
    shown = [json.loads(line) for line in r.output.splitlines()]
    assert any(h["source"].endswith("watt.txt") for h in shown)
    assert not any(h["source"].endswith(("other0.txt", "other1.txt")) for h in shown)
    r = runner.invoke(app, ["search", "steam engine", "--kb", str(kb)])
    assert "not shown" in r.output and "--all" in r.output
    r = runner.invoke(app, ["search", "steam engine", "--kb", str(kb), "--json", "--all"])
    assert len(r.output.splitlines()) == 3  # everything, for whoever asks


def test_a_query_that_matches_nothing_says_so(kb: Path) -> None:
    r = runner.invoke(app, ["search", "quantum chromodynamics", "--kb", str(kb)])
    assert r.exit_code == 0
    assert "no results" in r.output
    assert "score 0.000" not in r.output
