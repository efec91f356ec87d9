"""cairn_eval.qa on a tiny SQuAD-format file, with fake models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cairn
from cairn.answer.span import RuleSpans
from cairn.answer.verify import SupportModel
from cairn.graph.extract import CapitalisedExtractor
from cairn.models.embed import HashingEmbedder
from cairn_eval import qa

CONTEXT_A = "The Old Harbour Lighthouse stands on the pier. It was built in 1874 by Margaret Hale."
CONTEXT_B = "Rosa's Bakery opened on Mill Street in 1992. It sells sourdough bread."


def _squad(path: Path) -> Path:
    def para(ctx: str, qas: list[tuple[str, str | None]]) -> dict[str, object]:
        return {
            "context": ctx,
            "qas": [
                {
                    "id": f"q{abs(hash(q)) % 10**8}",
                    "question": q,
                    "is_impossible": a is None,
                    "answers": [] if a is None else [{"text": a, "answer_start": ctx.index(a)}],
                }
                for q, a in qas
            ],
        }

    data = {
        "version": "v2.0",
        "data": [
            {
                "title": "Lighthouse",
                "paragraphs": [
                    para(
                        CONTEXT_A,
                        [
                            ("When was the Old Harbour Lighthouse built?", "1874"),
                            ("What is the boiling point of mercury?", None),
                        ],
                    )
                ],
            },
            {
                "title": "Bakery",
                "paragraphs": [
                    para(
                        CONTEXT_B,
                        [
                            ("When did Rosa's Bakery open on Mill Street?", "1992"),
                            ("Who painted the Mona Lisa?", None),
                        ],
                    )
                ],
            },
        ],
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_squad_normalisation() -> None:
    assert qa.normalize_answer("The  Normans!") == "normans"
    assert qa.exact_match("the France", ["France"]) == 1.0
    assert qa.f1_score("10th century", ["10th and 11th centuries"]) == pytest.approx(1 / 3)
    assert qa.f1_score("x", ["y"]) == 0.0


def test_load_and_write_corpus(tmp_path: Path) -> None:
    squad = qa.load_squad(_squad(tmp_path / "dev.json"))
    assert squad.articles == ["Lighthouse", "Bakery"]
    assert [i.answerable for i in squad.items] == [True, False, True, False]
    corpus = qa.write_corpus(squad, tmp_path / "c" / "squad.jsonl")
    rows = [json.loads(line) for line in corpus.read_text().splitlines()]
    assert rows[0] == {"_id": "Lighthouse#0", "title": "Lighthouse", "text": CONTEXT_A}
    mtime = corpus.stat().st_mtime_ns
    qa.write_corpus(squad, corpus)
    assert corpus.stat().st_mtime_ns == mtime  # unchanged: not rewritten


def test_run_qa_eval_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _squad(tmp_path / "dev.json")
    model = SupportModel(
        {"overlap": 4.0, "context_overlap": 2.0, "type_fit": 4.0, "cosine": 1.0}, -5.5, 0.5
    )
    monkeypatch.setattr(qa, "default_model", lambda: model)
    real_ask = qa.ask
    monkeypatch.setattr(
        qa, "ask", lambda kb, q, **kw: real_ask(kb, q, spans=RuleSpans(), model=model, **kw)
    )
    with cairn.open(
        tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    ) as kb:
        report = qa.run_qa_eval(
            kb, data=data, corpus=tmp_path / "c" / "squad.jsonl", fit_articles=1, fit=True
        )
    assert report["fit_articles"] == ["Lighthouse"]
    assert report["report_articles"] == ["Bakery"]
    rep = report["report"]
    assert rep["questions"] == 2 and rep["answerable"] == 1
    assert rep["always_abstain_accuracy"] == 0.5
    assert 0.0 <= rep["overall_accuracy"] <= 1.0
    assert len(report["risk_coverage_report"]) == 41
    assert report["latency_ms_report"]["n"] == 2
    assert set(report["model"]["weights"]) == set(qa.FEATURES)


def test_cli_save_weights_needs_fit(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cairn.answer.verify import WEIGHTS_PATH
    from cairn.cli import app

    before = WEIGHTS_PATH.read_bytes()
    r = CliRunner().invoke(
        app, ["eval", "qa", "--save-weights", "--kb", str(tmp_path / "kb.sqlite")]
    )
    assert r.exit_code == 2, r.output
    assert "pass --fit" in r.output
    assert WEIGHTS_PATH.read_bytes() == before
    assert not (tmp_path / "kb.sqlite").exists()
