"""`cairn chart`: stored records and chunks per source drawn as PNG + SVG, with fake models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import cairn
from cairn.charts.render import ChartError
from cairn.cli import chart_commands
from cairn.cli.chart_commands import pick_fields
from cairn.graph.extract import CapitalisedExtractor
from cairn.kb.types import Provenance
from cairn.models.embed import HashingEmbedder

pytest.importorskip("matplotlib")

runner = CliRunner()


def _app() -> typer.Typer:
    """The real app when it has the command, else one holding just `chart`."""
    from cairn.cli import app as main_app

    if any(c.name == "chart" for c in main_app.registered_commands):
        return main_app
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """test app"""

    chart_commands.register(app)
    return app


@pytest.fixture(autouse=True)
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    import cairn.knowledge as knowledge

    real = knowledge.open_kb

    def open_with_fakes(path: object = None, **kw: object) -> knowledge.KnowledgeBase:
        return real(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor())  # type: ignore[arg-type]

    monkeypatch.setattr(knowledge, "open_kb", open_with_fakes)
    monkeypatch.setattr("cairn.cli.chart_commands.open_kb", open_with_fakes)
    monkeypatch.setattr("cairn.cli.kb_commands.open_kb", open_with_fakes)


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    path = tmp_path / "kb.sqlite"
    with cairn.open(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor()) as base:
        base.store.add_records(
            "https://api.example.org/population?year=2020",
            Provenance(collection="api"),
            "census.population",
            {"url": "https://api.example.org/population?year=2020"},
            [
                {"city": "Lyon", "year": 2020, "population": 522_000, "note": "est."},
                {"city": "Nice", "year": 2020, "population": 342_000, "note": "est."},
            ],
            requested_at="2024-05-01T10:00:00+00:00",
        )
        base.store.add_records(
            "https://api.example.org/population?year=2021",
            Provenance(collection="api"),
            "census.population",
            {"url": "https://api.example.org/population?year=2021"},
            [{"city": "Lille", "year": 2021, "population": 236_000, "note": "census"}],
            requested_at="2024-05-02T10:00:00+00:00",
        )
        base.store.add_records(
            "https://api.example.org/weather",
            Provenance(collection="api"),
            "weather.today",
            {"url": "https://api.example.org/weather"},
            [{"place": "Lyon", "summary": "sunny"}],
            requested_at="2024-05-03T10:00:00+00:00",
        )
    return path


def invoke(*args: str) -> Any:
    return runner.invoke(_app(), ["chart", *args])


def test_chart_records_with_suggested_fields(kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "charts" / "pop.png"
    r = invoke("census.population", "-o", str(out), "--kb", str(kb), "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.output)
    assert result["x"] == "city" and result["y"] == "year"  # first text field, first number
    assert result["rows"] == 3
    assert sorted(Path(p).name for p in result["files"]) == ["pop.png", "pop.svg"]
    assert out.read_bytes().startswith(b"\x89PNG")
    svg = out.with_suffix(".svg").read_text()
    assert "census.population" in svg
    assert "https://api.example.org/population?year=2020" in svg
    assert "2024-05-02T10:00:00+00:00" in svg
    for city in ("Lyon", "Nice", "Lille"):
        assert city in svg


def test_chart_records_with_fields_kind_and_title(kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "pop.png"
    r = invoke(
        "census.population",
        "--x",
        "city",
        "--y",
        "population",
        "--kind",
        "pie",
        "--title",
        "Who lives where",
        "-o",
        str(out),
        "--kb",
        str(kb),
    )
    assert r.exit_code == 0, r.output
    assert "population by city" in r.output
    assert out.is_file() and out.with_suffix(".svg").is_file()
    assert "Who lives where" in out.with_suffix(".svg").read_text()


def test_non_numeric_field_is_a_clear_error(kb: Path, tmp_path: Path) -> None:
    r = invoke("census.population", "--y", "note", "-o", str(tmp_path / "x.png"), "--kb", str(kb))
    assert r.exit_code == 2
    assert "'note' is not numeric" in r.output
    assert not (tmp_path / "x.png").exists()


def test_unknown_field_lists_the_fields(kb: Path, tmp_path: Path) -> None:
    r = invoke("census.population", "--x", "town", "-o", str(tmp_path / "x.png"), "--kb", str(kb))
    assert r.exit_code == 2
    assert "No field 'town'" in r.output and "city, year, population, note" in r.output


def test_no_records_is_a_clear_error(kb: Path, tmp_path: Path) -> None:
    r = invoke("nothing.here", "-o", str(tmp_path / "x.png"), "--kb", str(kb))
    assert r.exit_code == 2
    assert "No records for 'nothing.here'" in r.output


def test_records_of_several_operations_need_one_named(kb: Path, tmp_path: Path) -> None:
    r = invoke("-o", str(tmp_path / "x.png"), "--kb", str(kb))
    assert r.exit_code == 2
    assert "census.population, weather.today" in r.output


def test_no_numeric_field(kb: Path, tmp_path: Path) -> None:
    r = invoke("weather.today", "-o", str(tmp_path / "x.png"), "--kb", str(kb))
    assert r.exit_code == 2
    assert "No numeric field" in r.output


def test_output_is_required_and_kind_checked(kb: Path, tmp_path: Path) -> None:
    r = invoke("census.population", "--kb", str(kb))
    assert r.exit_code == 2 and "-o" in r.output
    r = invoke("census.population", "--kind", "donut", "-o", str(tmp_path / "x.png"))
    assert r.exit_code == 2 and "bar, line, pie, scatter" in r.output


def test_chart_sources(kb: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "long.txt").write_text("Ada wrote programs. " * 300)
    (docs / "short.txt").write_text("Babbage built engines.")
    with cairn.open(kb, embedder=HashingEmbedder(), extractor=CapitalisedExtractor()) as base:
        assert not base.ingest([docs]).failed
    out = tmp_path / "sources.png"
    r = invoke("--sources", "-o", str(out), "--kb", str(kb), "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.output)
    assert result["kind"] == "bar" and result["x"] == "source" and result["y"] == "chunks"
    assert result["rows"] == 5  # three record sources and two files
    svg = out.with_suffix(".svg").read_text()
    assert "long.txt" in svg and "short.txt" in svg and "Chunks per source" in svg
    assert "5 sources" in svg


def test_sources_on_an_empty_kb(tmp_path: Path) -> None:
    r = invoke("--sources", "-o", str(tmp_path / "x.png"), "--kb", str(tmp_path / "new.sqlite"))
    assert r.exit_code == 2 and "No sources to chart" in r.output


def test_sources_with_fields_is_refused(kb: Path, tmp_path: Path) -> None:
    r = invoke("--sources", "--x", "a", "-o", str(tmp_path / "x.png"), "--kb", str(kb))
    assert r.exit_code == 2 and "--sources" in r.output


def test_pick_fields() -> None:
    rows = [{"year": 2020, "count": 3, "share": 0.5}]
    assert pick_fields(rows, ["year", "count", "share"], None, None) == ("year", "count")
    assert pick_fields(rows, ["year", "count", "share"], None, "year") == ("count", "year")
    one = [{"n": 1}]
    with pytest.raises(ChartError) as info:
        pick_fields(one, ["n"], None, None)
    assert info.value.code == "non-numeric"
    with pytest.raises(ChartError):
        pick_fields(one, ["n"], "n", "n")
