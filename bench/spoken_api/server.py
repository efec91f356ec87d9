"""The loopback servers behind the spoken API set: one FastAPI app per OpenAPI document.

Each app answers exactly the operations its document declares, from the data a package ships:
matplotlib's sample ``Stocks.csv`` (markets) and R's ``datasets`` tables, exported by
``export_r_datasets.R`` with ``Rscript`` on first use into ``$CAIRN_BENCH_CACHE/spoken_api``
(default ``~/.cache/cairn-bench``; Debian: ``apt-get install r-base-core``), never committed
(nyair, history). Every call that reaches
an app is appended to ``calls`` as ``(operationId, query parameters as strings)`` before it is
answered, so a benchmark or test sees what really arrived over HTTP.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("CAIRN_BENCH_CACHE", "~/.cache/cairn-bench")).expanduser() / "spoken_api"
R_TABLES = ("airquality", "air_passengers", "co2", "nile", "nottem", "sunspots")
DOCUMENTS = ("markets", "nyair", "history")
Calls = list[tuple[str, dict[str, str]]]


def export_r_tables() -> Path:
    """The R tables as CSV files in :data:`DATA`, exported with Rscript when missing."""
    if all((DATA / f"{t}.csv").exists() for t in R_TABLES):
        return DATA
    exe = shutil.which("Rscript")
    if exe is None:
        raise RuntimeError("the nyair and history servers need R: apt-get install r-base-core")
    subprocess.run([exe, str(HERE / "export_r_datasets.R"), str(DATA)], check=True)
    return DATA


def _rows(name: str) -> list[dict[str, str]]:
    with (export_r_tables() / name).open(newline="") as f:
        return list(csv.DictReader(f))


def _num(text: str) -> float | None:
    return None if text in ("", "NA") else float(text)


def _between(rows: list[dict[str, Any]], start: date, end: date) -> list[dict[str, Any]]:
    if end < start:
        raise HTTPException(422, f"end {end} is before start {start}")
    return [r for r in rows if start.isoformat() <= r["date"] <= end.isoformat()]


def _record(calls: Calls, op: str, request: Request) -> None:
    calls.append((op, {k: v for k, v in request.query_params.items()}))


def markets_app(calls: Calls) -> FastAPI:
    import matplotlib.cbook

    path = Path(matplotlib.cbook.get_sample_data("Stocks.csv", asfileobj=False))
    with path.open(newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    table = [r for r in csv.DictReader(lines) if r.get("IBM")]
    app = FastAPI()

    def series(column: str, start: date, end: date) -> list[dict[str, Any]]:
        rows = [{"date": r["Date"], "close": _num(r[column])} for r in table]
        return [r for r in _between(rows, start, end) if r["close"] is not None]

    @app.get("/prices/monthly")
    def monthly(request: Request, symbol: str, start: date, end: date) -> list[dict[str, Any]]:
        _record(calls, "getMonthlyClosingPrices", request)
        return series(symbol, start, end)

    @app.get("/prices/on-date")
    def on_date(request: Request, symbol: str, date_: date = Query(alias="date")) -> Any:
        _record(calls, "getClosingPriceOnDate", request)
        before = series(symbol, date(1900, 1, 1), date_)
        return before[-1:] if before else []

    @app.get("/indexes/monthly")
    def index_levels(request: Request, index: str, start: date, end: date) -> Any:
        _record(calls, "getIndexLevels", request)
        column = {"sp500": "^GSPC", "nasdaq": "^IXIC"}.get(index)
        if column is None:
            raise HTTPException(422, f"unknown index {index!r}")
        return [{"date": r["date"], "level": r["close"]} for r in series(column, start, end)]

    return app


def nyair_app(calls: Calls) -> FastAPI:
    table = [
        {
            "date": r["date"],
            "ozone": _num(r["Ozone"]),
            "solar": _num(r["Solar.R"]),
            "wind": _num(r["Wind"]),
            "temperature": _num(r["Temp"]),
        }
        for r in _rows("airquality.csv")
    ]
    app = FastAPI()

    def month_rows(month: int | None) -> list[dict[str, Any]]:
        return [r for r in table if month is None or int(r["date"][5:7]) == month]

    @app.get("/readings")
    def readings(request: Request, start: date, end: date) -> Any:
        _record(calls, "getDailyReadings", request)
        return _between(table, start, end)

    @app.get("/monthly-average")
    def average(request: Request, month: int, measure: str) -> Any:
        _record(calls, "getMonthlyAverage", request)
        values = [r[measure] for r in month_rows(month) if r.get(measure) is not None]
        if not values:
            raise HTTPException(422, f"no {measure} readings in month {month}")
        return [{"month": month, "measure": measure, "mean": round(statistics.mean(values), 2)}]

    @app.get("/hottest-days")
    def hottest(request: Request, count: int = 5, month: int | None = None) -> Any:
        _record(calls, "getHottestDays", request)
        rows = sorted(month_rows(month), key=lambda r: -(r["temperature"] or 0))
        return [{"date": r["date"], "temperature": r["temperature"]} for r in rows[:count]]

    @app.get("/ozone-above")
    def ozone_above(request: Request, threshold: float) -> Any:
        _record(calls, "getDaysAboveOzone", request)
        return [
            {"date": r["date"], "ozone": r["ozone"]}
            for r in table
            if r["ozone"] is not None and r["ozone"] > threshold
        ]

    return app


def history_app(calls: Calls) -> FastAPI:
    monthly = {
        name: [{"date": r["date"], "value": _num(r["value"])} for r in _rows(f"{name}.csv")]
        for name in ("air_passengers", "co2", "sunspots", "nottem")
    }
    nile = [{"year": int(r["year"]), "flow": _num(r["flow"])} for r in _rows("nile.csv")]
    app = FastAPI()
    routes = {
        "/airline-passengers": ("getAirlinePassengers", "air_passengers"),
        "/carbon-dioxide": ("getCarbonDioxide", "co2"),
        "/sunspots": ("getSunspotNumbers", "sunspots"),
        "/nottingham-temperature": ("getNottinghamTemperature", "nottem"),
    }
    for route, (op, name) in routes.items():

        def handler(
            request: Request, start: date, end: date, op: str = op, name: str = name
        ) -> Any:  # defaults bind the loop's values
            _record(calls, op, request)
            return _between(monthly[name], start, end)

        app.add_api_route(route, handler, methods=["GET"])

    @app.get("/nile-flow")
    def nile_flow(request: Request, fromYear: int, toYear: int) -> Any:
        _record(calls, "getNileFlow", request)
        if toYear < fromYear:
            raise HTTPException(422, f"toYear {toYear} is before fromYear {fromYear}")
        return [r for r in nile if fromYear <= r["year"] <= toYear]

    return app


APPS = {"markets": markets_app, "nyair": nyair_app, "history": history_app}


@contextmanager
def serve(name: str, calls: Calls) -> Iterator[str]:
    """Serve document ``name``'s app on a free loopback port; yield its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        APPS[name](calls), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {name} server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
