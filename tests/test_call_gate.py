"""The call gate: whether any registered operation fits a request (cairn.command.call_gate)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cairn.command.call_gate import FEATURES, CallGate, features, packaged_gate
from cairn.command.operations import from_api_tool, from_function_doc
from cairn.command.schema_match import THRESHOLD, OperationIndex
from cairn.models.embed import HashingEmbedder
from cairn.tools.openapi import parse_spec
from cairn.tools.registry import ApiTool
from cairn_eval.call_gate_fit import Row, accuracy, choose_cut, fit_gate

SPEC = Path(__file__).resolve().parents[1] / "examples" / "apis" / "markets.json"


def _markets(gate: CallGate | None = None, encoder: object | None = None) -> OperationIndex:
    spec = parse_spec(json.loads(SPEC.read_text()))
    ops = from_api_tool(ApiTool("markets", spec, ("127.0.0.1",)))
    return OperationIndex(ops, encoder or HashingEmbedder(256), gate)  # type: ignore[arg-type]


def _constant(bias: float) -> CallGate:
    return CallGate(dict.fromkeys(FEATURES, 0.0), bias, 0.5)


def test_the_packaged_gate_loads_with_every_feature_and_a_cut() -> None:
    gate = packaged_gate()
    assert gate is not None
    assert set(gate.weights) == set(FEATURES)
    assert 0.0 < gate.cut < 1.0
    assert "design" in gate.note  # says what it was fitted on


def test_weights_naming_an_unknown_feature_are_refused() -> None:
    text = _constant(0.0).to_json().replace('"score"', '"not_a_feature"')
    with pytest.raises(ValueError, match="not_a_feature"):
        CallGate.from_json(text)


def test_the_gate_decides_whether_any_operation_fits() -> None:
    text = "apple stock price during 2007"
    assert _markets(_constant(-9.0)).match(text).command is None  # p ~ 0: nothing fits
    called = _markets(_constant(9.0)).match(text)
    assert called.command is not None and called.command.intent == "call_api"
    assert called.relevance is not None and called.relevance > 0.99
    assert "p(an operation fits)" in called.reason
    # a threshold asks for the score rule instead (the gate's ablation)
    ruled = _markets(_constant(-9.0)).match(text, threshold=THRESHOLD)
    assert ruled.relevance is None and ruled.command is not None


def test_a_gate_that_lets_a_request_through_still_asks_for_missing_values() -> None:
    match = _markets(_constant(9.0)).match("show me the stock prices for 2007")
    assert match.command is not None and match.command.intent == "clarify"


def test_features_have_no_runner_up_lead_with_one_operation() -> None:
    op = from_function_doc(
        {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "The city."}},
                "required": ["city"],
            },
        }
    )
    index = OperationIndex([op], HashingEmbedder(64))
    got = features(index.candidates("weather in Paris"), "weather in Paris")
    assert set(got) == set(FEATURES)
    assert got["lead"] == 0.0 and got["meaning_lead"] == 0.0 and got["log_operations"] == 0.0
    assert got["required"] == 1.0 and got["missing"] == 0.0
    assert got["alone"] == 1.0 and got["filled"] == 1.0  # one operation, one value (Paris)


def _rows(n: int, seed: int = 0) -> list[Row]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        fits = i % 2 == 0
        f = dict.fromkeys(FEATURES, 0.0)
        f["meaning"] = rng.normal(0.6 if fits else 0.2, 0.1)
        group = "simple" if fits else "irrelevance"
        rows.append(Row(group, str(i), fits, True, fits, f))
    return rows


def test_fitting_learns_the_separating_feature_and_keeps_refusals() -> None:
    rows = _rows(200)
    weights, bias = fit_gate(rows)
    assert weights["meaning"] > 1.0
    gate = CallGate(weights, bias, 0.5)
    probs = np.array(
        [gate.bias + sum(gate.weights[k] * r.features[k] for k in FEATURES) for r in rows]
    )
    probs = 1 / (1 + np.exp(-probs))
    cut, acc = choose_cut(rows, probs)
    assert acc["irrelevance"] >= 0.87 and acc["simple"] > 0.8
    assert 0.05 <= cut <= 0.95


def test_a_question_counts_as_no_call_and_a_wrong_call_as_wrong() -> None:
    f = dict.fromkeys(FEATURES, 0.0)
    rows = [
        Row("simple", "a", True, False, False, f),  # the best one would only ask a question
        Row("simple", "b", True, True, False, f),  # it calls, with the wrong values
        Row("irrelevance", "c", False, False, False, f),  # a question where nothing fits
    ]
    acc = accuracy(rows, np.array([0.9, 0.9, 0.9]), 0.5)
    assert acc == {"simple": 0.0, "irrelevance": 1.0}


def test_the_packaged_gate_tells_api_requests_from_questions_to_the_sources() -> None:
    from cairn.models.embed import packaged_minilm

    index = _markets(encoder=packaged_minilm())
    assert index.gate is not None
    for text in ("chart apple's stock price during 2007", "population of france in 2010"):
        m = index.match(text)
        assert m.command is not None and m.command.intent == "call_api", (text, m.reason)
    for text in ("what do my notes say about coral bleaching", "summarise the papers on ozone"):
        assert index.match(text).command is None, text
