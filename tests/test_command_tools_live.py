"""Requests -> registered operation -> a real loopback HTTP call -> rows -> summary.

The packaged sentence encoder ranks the operations; the tool is the example OpenAPI document
examples/apis/markets.json registered against a FastAPI app on loopback.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Query
from typer.testing import CliRunner

import cairn
from cairn.cli import app
from cairn.command import understand
from cairn.command.schema_match import tool_index
from cairn.graph.extract import CapitalisedExtractor
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import HashingEmbedder
from cairn.tools import add_openapi, call_command
from cairn.tools.summary import summarise_rows
from helpers import serve_in_thread

SPEC = Path(__file__).resolve().parents[1] / "examples" / "apis" / "markets.json"
TODAY = date(2026, 12, 3)
LOCAL = {"127.0.0.1"}


def _app(calls: list[dict[str, Any]]) -> FastAPI:
    app_ = FastAPI()

    @app_.get("/prices")
    def prices(symbol: str, start: date, end: date) -> list[dict[str, Any]]:
        calls.append({"symbol": symbol, "start": start.isoformat(), "end": end.isoformat()})
        out, day = [], start
        while day <= end and len(out) < 400:
            if day.weekday() < 5:
                out.append({"date": day.isoformat(), "close": 100 + (day - start).days})
            day += timedelta(days=1)
        return out

    @app_.get("/weather/daily")
    def weather(city: str, from_: date = Query(alias="from"), to: date = Query()) -> list[Any]:
        calls.append({"city": city, "from": from_.isoformat(), "to": to.isoformat()})
        return [{"date": from_.isoformat(), "tmax": 11.0}, {"date": to.isoformat(), "tmax": 9.5}]

    return app_


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    calls: list[dict[str, Any]] = []
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        with serve_in_thread(_app(calls), sockets=[sock], lifespan="off", start_timeout=10):
            yield f"http://127.0.0.1:{sock.getsockname()[1]}", calls
    finally:
        sock.close()


@pytest.fixture
def kb(tmp_path: Path, server: tuple[str, list[dict[str, Any]]]) -> Iterator[KnowledgeBase]:
    base = cairn.open(
        tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    )
    add_openapi(
        base.store, json.loads(SPEC.read_text()), allowed_hosts=["127.0.0.1"], base_url=server[0]
    )
    yield base
    base.close()


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        (
            "Chart Apple's stock price during 2007.",
            {"symbol": "AAPL", "start": "2007-01-01", "end": "2007-12-31"},
        ),
        (
            "chart apples stock price during two thousand seven",
            {"symbol": "AAPL", "start": "2007-01-01", "end": "2007-12-31"},
        ),
        (
            "microsoft share price from two thousand three through two thousand six",
            {"symbol": "MSFT", "start": "2003-01-01", "end": "2006-12-31"},
        ),
        (
            "get the daily weather in seattle for march twenty thirteen",
            {"city": "Seattle", "from": "2013-03-01", "to": "2013-03-31"},
        ),
    ],
)
def test_request_to_call_to_summary(
    kb: KnowledgeBase, server: tuple[str, list[dict[str, Any]]], text: str, sent: dict[str, str]
) -> None:
    command = understand(text, tools=tool_index(kb.store), today=TODAY)
    assert command.intent == "call_api", command
    result = call_command(kb, command, allow_private=LOCAL)
    assert server[1][-1] == sent  # what reached the server, typed as the schema asks
    summary = summarise_rows(result.rows, command.api_operation or "")
    first = next(f for f in summary.facts if f.what == "first")
    assert first.row is not None and result.rows[first.row][first.column] == first.value
    assert f"returned {len(result.rows)} rows" in summary.text


def test_cli_understand_sees_the_registered_tools(kb: KnowledgeBase, tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "kb.sqlite")
    got = runner.invoke(
        app, ["understand", "--kb", db, "--json", "--explain", "ibm stock during 2009"]
    )
    assert got.exit_code == 0, got.output
    data = json.loads(got.output)
    assert data["intent"] == "call_api" and data["api_operation"] == "markets.getStockPrices"
    assert data["api_params"]["symbol"] == "IBM"
    assert data["candidates"][0]["operation"] == "markets.getStockPrices"
    plain = runner.invoke(app, ["understand", "--kb", db, "--explain", "ibm stock during 2009"])
    assert plain.exit_code == 0 and "markets.getStockPrices" in plain.output
    assert "meaning" in plain.output


def test_the_pipeline_understands_with_the_registered_tools(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    from cairn.pipeline.run import run_pipeline

    result = run_pipeline(
        kb,
        text="chart apples stock price during two thousand seven",
        chart_to=tmp_path / "chart.png",
    )
    assert result.command is not None
    assert result.command.intent == "call_api"
    assert result.command.api_operation == "markets.getStockPrices"
    assert result.command.api_params["symbol"] == "AAPL"
    # the owner approved the loopback address by naming it in allowed_hosts at add_openapi:
    # the pipeline (the path voice, /api/voice and chat take) reaches it with no extra flag
    assert result.ok, result.error
    assert result.answer is not None and "2007-12-31" in result.answer  # the summary of the rows
    assert result.charts and result.charts[0].stat().st_size > 1000


def test_the_pipeline_asks_the_tool_engine_the_environment_names(
    kb: KnowledgeBase,
    server: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`CAIRN_TOOL_ENGINE=llm` reaches the pipeline (voice, /api/voice): the LLM chooses."""
    from cairn import compose
    from cairn.command import tool_hybrid
    from cairn.models.llm import FakeLLM
    from cairn.pipeline.run import run_pipeline

    reply = {
        "name": "markets.getDailyWeather",
        "arguments": {"city": "Seattle", "from": "2013-03-01", "to": "2013-03-31"},
    }
    loaded: list[str] = []

    def fake_model(spec: str) -> FakeLLM:
        loaded.append(spec)
        return FakeLLM(json.dumps(reply))

    monkeypatch.setattr(compose, "_matchers", {})
    monkeypatch.setattr(tool_hybrid, "load_tool_llm", fake_model)
    monkeypatch.setenv("CAIRN_TOOL_ENGINE", "llm")
    monkeypatch.setenv("CAIRN_TOOL_LLM", "my-model.gguf")
    for _ in range(2):
        result = run_pipeline(kb, text="how was it out there in seattle that march of 2013")
        assert result.ok, result.error
        assert result.command is not None
        assert result.command.api_operation == "markets.getDailyWeather"
        assert result.command.api_params["city"] == "Seattle"
    assert loaded == ["my-model.gguf"]  # the model loads once, not per request
    assert server[1][-1] == {"city": "Seattle", "from": "2013-03-01", "to": "2013-03-31"}
    event = next(e for e in result.events if e.stage == "understand" and e.data.get("command"))
    assert event.data["tool_engine"] == "llm"

    # a setting that cannot be used fails the understand stage, naming what is missing
    monkeypatch.delenv("CAIRN_TOOL_LLM")
    monkeypatch.setenv("CAIRN_TOOL_ENGINE", "hybrid")
    failed = run_pipeline(kb, text="chart apples stock price during two thousand seven")
    assert not failed.ok and failed.error is not None
    assert failed.error.stage == "understand"
    assert "CAIRN_TOOL_ENGINE=hybrid needs CAIRN_TOOL_LLM" in failed.error.message
