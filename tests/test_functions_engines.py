"""BFCL through the fast path, the LLM and the hybrid in one run; fitting the cut-offs."""

from __future__ import annotations

import json

import pytest

from cairn.command.tool_hybrid import Cutoffs
from cairn.command.tool_llm import ToolCallEngine
from cairn.models.embed import HashingEmbedder
from cairn.models.llm import FakeLLM, Messages
from cairn_eval.functions_engines import (
    ItemRecord,
    fit_cutoffs,
    hybrid_accuracy,
    rescore,
    run_engines,
    sample,
)


def test_the_sample_is_evenly_spaced() -> None:
    assert sample(list(range(100)), 4) == [0, 25, 50, 75]
    assert sample(list(range(3)), 10) == [0, 1, 2]
    assert sample(list(range(5)), None) == [0, 1, 2, 3, 4]
    assert sample(list(range(5)), 0) == []


def _rec(cat: str, score: float, called: bool, fast_ok: bool, topk_ok: bool) -> ItemRecord:
    return ItemRecord("x", cat, score, called, fast_ok, topk_ok=topk_ok)


def test_the_cutoffs_route_to_the_llm_where_it_is_better() -> None:
    records = [
        # the fast path is right on its high-scoring calls, wrong on the low ones
        _rec("a", 0.9, True, True, False),
        _rec("a", 0.8, True, True, True),
        _rec("a", 0.45, True, False, True),
        _rec("a", 0.4, True, False, True),
        # its confident no-calls are right; the borderline one is not
        _rec("b", 0.1, False, True, False),
        _rec("b", 0.45, False, False, True),
    ]
    cut, acc = fit_cutoffs(records)
    assert acc == 1.0
    assert 0.45 < cut.call <= 0.8 and 0.1 <= cut.none < 0.45
    assert hybrid_accuracy(records, Cutoffs(call=0.0, none=1.0)) == pytest.approx((0.5 + 0.5) / 2)
    with pytest.raises(ValueError):
        fit_cutoffs([ItemRecord("x", "a", 0.5, True, True)])  # no LLM outcome to fit on
    # without the LLM's answers, its measured accuracy stands in: routing the fast path's
    # wrong low-scoring calls to an LLM right 80% of the time beats keeping them
    fast_only = [ItemRecord("x", "a", r.fast_score, r.fast_called, r.fast_ok) for r in records]
    cut, acc = fit_cutoffs(fast_only, llm_rate=0.8)
    assert 0.45 < cut.call <= 0.8 and acc > hybrid_accuracy(fast_only, Cutoffs(0.0, 1.0), 0.8)


def test_rescoring_records_gives_each_engine_per_category() -> None:
    records = [
        ItemRecord("1", "a", 0.9, True, True, llm_ok=False, topk_ok=False, fast_ms=10, topk_ms=900),
        ItemRecord("2", "a", 0.4, True, False, llm_ok=True, topk_ok=True, fast_ms=20, topk_ms=800),
        ItemRecord("3", "b", 0.1, False, True, llm_ok=False, topk_ok=False, fast_ms=5),
    ]
    rows = {(r["engine"], r["category"]): r for r in rescore(records, Cutoffs(0.5, 0.2))}
    assert rows["fast", "a"]["correct"] == 1 and rows["llm", "a"]["correct"] == 1
    # item 2 goes to the LLM (0.4 < 0.5), which is right; item 1 stays with the fast path
    assert rows["hybrid", "a"]["correct"] == 2 and rows["hybrid", "a"]["to_llm"] == 1
    assert rows["hybrid", "a"]["p50_ms"] == pytest.approx((10 + 820) / 2)
    assert rows["hybrid", "b"]["to_llm"] == 0 and rows["hybrid", "b"]["correct"] == 1


def test_every_engine_is_scored_by_bfcls_checker_in_one_run() -> None:
    pytest.importorskip("bfcl_eval", reason="pip install --no-deps bfcl-eval==2026.3.23")

    def answer(messages: Messages) -> str:  # the first offered function, with no arguments
        name = json.loads(messages[0]["content"].split("<tools>\n")[1].split("\n")[0])
        return json.dumps({"name": name["function"]["name"], "arguments": {}})

    llm = FakeLLM([answer])
    scores, records = run_engines(
        "irrelevance", "dev", HashingEmbedder(256), ToolCallEngine(llm), limit=3
    )
    by = {s.engine: s for s in scores}
    assert set(by) == {"fast", "llm", "hybrid"} and all(s.n == 3 for s in scores)
    # a call without the required arguments is refused by validation: no call, which is
    # right on irrelevance items
    assert len(records) == 3 and all("needs" in r.llm_problem for r in records)
    assert by["llm"].correct == 3
    # one prompt per item: the front runners of a one-function item are that function
    assert len(llm.calls) == 3
    for r in records:
        assert r.hybrid_ok == (r.topk_ok if r.routed else r.fast_ok)
    with pytest.raises(ValueError, match="need a language model"):
        run_engines("irrelevance", "dev", None, None, engines=("hybrid",), limit=1)


def test_records_with_the_gates_probability_route_on_it() -> None:
    from cairn_eval.functions_engines import routed_at

    # a question (answered, not called) with p 0.9: it stands at a call cut-off of 0.8, as
    # fast_is_sure reads a match; its score (0.3) is not what the cut-offs apply to
    asked = ItemRecord("q", "a", 0.3, False, False, fast_p=0.9, fast_answered=True)
    assert not routed_at(asked, Cutoffs(call=0.8, none=0.5))
    assert routed_at(asked, Cutoffs(call=0.95, none=0.5))
    refused = ItemRecord("r", "b", 0.9, False, True, fast_p=0.6, fast_answered=False)
    assert routed_at(refused, Cutoffs(call=0.95, none=0.5))
    assert not routed_at(refused, Cutoffs(call=0.95, none=0.6))
    # records made before the gate keep routing on the score, a question read as a no-call
    old = ItemRecord("o", "a", 0.3, False, False)
    assert routed_at(old, Cutoffs(call=0.8, none=0.2)) and not routed_at(old, Cutoffs(0.8, 0.3))


def test_an_irrelevance_floor_keeps_refusals_from_the_llm() -> None:
    records = [
        # calls: the LLM fills them better than the fast path
        _rec("simple", 0.9, True, False, True),
        _rec("simple", 0.9, True, False, True),
        # borderline refusals: routing them wins one call and loses one refusal
        _rec("simple", 0.6, False, False, True),
        _rec("irrelevance", 0.6, False, True, False),
        _rec("irrelevance", 0.1, False, True, False),
        _rec("irrelevance", 0.1, False, True, False),
        _rec("irrelevance", 0.1, False, True, False),
    ]
    free, free_acc = fit_cutoffs(records)
    assert free.none < 0.6  # the borderline refusals go to the LLM
    held, held_acc = fit_cutoffs(records, min_irrelevance=0.9)
    assert held.none >= 0.6 and held.call > 0.9 and held_acc < free_acc
    assert hybrid_accuracy([r for r in records if r.category == "irrelevance"], held) == 1.0
