"""cairn_eval.claims: SciFact-style claim labelling on gold documents and evidence recall,
on a tiny SciFact folder with a real SQLite KB (deterministic hashing embedder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import cairn
from cairn.answer.synthesize import (
    WEIGHTS_PATH,
    ContradictionModel,
    Label,
    contradiction_features,
    default_contradiction_model,
    direction,
    label_sentence,
    negated,
    verdict,
)
from cairn.answer.types import Evidence
from cairn.cli import eval_commands
from cairn.errors import ConfigError
from cairn.graph.extract import CapitalisedExtractor
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import HashingEmbedder
from cairn_eval import claims
from cairn_eval.claims import (
    fit_contradiction,
    label_report,
    load_scifact,
    run_claims_eval,
    score_pairs,
    sentence_offsets,
)

CORPUS = {
    11: (
        "Aspirin and bleeding",
        [
            "We followed 4000 adults for ten years.",
            "Daily aspirin increased the risk of major bleeding in older adults.",
            "The effect was larger in men.",
        ],
    ),
    12: (
        "Statins and memory",
        [
            "Statins are widely prescribed.",
            "Statin use did not reduce the risk of dementia in this cohort.",
            "Memory scores were similar between groups.",
        ],
    ),
    13: (
        "Exercise and blood pressure",
        [
            "Regular exercise lowered blood pressure in adults with hypertension.",
            "Participants walked daily.",
        ],
    ),
    14: (
        "Coffee and sleep",
        [
            "Evening coffee reduced sleep duration.",
            "Participants slept less after coffee.",
        ],
    ),
}


def _claim(i: int, text: str, doc: int, label: str, sents: list[int]) -> dict[str, Any]:
    return {
        "id": i,
        "claim": text,
        "evidence": {str(doc): [{"sentences": sents, "label": label}]},
        "cited_doc_ids": [doc],
    }


TRAIN = [
    _claim(1, "Daily aspirin increases the risk of major bleeding.", 11, "SUPPORT", [1]),
    _claim(2, "Daily aspirin decreases the risk of major bleeding.", 11, "CONTRADICT", [1]),
    _claim(3, "Statin use reduces the risk of dementia.", 12, "CONTRADICT", [1]),
    _claim(4, "Statin use does not reduce the risk of dementia.", 12, "SUPPORT", [1]),
    _claim(5, "Evening coffee reduces sleep duration.", 14, "SUPPORT", [0]),
]
DEV = [
    _claim(10, "Regular exercise lowers blood pressure in hypertension.", 13, "SUPPORT", [0]),
    _claim(11, "Regular exercise raises blood pressure in hypertension.", 13, "CONTRADICT", [0]),
    _claim(12, "Statins reduce the risk of dementia.", 12, "CONTRADICT", [1]),
    {"id": 13, "claim": "Nothing is known.", "evidence": {}, "cited_doc_ids": [11]},
]


def _write_scifact(root: Path) -> Path:
    folder = root / "original_format"
    folder.mkdir()
    lines = [
        json.dumps({"doc_id": d, "title": t, "abstract": s, "structured": False})
        for d, (t, s) in CORPUS.items()
    ]
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, rows in (("train", TRAIN), ("dev", DEV)):
        body = "".join(json.dumps(r) + "\n" for r in rows)
        (folder / f"claims_{name}.jsonl").write_text(body, encoding="utf-8")
    beir = [
        json.dumps({"_id": str(d), "title": t, "text": " ".join(s)}) for d, (t, s) in CORPUS.items()
    ]
    (root / "corpus.jsonl").write_text("\n".join(beir) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def scifact(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, KnowledgeBase]:
    root = tmp_path_factory.mktemp("scifact")
    folder = _write_scifact(root)
    kb = cairn.open(
        root / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    )
    kb.ingest([root / "corpus.jsonl"], collection="beir-scifact", graph=False)
    return folder, kb


def _ev(text: str, cosine: float = 0.8, overlap: float = 0.8) -> Evidence:
    return Evidence(1, "d", None, "s", None, 0, len(text), text, 1, 0.0, cosine, overlap, 0.5, 0.5)


def test_cues() -> None:
    assert direction("Aspirin increases bleeding.") == 1
    assert direction("Aspirin reduced bleeding and lowered risk.") == -1
    assert direction("Aspirin was given.") == 0
    assert negated("There was no significant effect on mortality.")
    assert negated("Mortality was unchanged.")
    assert not negated("Mortality fell sharply.")
    f = contradiction_features("A increases B.", "A reduced B.", 0.7, 1.0)
    assert f["dir_conflict"] == 1.0 and f["dir_agree"] == 0.0 and f["neg_xor"] == 0.0
    g = contradiction_features("A does not increase B.", "A increased B.", 0.7, 1.0)
    assert g["claim_neg_only"] == 1.0 and g["effect_conflict"] == 1.0


def test_shipped_model_is_fitted_on_train_and_labels() -> None:
    model = default_contradiction_model()
    assert WEIGHTS_PATH.is_file() and "claims_train" in model.note
    assert 0.0 < model.threshold < 1.0 and 0.0 < model.doc_threshold < 1.0
    claim = "Daily aspirin increases the risk of major bleeding."
    up = _ev("Daily aspirin increased the risk of major bleeding.")
    down = _ev("Daily aspirin reduced the risk of major bleeding.")
    assert label_sentence(claim, up)[0] is Label.supports
    lab, why = label_sentence(claim, down)
    assert lab is Label.contradicts and "opposite directions" in why
    assert label_sentence(claim, _ev("Aspirin is old.", 0.2, 0.1))[0] is Label.mentions
    # A near-restatement with one flipped word contradicts whatever the model says.
    never = ContradictionModel({}, -50.0, 0.99, 0.99)
    flipped = _ev("Daily aspirin did not increase the risk of major bleeding.", 0.9, 1.0)
    assert label_sentence(claim, flipped, never)[0] is Label.contradicts
    assert verdict(claim, [flipped, up], never)[0] is Label.contradicts
    assert verdict(claim, [up], never)[0] is Label.supports
    assert verdict(claim, []) == (Label.mentions, 0.0)


def test_load_and_offsets(scifact: tuple[Path, KnowledgeBase]) -> None:
    folder, _ = scifact
    data = load_scifact(folder, "dev")
    assert len(data.pairs) == 3  # the claim without evidence is skipped
    assert data.pairs[0].doc_id == "13" and data.pairs[0].rationale == (0,)
    sents = ["Ab.", "Cd e."]
    text = " ".join(sents)
    assert [text[s:e] for s, e in sentence_offsets(sents)] == sents


def test_bad_data(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no corpus\.jsonl"):
        load_scifact(tmp_path, "dev")
    (tmp_path / "corpus.jsonl").write_text('{"doc_id": 1, "title": "t", "abstract": ["a"]}\n')
    (tmp_path / "claims_dev.jsonl").write_text('{"id": 1, "claim": "x", "evidence": 5}\n')
    with pytest.raises(ConfigError, match=r"claims_dev\.jsonl:1"):
        load_scifact(tmp_path, "dev")
    (tmp_path / "claims_dev.jsonl").write_text(json.dumps(_claim(1, "x", 99, "SUPPORT", [0])))
    with pytest.raises(ConfigError, match="not in the corpus"):
        load_scifact(tmp_path, "dev")
    with pytest.raises(ConfigError, match="report on dev"):
        run_claims_eval(None, data=tmp_path, split="train", embedder=HashingEmbedder())


def test_fit_and_label_report(scifact: tuple[Path, KnowledgeBase]) -> None:
    folder, _ = scifact
    emb = HashingEmbedder()
    train = score_pairs(load_scifact(folder, "train"), emb, progress=False)
    model = fit_contradiction(train)
    assert model.weights["dir_conflict"] > 0 and "5 claim-document pairs" in model.note
    rep = label_report(train, model, "SUPPORT")
    assert rep["pairs"] == 5 and rep["labels"] == {"SUPPORT": 3, "CONTRADICT": 2}
    assert rep["majority_baseline"] == 0.6
    assert rep["accuracy"] == 1.0  # five cue-driven pairs are separable
    assert sum(rep["confusion"].values()) == 5
    assert sum(rep["rationale_sentence_labels"].values()) == 5
    one_label = [(p, evs) for p, evs in train if p.label == "SUPPORT"]
    with pytest.raises(ConfigError, match="both labels"):
        fit_contradiction(one_label)


def test_run_claims_eval_with_retrieval(scifact: tuple[Path, KnowledgeBase]) -> None:
    folder, kb = scifact
    report = run_claims_eval(kb, data=folder, fit=True, k=3)
    lab = report["labels_given_gold_documents"]
    assert lab["pairs"] == 3 and lab["majority_label"] == "SUPPORT"
    assert lab["majority_baseline"] == round(1 / 3, 4)
    ret = report["evidence_retrieval"]
    assert ret["claims"] == 3 and ret["gold_rationale_sentences"] == 3
    assert ret["gold_document_recall_at_k"] == 1.0
    # Every claim's rationale sentence restates it: synthesize cites it.
    assert ret["sentence_recall"] == 1.0
    assert 0.0 <= ret["lead_baseline_recall"] <= 1.0
    assert ret["latency_ms"]["n"] == 3
    assert report["model"]["note"].startswith("fitted by cairn_eval.claims")


def test_check_kb_refuses_a_kb_without_scifact(scifact: tuple[Path, KnowledgeBase]) -> None:
    folder, _ = scifact
    other = cairn.open(folder.parent / "other.sqlite", embedder=HashingEmbedder())
    with pytest.raises(ConfigError, match="no collection 'beir-scifact'"):
        run_claims_eval(other, data=folder)
    other.close()


def test_cli_eval_claims(
    scifact: tuple[Path, KnowledgeBase], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = scifact
    monkeypatch.setattr(claims, "_default_embedder", HashingEmbedder)
    app = typer.Typer()
    eval_commands.register(app)
    app.command("noop")(lambda: None)
    out = folder.parent / "r.json"
    r = CliRunner().invoke(app, ["eval", "claims", "--data", str(folder), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "label accuracy" in r.output and "majority label SUPPORT" in r.output
    assert json.loads(out.read_text())["labels_given_gold_documents"]["pairs"] == 3
    r = CliRunner().invoke(app, ["eval", "claims", "--data", str(folder / "nope")])
    assert r.exit_code != 0 and "no corpus.jsonl" in r.output
    r = CliRunner().invoke(
        app, ["eval", "claims", "--data", str(folder), "--kb", str(folder / "none.sqlite")]
    )
    assert r.exit_code != 0 and "no knowledge base" in r.output


class _LazyChecker:
    """Loads its metadata on first use, as an ONNX checker (answer.nli.NliModel) does."""

    def __init__(self) -> None:
        self.path = Path("/models/nli.onnx")
        self.meta: dict[str, Any] = {}

    def warm_up(self) -> None:
        self.meta = {"name": "cairn-nli-minilm-3way", "date": "2026-12-03"}


def test_checker_meta_is_read_after_the_model_loads() -> None:
    meta = claims._checker_meta(_LazyChecker())  # type: ignore[arg-type]
    assert meta == {
        "path": "/models/nli.onnx",
        "name": "cairn-nli-minilm-3way",
        "date": "2026-12-03",
    }
    assert claims._checker_meta(None) is None
