"""synthesize(): evidence per source, labelled supports / contradicts / mentions."""

from __future__ import annotations

from pathlib import Path

import pytest

import cairn
from cairn.answer.synthesize import Label, synthesize
from cairn.answer.types import AnswerError
from cairn.graph.extract import CapitalisedExtractor
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import HashingEmbedder

DOCS = {
    "a.txt": "The bridge over the river was opened in 1901. Trains crossed it daily.",
    "b.txt": "The bridge over the river was not opened in 1901. Work stopped that winter.",
    "c.txt": "The bridge over the river was opened in 1923 after long delays.",
    "d.txt": "Cakes and bread are sold at the market on Saturdays.",
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    root = tmp_path_factory.mktemp("syn")
    files = []
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
        files.append(root / name)
    base = cairn.open(
        root / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    )
    base.ingest(files, collection="town")
    return base


def test_labels_and_citations(kb: KnowledgeBase) -> None:
    s = synthesize(kb, "The bridge over the river was opened in 1901.", checker=None)
    by_source = {Path(g.source).name: g for g in s.groups}
    assert by_source["a.txt"].items[0].label == Label.supports
    assert by_source["b.txt"].items[0].label == Label.contradicts
    assert "negation" in by_source["b.txt"].items[0].reason
    assert by_source["c.txt"].items[0].label == Label.contradicts
    assert "number" in by_source["c.txt"].items[0].reason
    assert "d.txt" not in by_source
    assert by_source["a.txt"].verdict == Label.supports
    assert by_source["b.txt"].verdict == Label.contradicts
    assert by_source["c.txt"].verdict == Label.contradicts
    assert s.checker == "cues"
    assert "Supporting (1):" in s.text and "Contradicting (2):" in s.text
    assert s.verdict == (
        "Disputed: 1 independent source supports it, 2 independent sources contradict it."
    )
    assert s.counts["supports"] >= 1 and s.counts["contradicts"] >= 2
    for g in s.groups:
        for item in g.items:
            c = item.citation
            assert kb.document_text(c.document_id)[c.start : c.end] == c.quote
    sources = s.to_dict()["sources"]
    assert {x["verdict"] for x in sources} == {"supports", "contradicts"}


def test_opposite_direction_contradicts(tmp_path: Path) -> None:
    kb = cairn.open(tmp_path / "kb.sqlite", embedder=HashingEmbedder())
    (tmp_path / "trial.txt").write_text(
        "In the trial, daily aspirin reduced the risk of heart attacks in older adults.",
        encoding="utf-8",
    )
    kb.ingest([tmp_path / "trial.txt"], graph=False)
    s = synthesize(
        kb, "Daily aspirin increases the risk of heart attacks in older adults.", checker=None
    )
    item = s.groups[0].items[0]
    assert item.label == Label.contradicts and "opposite directions" in item.reason
    same = synthesize(
        kb, "Daily aspirin reduces the risk of heart attacks in older adults.", checker=None
    )
    assert same.groups[0].items[0].label == Label.supports
    kb.close()
    assert "Contradicting (1):" in s.text and "Supporting: none" in s.text


def test_bad_input(kb: KnowledgeBase, tmp_path: Path) -> None:
    with pytest.raises(AnswerError):
        synthesize(kb, "")
    with pytest.raises(AnswerError):
        synthesize(kb, "bridges", collections=["nope"])
    empty = cairn.open(tmp_path / "e.sqlite", embedder=HashingEmbedder())
    assert "empty" in synthesize(empty, "The bridge opened.").text


def test_cli_synthesize_empty_kb(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from cairn.cli import answer_commands

    app = typer.Typer()
    answer_commands.register(app)
    app.command("noop")(lambda: None)
    r = CliRunner().invoke(
        app, ["ask", "The bridge opened.", "--synthesize", "--json", "--kb", str(tmp_path / "k")]
    )
    assert r.exit_code == 0, r.output
    assert '"counts"' in r.output and "empty" in r.output
