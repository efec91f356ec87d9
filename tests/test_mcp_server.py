"""Cairn as an MCP server, driven by the official SDK's client: over stdio (the real `cairn mcp`
command in a subprocess) and over streamable HTTP on loopback (`/mcp` inside the app
`cairn serve` runs, with its API key)."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

import cairn
from cairn.knowledge import KnowledgeBase
from cairn.server import ServerSettings, create_app
from helpers import FIXED_SUPPORT, TOWN_DOCS, fake_kb, serve_in_thread

KEY = "test-key-123"
TOOLS = {"search", "ask", "synthesize", "sources", "forget"}


async def _check_session(client: Client, kb_dir: Path) -> None:
    """What every transport must do: list, search, ask, refuse bad input, forget on confirm."""
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    forget = tools["forget"]
    assert forget.annotations is not None and forget.annotations.destructive_hint is True
    assert "confirm" in (forget.input_schema.get("required") or [])
    assert tools["search"].annotations is not None
    assert tools["search"].annotations.read_only_hint is True
    assert tools["search"].input_schema["properties"]["k"]["maximum"] == 50

    found = await client.call_tool("search", {"query": "lighthouse engineer", "k": 2})
    assert not found.is_error and found.structured_content is not None
    hits = found.structured_content["hits"]
    assert hits and hits[0]["title"] == "lighthouse" and hits[0]["license"] == "CC-BY-4.0"
    assert hits[0]["resource"].startswith("cairn://sources/")

    found = await client.call_tool(
        "search", {"query": "bread", "mode": "keyword", "collections": ["elsewhere"]}
    )
    assert found.structured_content == {"query": "bread", "hits": []}

    answer = await client.call_tool("ask", {"question": "Who built the lighthouse?"})
    body = answer.structured_content
    assert body is not None and body["abstained"] is False
    assert "Margaret Hale" in body["text"]
    (cite,) = body["citations"][:1]
    assert cite["license"] == "CC-BY-4.0" and cite["quote"] in TOWN_DOCS["lighthouse.txt"]

    unknown = await client.call_tool("ask", {"question": "What is the capital of Peru?"})
    assert unknown.structured_content is not None
    assert unknown.structured_content["abstained"] is True

    for args, expected in [
        ({"query": "x", "k": 500}, "bad-argument: search: k: 500 is greater than the maximum"),
        ({"k": 2}, "bad-argument: search: arguments: 'query' is a required property"),
        ({"query": "x", "mode": "psychic"}, "bad-argument: search: mode: 'psychic' is not one"),
    ]:
        with pytest.raises(MCPError) as caught:
            await client.call_tool("search", args)
        assert caught.value.message.startswith(expected)
        assert "Traceback" not in caught.value.message and "\n" not in caught.value.message
        assert caught.value.data == {"code": "bad-argument", "tool": "search"}

    with pytest.raises(MCPError) as caught:
        await client.call_tool("delete_everything", {})
    assert caught.value.data == {"code": "unknown-tool"}
    assert caught.value.message.startswith("unknown-tool: no tool named 'delete_everything'")

    with pytest.raises(MCPError) as caught:
        await client.call_tool("forget", {"source": "1", "confirm": False})
    assert caught.value.data["code"] == "confirm-required"
    with pytest.raises(MCPError) as caught:
        await client.call_tool("forget", {"source": "1"})
    assert caught.value.data["code"] == "bad-argument"
    with pytest.raises(MCPError) as caught:
        await client.call_tool("forget", {"source": "nowhere.txt", "confirm": True})
    assert caught.value.data == {"code": "unknown-source", "tool": "forget"}

    listed = await client.call_tool("sources", {})
    assert listed.structured_content is not None
    before = {s["uri"] for s in listed.structured_content["sources"]}
    assert len(before) == 3  # nothing was forgotten by the refused calls

    bakery = str(kb_dir / "bakery.txt")
    gone = await client.call_tool("forget", {"source": bakery, "confirm": True})
    assert gone.structured_content is not None and gone.structured_content["uri"] == bakery
    listed = await client.call_tool("sources", {"collection": "town"})
    assert listed.structured_content is not None
    assert {s["uri"] for s in listed.structured_content["sources"]} == before - {bakery}

    resources = await client.list_resources()
    assert [str(r.uri) for r in resources.resources] == ["cairn://sources"]
    lighthouse = next(s for s in listed.structured_content["sources"] if "lighthouse" in s["uri"])
    read = await client.read_resource(f"{lighthouse['resource']}/documents/0")
    text = getattr(read.contents[0], "text", "")
    assert TOWN_DOCS["lighthouse.txt"] in text.replace("\\n", "\n") and "CC-BY-4.0" in text


def test_stdio_cairn_mcp_command(tmp_path: Path) -> None:
    """The real `cairn mcp` command with the packaged models, in a subprocess."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in TOWN_DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    kb_path = tmp_path / "kb.sqlite"
    with cairn.open(kb_path) as kb:
        kb.ingest(sorted(docs.iterdir()), collection="town", license="CC-BY-4.0")
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", "from cairn.cli import main; main()", "mcp", "--kb", str(kb_path)],
        # the SDK passes on only a few variables; keep this checkout's sources first
        env={"PYTHONPATH": os.environ.get("PYTHONPATH", "")},
    )

    async def main() -> None:
        with anyio.fail_after(120):
            async with Client(params) as client:
                await _check_session(client, docs)

    anyio.run(main)


@pytest.fixture
def town(tmp_path: Path) -> Iterator[KnowledgeBase]:
    kb = fake_kb(tmp_path, TOWN_DOCS)
    yield kb
    kb.close()


@asynccontextmanager
async def _http_client(port: int, key: str | None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        transport = streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)
        async with Client(transport) as client:
            yield client


def test_http_mcp_in_cairn_serve(town: KnowledgeBase, tmp_path: Path) -> None:
    settings = ServerSettings(api_key=KEY, data_dir=tmp_path / "data")
    app = create_app(settings, kb=town, support_model=FIXED_SUPPORT)
    with serve_in_thread(app) as port:

        async def main() -> None:
            with anyio.fail_after(60):
                async with _http_client(port, KEY) as client:
                    await _check_session(client, tmp_path)

        anyio.run(main)

        # Same key rule as the rest of the server: no key, no session.
        for key in (None, "wrong"):
            status = httpx2.post(
                f"http://127.0.0.1:{port}/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={"Authorization": f"Bearer {key}"} if key else {},
            )
            assert status.status_code == 401
            body: dict[str, Any] = status.json()
            assert body["error"]["code"] in ("missing-api-key", "invalid-api-key")


def test_without_the_sdk_a_one_line_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cairn.cli import app
    from cairn.errors import ModelError
    from cairn.tools.mcp_extra import require_mcp

    monkeypatch.setitem(sys.modules, "mcp", None)  # import mcp -> ImportError
    with pytest.raises(ModelError) as caught:
        require_mcp()
    assert caught.value.code == "mcp-missing"
    assert "pip install 'mcp>=2.3,<3'" in caught.value.message
    res = CliRunner().invoke(app, ["mcp", "--kb", "unused.sqlite"])
    assert res.exit_code == 2 and "pip install 'mcp>=2.3,<3'" in res.output
