"""Synthetic tables as sources: consent, licence and provenance, search and ask, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers import FIXED_SUPPORT
from tests.test_synth import patients, write_rows
from typer.testing import CliRunner

import cairn
from cairn.answer.ask import ask
from cairn.cli import app
from cairn.graph.extract import CapitalisedExtractor
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import HashingEmbedder
from cairn.synth.service import synthesize
from cairn.synth.table import SynthError

runner = CliRunner()


def open_kb(root: Path) -> KnowledgeBase:
    return cairn.open(
        root / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    )


def wards(path: Path) -> Path:
    """A small table with words search can find."""
    rows = [
        [f"Ward {w}", ["Lisbon", "Porto", "Braga"][i % 3], 20 + i, "2021-03-0" + str(1 + i % 9)]
        for i, w in enumerate("ABCDEFGHIJ" * 4)
    ]
    return write_rows(path, ["ward", "city", "beds", "opened"], rows)


def test_synthetic_source_keeps_provenance_and_says_synthetic_in_citations(tmp_path: Path) -> None:
    table = wards(tmp_path / "wards.csv")
    with open_kb(tmp_path) as kb:
        kb.ingest(
            [table], collection="health", license="CC-BY-NC-4.0", owner="Clinic", consent="granted"
        )
        real_id = kb.sources()[0].id
        result = synthesize(str(real_id), kb=kb, generator="mst", epsilon=1.0, rows=30)
        assert "synthetic" in Path(result.path).name
        assert result.derived_from == str(table.resolve()) and result.derived_from_id == real_id
        assert (result.generator, result.epsilon, result.rows) == ("mst", 1.0, 30)
        assert result.license == "CC-BY-NC-4.0" and result.consent == "granted"
        saved = json.loads(Path(result.provenance_path).read_text())
        assert saved["derived_from_sha256"] and saved["created"] and saved["delta"] > 0
        made = kb.store.get_source(result.path)
        assert made is not None and made.id == result.source_id
        assert made.provenance.license == "CC-BY-NC-4.0"  # no more permissive than the source
        assert made.provenance.collection == "health" and made.provenance.owner == "Clinic"
        assert made.provenance.source_url == table.resolve().as_uri()  # derived from

        hits = kb.search("beds in Lisbon", k=10)
        synthetic_hits = [h for h in hits if h.chunk.source_id == made.id]
        assert synthetic_hits
        for h in synthetic_hits:
            assert "synthetic" in (h.chunk.title or "") and "synthetic" in h.chunk.source_uri
        answer = ask(kb, "How many beds does Ward C in Porto have?", model=FIXED_SUPPORT)
        for c in answer.citations:
            if c.source == made.uri:
                assert "synthetic" in (c.title or "") and "synthetic" in c.source


def test_refused_consent_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    table = wards(tmp_path / "wards.csv")
    with open_kb(tmp_path) as kb:
        kb.ingest([table], consent="refused")
        with pytest.raises(SynthError, match="consent is 'refused'"):
            synthesize(str(table), kb=kb, generator="copula", epsilon=None)
        assert len(kb.sources()) == 1
    assert not list(tmp_path.glob("*synthetic*"))


def test_cli_writes_a_table_and_a_report(tmp_path: Path) -> None:
    source = patients(tmp_path / "p.csv", n=300)
    kb = str(tmp_path / "kb.sqlite")
    out = tmp_path / "p_syn.csv"
    r = runner.invoke(
        app,
        [
            "synth",
            str(source),
            "--generator",
            "copula",
            "-o",
            str(out),
            "--no-ingest",
            "--kb",
            kb,
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    made = json.loads(r.stdout)
    assert made["path"].endswith("p_syn.synthetic.csv") and made["epsilon"] is None
    r = runner.invoke(
        app, ["synth", "report", str(source), made["path"], "--json", "--target", "sick"]
    )
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert Path(report["figure"]).read_bytes()[:4] == b"\x89PNG"
    assert json.loads(Path(report["report"]).read_text())["fidelity"]["mean_column_tvd"] < 0.2
    r = runner.invoke(
        app,
        ["synth", str(source), "--report", "--no-ingest", "--kb", kb, "--json", "--rows", "200"],
    )
    assert r.exit_code == 0, r.output
    made = json.loads(r.stdout)
    assert made["holdout_rows"] == 60 and made["rows"] == 200
    assert "membership_auc" in json.loads(Path(made["report_path"]).read_text())["privacy"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["synth", "missing.csv"], "missing.csv: no such source"),
        (["synth", "report", "a.csv"], "report needs SOURCE and SYNTHETIC"),
        (["synth", "P", "--epsilon", "-1"], "--epsilon -1.0: use a number in (0, 100]"),
        (["synth", "P", "--generator", "gan"], "--generator 'gan'"),
        (["synth", "P", "--generator", "copula", "--epsilon", "1"], "not differentially private"),
        (["synth", "P", "--rows", "0"], "--rows 0"),
    ],
)
def test_cli_bad_input_is_one_clear_line(tmp_path: Path, args: list[str], message: str) -> None:
    source = str(patients(tmp_path / "p.csv", n=40))
    args = [source if a == "P" else a for a in args]
    r = runner.invoke(app, [*args, "--kb", str(tmp_path / "kb.sqlite"), "--no-ingest"])
    assert r.exit_code == 2
    assert message in " ".join(r.output.split())
    assert "Traceback" not in r.output
