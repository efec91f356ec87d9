"""MCP servers as tools for Cairn: a real MCP server written with the SDK
(tests/mcp_fake_server.py), over stdio and over HTTP on loopback, called from
`cairn tools call` and `cairn voice --text`; a dropped connection, a server that never
answers and a 100 MB result end in one clear error, with nothing stored."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from cairn import knowledge
from cairn.cli import mcp_commands, tools_commands, voice_commands
from cairn.errors import NotFoundError
from cairn.graph.extract import CapitalisedExtractor
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import HashingEmbedder
from cairn.tools import ToolError, call_api, get_api_tool, list_api_tools
from cairn.tools.mcp_client import add_mcp, bind_params, call_mcp, get_mcp_server
from helpers import TOWN_DOCS, fake_kb, free_port

SERVER = Path(__file__).with_name("mcp_fake_server.py")
COMMAND = [sys.executable, str(SERVER)]


@pytest.fixture(autouse=True)
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    real = knowledge.open_kb

    def open_with_fakes(path: str | Path | None = None, **kw: object) -> KnowledgeBase:
        return real(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor())

    for module in ("tools_commands", "mcp_commands", "voice_commands"):
        monkeypatch.setattr(f"cairn.cli.{module}.open_kb", open_with_fakes)


@pytest.fixture
def town(tmp_path: Path) -> Iterator[KnowledgeBase]:
    kb = fake_kb(tmp_path, TOWN_DOCS)
    yield kb
    kb.close()


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    tools_commands.register(app)
    voice_commands.register(app)
    mcp_commands.register(app)
    return app


def _counts(kb: KnowledgeBase) -> tuple[int, int, int]:
    stats = kb.stats()
    return len(kb.sources()), stats.chunks, len(kb.store.list_records(None, 1000))


def test_cli_add_call_list_and_voice(app: typer.Typer, town: KnowledgeBase) -> None:
    path = str(town.store.path)  # type: ignore[attr-defined]
    town.close()
    runner = CliRunner()
    res = runner.invoke(
        app, ["tools", "add-mcp", "harbour", "--command", " ".join(COMMAND), "--kb", path]
    )
    assert res.exit_code == 0, res.output
    assert "added MCP server harbour" in res.output and "tide_table" in res.output

    res = runner.invoke(app, ["tools", "list", "--kb", path])
    assert res.exit_code == 0 and "tide_table" in res.output and "MCP" in res.output

    res = runner.invoke(
        app, ["tools", "call", "harbour", "tide_table", "port=Brest", "days=2", "--kb", path]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        ["tools", "call", "harbour", "tide_table", "port=Brest", "days=2", "--kb", path, "--json"],
    )
    out = json.loads(res.stdout)
    assert out["rows"] == [
        {"port": "Brest", "day": 1, "high_tide_m": 4.0},
        {"port": "Brest", "day": 2, "high_tide_m": 4.25},
    ]
    assert out["source"].startswith("api://harbour/tide_table/")
    assert out["request"]["method"] == "MCP tools/call"

    res = runner.invoke(app, ["tools", "call", "harbour", "tide_table", "days=two", "--kb", path])
    assert res.exit_code == 2 and "tide_table: days: 'two' is not a integer" in res.output

    res = runner.invoke(
        app,
        ["voice", "--text", "get the tide table for Brest from the harbour API", "--kb", path,
         "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    run = json.loads(res.stdout)
    assert run["command"]["api_operation"] == "harbour.tide_table"
    assert run["ok"] and "returned 3 rows" in json.dumps(run)

    with knowledge.open_kb(path, embedder=HashingEmbedder()) as kb:
        records = kb.store.list_records("harbour.tide_table", 100)
        assert len(records) == 2 + 2 + 3  # two CLI calls of 2 rows, the voice request 3
        hits = kb.search("Brest high tide", k=3, mode="keyword")
        assert hits and hits[0].chunk.source_uri.startswith("api://harbour/tide_table/")


def test_bind_params_maps_free_text_and_types() -> None:
    srv_tool = type(
        "T", (), {"name": "t", "input_schema": {
            "type": "object",
            "properties": {"port": {"type": "string"}, "days": {"type": "integer"},
                           "rough": {"type": "boolean"}},
            "required": ["port"],
        }},
    )()  # fmt: skip
    assert bind_params(srv_tool, {"q": "Brest", "days": "4", "rough": "yes"}) == {  # type: ignore[arg-type]
        "port": "Brest",
        "days": 4,
        "rough": True,
    }
    with pytest.raises(ToolError, match="'port' is a required property"):
        bind_params(srv_tool, {"days": 1})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tool", "options", "code"),
    [
        ("hang", {"timeout": 3.0}, "mcp-timeout"),
        ("huge", {}, "mcp-too-large"),
        ("crash", {}, "mcp-closed"),
        ("refuse", {}, "mcp-tool-error"),
    ],
)
def test_stdio_failures_are_bounded_and_store_nothing(
    town: KnowledgeBase, tool: str, options: dict[str, float], code: str
) -> None:
    add_mcp(town.store, "harbour", command=COMMAND)
    before = _counts(town)
    started = time.monotonic()
    with pytest.raises(ToolError) as caught:
        call_api(town, "harbour", tool, {}, **options)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert "\n" not in caught.value.message and "Traceback" not in caught.value.message
    assert time.monotonic() - started < 60
    assert _counts(town) == before


def test_add_mcp_refuses_bad_servers(town: KnowledgeBase) -> None:
    with pytest.raises(ToolError, match="one of them"):
        add_mcp(town.store, "x", command=COMMAND, url="http://127.0.0.1:1/mcp")
    with pytest.raises(ToolError) as caught:
        add_mcp(town.store, "x", command=["/nonexistent/mcp-server"])
    assert caught.value.code == "mcp-connect-error"
    with pytest.raises(ToolError) as caught:  # not an MCP server: exits at once
        add_mcp(town.store, "x", command=[sys.executable, "-c", "print('hello')"], timeout=10)
    assert caught.value.code == "mcp-protocol-error"
    with pytest.raises(ToolError) as caught:  # dies at start: its last words are shown
        add_mcp(town.store, "x", command=[sys.executable, "-c", "import no_such_module_here"])
    assert caught.value.code == "mcp-closed"
    assert "No module named 'no_such_module_here'" in caught.value.message
    with pytest.raises(ToolError, match="not among the allowed hosts"):
        add_mcp(town.store, "x", url="http://127.0.0.1:1/mcp", allowed_hosts=["example.org"])
    assert get_mcp_server(town.store, "x") is None and town.store.list_tools() == []


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([*COMMAND, "--http", str(port)], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the MCP test server did not start") from None
            time.sleep(0.1)
    yield url
    proc.kill()
    proc.wait(timeout=10)


def test_http_server_allow_list_call_and_limits(town: KnowledgeBase, http_server: str) -> None:
    # Loopback is private: refused unless the owner allows it, like OpenAPI tools.
    with pytest.raises(ToolError) as caught:
        add_mcp(town.store, "harbour", url=http_server, allowed_hosts=["127.0.0.1"])
    assert caught.value.code == "api-blocked-host"
    srv = add_mcp(
        town.store, "harbour", url=http_server, allowed_hosts=["127.0.0.1"], allow_private=True
    )
    assert "tide_table" in [t.name for t in srv.tools]
    assert list_api_tools(town.store) == []  # OpenAPI readers of the catalogue skip it
    with pytest.raises(NotFoundError):
        get_api_tool(town.store, "harbour")
    result = call_mcp(town, "harbour", "tide_table", {"port": "Cork"}, allow_private=True)
    assert [r["day"] for r in result.rows] == [1, 2, 3]
    assert result.source is not None and result.request["url"] == http_server
    assert town.store.get_source(result.source.id) is not None

    # The owner's approval is stored with the server: later calls (voice, server) need no flag.
    assert srv.private_hosts == (http_server.split("/")[2],)
    again = call_mcp(town, "harbour", "tide_table", {"port": "Cork"})
    assert [r["day"] for r in again.rows] == [1, 2, 3]

    before = _counts(town)
    for tool, options, code in [
        ("huge", {}, "mcp-too-large"),
        ("hang", {"timeout": 3.0}, "mcp-timeout"),
    ]:
        with pytest.raises(ToolError) as caught:
            call_mcp(town, "harbour", tool, {}, allow_private=True, **options)  # type: ignore[arg-type]
        assert caught.value.code == code, caught.value.message
    assert _counts(town) == before
