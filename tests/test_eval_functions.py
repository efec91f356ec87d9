"""`cairn eval functions`: BFCL items through the understanding, scored by BFCL's checker."""

from __future__ import annotations

import pytest

from cairn.models.embed import HashingEmbedder
from cairn_eval.functions import FunctionEvalError, load_items, predict, score_category

pytest.importorskip("bfcl_eval", reason="pip install --no-deps bfcl-eval==2026.3.23")


def test_halves_split_ids_by_parity() -> None:
    dev = [item["id"] for item, _ in load_items("simple", "dev")]
    report = [item["id"] for item, _ in load_items("simple", "report")]
    assert dev and report and not set(dev) & set(report)
    assert all(int(i.rsplit("_", 1)[1]) % 2 == 0 for i in dev)


def test_a_clear_call_passes_the_bfcl_checker() -> None:
    item = next(i for i, _ in load_items("simple", "dev") if i["id"] == "simple_python_0")
    got = predict(item, HashingEmbedder(256), threshold=0.0)
    # "units" is the value the description names for the optional unit, and the request says it
    assert got == [{"calculate_triangle_area": {"base": 10, "height": 5, "unit": "units"}}]
    score = score_category("simple", "dev", HashingEmbedder(256), threshold=0.0, limit=3)
    assert score.n == 3 and score.correct >= 1  # simple_python_0 at least
    assert len(score.errors) == score.n - score.correct


def test_unknown_category_or_half_is_a_clear_error() -> None:
    with pytest.raises(FunctionEvalError, match="unknown category"):
        next(load_items("parallel"))
    with pytest.raises(FunctionEvalError, match="unknown half"):
        next(load_items("simple", "test"))
