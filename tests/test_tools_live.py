"""call_api end to end against a real HTTP API on loopback (FastAPI + uvicorn in a thread).

No mocks: the tool imports the app's own /openapi.json, and every request goes through httpx
and a socket. Redirects to private addresses are refused after resolution, before connecting.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel
from typer.testing import CliRunner

import cairn
from cairn.command.model import Command
from cairn.graph.extract import CapitalisedExtractor
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import HashingEmbedder
from cairn.tools import ToolError, add_openapi, call_api, call_command, get_api_tool
from helpers import serve_in_thread

BIG = 6_000_000


class Reading(BaseModel):
    station: str
    celsius: float
    ok: bool = True


@dataclass
class Api:
    port: int
    listener: socket.socket  # listens on another port: nothing may ever connect to it
    hits: list[str] = field(default_factory=list)

    @property
    def other_port(self) -> int:
        return int(self.listener.getsockname()[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spec(self) -> dict[str, Any]:
        return dict(httpx.get(self.base + "/openapi.json").json())


def make_app(api: Api) -> FastAPI:
    app = FastAPI(title="Test Stats", servers=[{"url": api.base}])

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Any:
        api.hits.append(request.url.path)
        return await call_next(request)

    @app.get("/series", operation_id="list_series")
    def series(
        start: int = 2000,
        count: int = Query(4, ge=1, le=100),
        kind: Literal["gdp", "population"] = "gdp",
    ) -> dict[str, Any]:
        rows = [{"year": start + i, "value": round(1.5 * (i + 1), 2)} for i in range(count)]
        return {"kind": kind, "meta": {"unit": "bn"}, "data": rows}

    @app.post("/echo", operation_id="echo")
    def echo(reading: Reading) -> list[dict[str, Any]]:
        return [reading.model_dump()]

    @app.get("/items/{item_id}", operation_id="getItem")
    def item(item_id: int) -> dict[str, Any]:
        return {"id": item_id, "name": f"Item {item_id}"}

    @app.get("/slow", operation_id="slow")
    async def slow() -> list[int]:
        await asyncio.sleep(2)
        return []

    @app.get("/fail", operation_id="fail")
    def fail() -> Response:
        return Response("database on fire", status_code=500)

    @app.get("/big", operation_id="big")
    def big() -> Response:
        return Response(b"[" + b"0," * (BIG // 2) + b"0]", media_type="application/json")

    @app.get("/big-stream", operation_id="big_stream")
    def big_stream() -> StreamingResponse:
        def chunks() -> Iterator[bytes]:
            yield b"["
            for _ in range(BIG // 100_000):
                yield b"1," * 50_000
            yield b"1]"

        return StreamingResponse(chunks(), media_type="application/json")

    @app.get("/text", operation_id="text")
    def text() -> PlainTextResponse:
        return PlainTextResponse("just words")

    @app.get("/redirect-same", operation_id="redirect_same")
    def redirect_same() -> RedirectResponse:
        return RedirectResponse("/series?start=1990&count=2")

    @app.get("/redirect-local", operation_id="redirect_local")
    def redirect_local() -> RedirectResponse:
        return RedirectResponse(f"http://127.0.0.1:{api.other_port}/series")

    @app.get("/redirect-ten", operation_id="redirect_ten")
    def redirect_ten() -> RedirectResponse:
        return RedirectResponse("http://10.0.0.1/series")

    return app


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    other = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    other.bind(("127.0.0.1", 0))
    other.listen(1)
    state = Api(sock.getsockname()[1], other)
    try:
        with serve_in_thread(make_app(state), sockets=[sock], lifespan="off", start_timeout=10):
            yield state
    finally:
        sock.close()
        other.close()


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    base = cairn.open(
        tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    )
    yield base
    base.close()


@pytest.fixture
def tool(kb: KnowledgeBase, api: Api) -> str:
    add_openapi(kb.store, api.spec(), allowed_hosts=["127.0.0.1"])
    return "test_stats"


LOCAL = {"127.0.0.1"}


def _code(err: pytest.ExceptionInfo[ToolError]) -> str:
    return err.value.code


# -- the happy path ---------------------------------------------------------------------------
def test_import_call_store_search_forget(kb: KnowledgeBase, api: Api, tool: str) -> None:
    t = get_api_tool(kb.store, tool)
    assert t.base_url == api.base
    assert {"list_series", "echo", "getItem", "slow", "fail"} <= set(t.spec.operations)
    res = call_api(
        kb,
        tool,
        "list_series",
        {"start": "2010", "count": "3", "kind": "population"},
        allow_private=LOCAL,
    )
    assert res.rows == [
        {"year": 2010, "value": 1.5},
        {"year": 2011, "value": 3.0},
        {"year": 2012, "value": 4.5},
    ]
    assert res.source is not None
    assert res.source.uri.startswith("api://test_stats/list_series/")
    assert res.source.provenance.collection == "api"
    assert res.source.provenance.source_url == res.request["url"]
    assert "start=2010" in res.request["url"] and "kind=population" in res.request["url"]
    assert res.request["params"] == {"start": 2010, "count": 3, "kind": "population"}
    records = kb.store.list_records("test_stats.list_series")
    assert [r["data"] for r in records] == res.rows
    assert records[0]["request"]["method"] == "GET"
    assert records[0]["requested_at"] == res.requested_at
    hits = kb.search("year 2011 value", k=3)
    assert hits and hits[0].chunk.source_uri == res.source.uri
    assert "year: 2011; value: 3" in hits[0].chunk.text
    kb.forget(res.source.uri)
    assert kb.store.list_records() == []
    assert all(h.chunk.source_uri != res.source.uri for h in kb.search("year 2011 value", k=3))


def test_post_body_and_path_params(kb: KnowledgeBase, tool: str) -> None:
    res = call_api(
        kb, tool, "echo", {"station": "Kew", "celsius": "21.5", "ok": "false"}, allow_private=LOCAL
    )
    assert res.rows == [{"station": "Kew", "celsius": 21.5, "ok": False}]
    assert res.request["method"] == "POST"
    got = call_api(kb, tool, "get_item", {"item_id": 7}, allow_private=LOCAL)  # snake_case name
    assert got.rows == [{"id": 7, "name": "Item 7"}]


def test_redirect_on_an_allowed_host_is_followed(kb: KnowledgeBase, tool: str) -> None:
    res = call_api(kb, tool, "redirect_same", allow_private=LOCAL)
    assert [r["year"] for r in res.rows] == [1990, 1991]
    assert res.request["redirects"] == [res.request["url"]]


def test_command_call_api(kb: KnowledgeBase, tool: str) -> None:
    cmd = Command(
        intent="call_api", api_operation="test_stats.list_series", api_params={"count": 2}
    )
    res = call_command(kb, cmd, allow_private=LOCAL)
    assert len(res.rows) == 2


# -- refusals and failures --------------------------------------------------------------------
def test_bad_params_fail_before_any_request(kb: KnowledgeBase, api: Api, tool: str) -> None:
    before = len(api.hits)
    for params, words in (
        ({"count": "many"}, ["'count'", "integer", "'many'"]),
        ({"kind": "weather"}, ["'kind'", "one of", "'weather'"]),
        ({"colour": "red"}, ["unknown parameter 'colour'"]),
    ):
        with pytest.raises(ToolError) as err:
            call_api(kb, tool, "list_series", params, allow_private=LOCAL)
        assert _code(err) == "api-bad-params"
        assert all(w in err.value.message for w in words), err.value.message
    with pytest.raises(ToolError) as err:
        call_api(kb, tool, "echo", {"celsius": 3}, allow_private=LOCAL)
    assert "missing required parameter 'station'" in err.value.message
    assert len(api.hits) == before


def test_loopback_is_refused_by_default(kb: KnowledgeBase, api: Api) -> None:
    add_openapi(kb.store, api.spec(), allowed_hosts=["127.0.0.1"], allow_private=False)
    before = len(api.hits)
    with pytest.raises(ToolError) as err:
        call_api(kb, "test_stats", "list_series")
    assert _code(err) == "api-blocked-host"
    assert "127.0.0.1" in err.value.message and "--allow-private" in err.value.message
    assert len(api.hits) == before


def test_timeout(kb: KnowledgeBase, tool: str) -> None:
    t0 = time.monotonic()
    with pytest.raises(ToolError) as err:
        call_api(kb, tool, "slow", allow_private=LOCAL, timeout=0.5)
    assert _code(err) == "api-timeout"
    assert time.monotonic() - t0 < 1.8


def test_server_error(kb: KnowledgeBase, tool: str) -> None:
    with pytest.raises(ToolError) as err:
        call_api(kb, tool, "fail", allow_private=LOCAL)
    assert _code(err) == "api-http-error"
    assert "500" in err.value.message and "database on fire" in err.value.message


@pytest.mark.parametrize("operation", ["big", "big_stream"])
def test_too_large(kb: KnowledgeBase, tool: str, operation: str) -> None:
    with pytest.raises(ToolError) as err:
        call_api(kb, tool, operation, allow_private=LOCAL)
    assert _code(err) == "api-too-large"
    assert kb.store.list_records() == []


def test_not_json(kb: KnowledgeBase, tool: str) -> None:
    with pytest.raises(ToolError) as err:
        call_api(kb, tool, "text", allow_private=LOCAL)
    assert _code(err) == "api-bad-json"
    assert "text/plain" in err.value.message


def test_redirect_to_another_loopback_port_is_blocked(
    kb: KnowledgeBase, api: Api, tool: str
) -> None:
    # private addresses are allowed for the API's own host:port only, not the redirect target
    with pytest.raises(ToolError) as err:
        call_api(kb, tool, "redirect_local", allow_private={f"127.0.0.1:{api.port}"})
    assert _code(err) == "api-blocked-host"
    assert f"port {api.other_port}: redirects must stay on the port" in err.value.message
    assert select.select([api.listener], [], [], 0.05)[0] == []  # nobody connected


def test_redirect_to_a_private_address_is_blocked_before_connecting(
    kb: KnowledgeBase, api: Api, tool: str
) -> None:
    # 10.0.0.1 is even allow-listed: the address check still refuses it
    add_openapi(kb.store, api.spec(), allowed_hosts=["127.0.0.1", "10.0.0.1"], name="ten")
    t0 = time.monotonic()
    with pytest.raises(ToolError) as err:
        call_api(kb, "ten", "redirect_ten", allow_private={f"127.0.0.1:{api.port}"})
    assert _code(err) == "api-blocked-host"
    assert "10.0.0.1" in err.value.message and "private" in err.value.message
    assert time.monotonic() - t0 < 1.0  # refused at once, no connection attempt
    # without 10.0.0.1 on the allow-list, the host check refuses it first
    with pytest.raises(ToolError) as err:
        call_api(kb, tool, "redirect_ten", allow_private=True)
    assert _code(err) == "api-blocked-host"
    assert "10.0.0.1 is not an allowed host" in err.value.message


# -- the command line -------------------------------------------------------------------------
def test_cli_add_list_call_chart_records(
    tmp_path: Path, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.cli import tools_commands

    def open_with_fakes(path: str | Path | None = None, **_: Any) -> KnowledgeBase:
        return cairn.open(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor())

    monkeypatch.setattr(tools_commands, "open_kb", open_with_fakes)
    import typer

    app = typer.Typer()
    tools_commands.register(app)

    @app.command()
    def other() -> None:  # a second command, so that `tools` stays a group
        """Unused."""

    runner = CliRunner()
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(api.spec()))
    db = str(tmp_path / "cli.sqlite")
    r = runner.invoke(
        app,
        [
            "tools",
            "add-openapi",
            str(spec),
            "--allow-host",
            "127.0.0.1",
            "--name",
            "stats",
            "--kb",
            db,
        ],
    )
    assert r.exit_code == 0, r.output
    assert "added tool stats" in r.output
    r = runner.invoke(app, ["tools", "list", "--kb", db, "--json"])
    assert r.exit_code == 0, r.output
    listed = json.loads(r.output.splitlines()[0])
    assert listed["name"] == "stats" and listed["allowed_hosts"] == ["127.0.0.1"]
    out = tmp_path / "series.png"
    r = runner.invoke(
        app,
        [
            "tools",
            "call",
            "stats",
            "list_series",
            "start=2001",
            "count=5",
            "--allow-private",
            "--chart",
            str(out),
            "--kb",
            db,
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert [row["year"] for row in got["rows"]] == [2001, 2002, 2003, 2004, 2005]
    assert got["charts"] == [str(out)] and out.stat().st_size > 1000
    r = runner.invoke(app, ["tools", "records", "stats.list_series", "--kb", db, "--json"])
    assert r.exit_code == 0 and len(r.output.splitlines()) == 5
    r = runner.invoke(
        app, ["tools", "call", "stats", "list_series", "count=lots", "--allow-private", "--kb", db]
    )
    assert r.exit_code == 2
    assert "'count' expects integer" in r.output
    # --allow-host 127.0.0.1 (a literal loopback address) approved the API at add-openapi
    r = runner.invoke(app, ["tools", "call", "stats", "list_series", "count=1", "--kb", db])
    assert r.exit_code == 0, r.output
    for bad in (
        ["--timeout", "nan"],
        ["--timeout", "inf"],
        ["--max-mb", "-5"],
        ["--max-mb", "inf"],
    ):
        r = runner.invoke(app, ["tools", "call", "stats", "list_series", *bad, "--kb", db])
        assert r.exit_code == 2 and bad[0] in r.output, r.output
