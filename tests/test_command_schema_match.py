"""Schema-grounded understanding: requests -> registered operations with typed parameters."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cairn.command import understand
from cairn.command.operations import from_api_tool, from_function_doc, read_aliases
from cairn.command.schema_match import OperationIndex
from cairn.models.embed import HashingEmbedder
from cairn.tools.errors import ToolError
from cairn.tools.openapi import bind, parse_spec
from cairn.tools.registry import ApiTool

SPEC = Path(__file__).resolve().parents[1] / "examples" / "apis" / "markets.json"
TODAY = date(2026, 12, 3)


def _index(doc: dict[str, Any] | None = None) -> OperationIndex:
    spec = parse_spec(doc or json.loads(SPEC.read_text()))
    return OperationIndex(
        from_api_tool(ApiTool("markets", spec, ("127.0.0.1",))), HashingEmbedder(256)
    )


@pytest.fixture(scope="module")
def index() -> OperationIndex:
    return _index()


def test_aliases_are_read_from_the_parameter_description() -> None:
    got = dict(read_aliases("Ticker symbol. Apple=AAPL, Microsoft=MSFT", ["AAPL", "MSFT"]))
    assert got["apple"] == "AAPL" and got["microsoft"] == "MSFT"
    assert (
        dict(read_aliases("IBM (International Business Machines)", ["IBM"]))[
            "international business machines"
        ]
        == "IBM"
    )


def test_aliases_skip_lead_words_shared_last_words_and_single_letters() -> None:
    """ "Example: 1 for Bangkok" names no value "example"; "cleaning service" and "ironing
    service" share "service", so it names neither; "Group A" is not named by the article "a"."""
    provinces = dict(read_aliases("Example: 1 for Bangkok, 2 for Chiang Mai.", [1, 2, 3]))
    assert "example" not in provinces and provinces["bangkok"] == 1
    services = dict(read_aliases("E.g. 1 for cleaning service, 2 for ironing service.", [1, 2]))
    assert services["ironing service"] == 2 and "service" not in services
    groups = dict(read_aliases("For example, 1 for Group A, 2 for Group B.", [1, 2, 3]))
    assert groups == {"group a": 1, "group b": 2}


@pytest.mark.parametrize(
    "text",
    [
        "Chart Apple's stock price during 2007.",
        "chart apples stock price during two thousand seven",
    ],
)
def test_typed_and_spoken_requests_map_to_the_operation(index: OperationIndex, text: str) -> None:
    command = understand(text, tools=index, today=TODAY)
    assert command.intent == "call_api"
    assert command.api_operation == "markets.getStockPrices"
    assert command.api_params == {"symbol": "AAPL", "start": "2007-01-01", "end": "2007-12-31"}
    assert command.chart_kind == "line"


def test_ranges_become_the_schema_format(index: OperationIndex) -> None:
    c = understand("ibm stock prices in the first half of twenty oh nine", tools=index, today=TODAY)
    assert c.api_params == {"symbol": "IBM", "start": "2009-01-01", "end": "2009-06-30"}
    c = understand("daily weather in seattle last march", tools=index, today=TODAY)
    assert c.api_operation == "markets.getDailyWeather"
    assert c.api_params == {"city": "Seattle", "from": "2026-03-01", "to": "2026-03-31"}
    c = understand("population of france in twenty ten", tools=index, today=TODAY)
    assert c.api_operation == "markets.getPopulation"
    assert c.api_params["year"] == 2010 and isinstance(c.api_params["year"], int)


def test_the_filled_parameters_bind_to_the_real_operation(index: OperationIndex) -> None:
    c = understand("microsoft stock price from 2003 through 2006", tools=index, today=TODAY)
    spec = parse_spec(json.loads(SPEC.read_text()))
    call = bind(spec.operations["getStockPrices"], c.api_params)
    assert call.query == {"symbol": "MSFT", "start": "2003-01-01", "end": "2006-12-31"}


def test_missing_required_parameter_is_asked_for_by_name(index: OperationIndex) -> None:
    c = understand("show me the stock prices for 2007", tools=index, today=TODAY)
    assert c.intent == "clarify"
    assert c.api_operation == "markets.getStockPrices"
    assert "symbol" in (c.clarification or "")


def test_requests_no_operation_fits_go_to_the_grammar(index: OperationIndex) -> None:
    assert understand("search for steam engines", tools=index).intent == "search"
    assert understand("list my sources", tools=index).intent == "list_sources"
    assert understand("forget notes.txt", tools=index).intent == "forget"
    assert understand("who invented the telephone?", tools=index).intent == "ask"


def test_explain_lists_candidates_with_their_signals(index: OperationIndex) -> None:
    match = index.match("apple stock price during 2007", today=TODAY)
    best = match.candidates[0].as_dict()
    assert best["operation"] == "markets.getStockPrices"
    assert best["evidence"]["symbol"] == "apple"
    assert match.candidates[0].score > match.candidates[1].score
    assert "markets.getStockPrices" in match.reason


# -- bad input ---------------------------------------------------------------------------------
def _doc(paths: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t"},
        "servers": [{"url": "http://127.0.0.1:1"}],
        "paths": paths,
    }


def _get(op_id: str, params: list[dict[str, Any]], summary: str = "") -> dict[str, Any]:
    return {"get": {"operationId": op_id, "summary": summary, "parameters": params}}


def test_duplicate_operation_ids_are_a_clear_error() -> None:
    doc = _doc({"/a": _get("same", []), "/b": _get("same", [])})
    with pytest.raises(ToolError, match="operationId 'same' is used twice"):
        parse_spec(doc)


def test_five_hundred_operations_match_in_bounded_time() -> None:
    paths = {
        f"/r{i}": _get(f"getResource{i}", [], f"Resource number {i} of the catalogue")
        for i in range(499)
    }
    paths["/stock"] = _get(
        "getStockPrices",
        [{"name": "symbol", "in": "query", "required": True, "schema": {"type": "string"}}],
        "Daily stock prices of a company",
    )
    index = _index(_doc(paths))
    assert len(index.ops) == 500
    began = time.perf_counter()
    c = understand('stock prices of "ACME"', tools=index)
    assert time.perf_counter() - began < 30  # a loose bound: no quadratic blow-up
    assert c.api_operation == "markets.getStockPrices"
    assert c.api_params == {"symbol": "ACME"}


def test_an_enum_of_ten_thousand_values_still_matches_its_values() -> None:
    values = [f"V{i:05d}" for i in range(10_000)]
    param = {
        "name": "code",
        "in": "query",
        "required": True,
        "description": "=".join(values[:50]),
        "schema": {"type": "string", "enum": values},
    }
    index = _index(_doc({"/codes": _get("lookupCode", [param], "Look up a product code")}))
    assert index.ops[0].params[0].aliases == ()  # too many values to read words for
    c = understand("look up product code v01234", tools=index)
    assert c.intent == "call_api" and c.api_params == {"code": "V01234"}


def test_a_required_parameter_of_an_unhandled_type_is_not_usable() -> None:
    doc = _doc(
        {
            "/orders": {
                "post": {
                    "operationId": "createOrder",
                    "summary": "Create an order for products",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["items"],
                                    "properties": {
                                        "items": {"type": "array", "items": {"type": "object"}}
                                    },
                                }
                            }
                        },
                    },
                }
            }
        }
    )
    index = _index(doc)
    assert "list of" in index.ops[0].unusable
    c = understand("create an order for products", tools=index)
    assert c.intent == "out_of_scope"
    assert "cannot be called from a request" in (c.clarification or "")


def test_a_function_document_without_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match="without a name"):
        from_function_doc({"description": "x"})
