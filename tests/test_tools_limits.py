"""Hostile API servers on loopback (raw sockets, real httpx): a trickle of header lines cannot
outlast the call's time limit, redirects stay on the approved host and port, ``.``/``..``
path parameters are refused, absurd JSON is a clear error, and a private host the owner
approved at ``add-openapi`` is reachable from every calling path, and only that one."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import cairn
from cairn.command.model import Command
from cairn.graph.extract import CapitalisedExtractor
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import HashingEmbedder
from cairn.tools import ToolError, add_openapi, call_api, call_command, get_api_tool
from cairn.tools.http import HttpPolicy, SafeHttpClient

Handler = Callable[[socket.socket, str], None]


class RawServer:
    """A loopback HTTP/1.1 server answering each request with ``handler(conn, request_line)``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = int(self.sock.getsockname()[1])
        self.requests: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            if not select.select([self.sock], [], [], 0.05)[0]:
                continue
            conn, _ = self.sock.accept()
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                part = conn.recv(4096)
                if not part:
                    return
                data += part
            line = data.split(b"\r\n", 1)[0].decode("latin-1")
            self.requests.append(line)
            with contextlib.suppress(OSError):
                self.handler(conn, line)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def send_json(conn: socket.socket, body: bytes, status: str = "200 OK") -> None:
    conn.sendall(
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


def spec(port: int, *paths: str) -> dict[str, Any]:
    ops: dict[str, Any] = {}
    for p in paths:
        name = p.strip("/").split("/")[0].replace("-", "_")
        params = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in (s[1:-1] for s in p.split("/") if s.startswith("{"))
        ]
        ops[p] = {"get": {"operationId": name, "parameters": params}}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Raw", "version": "1"},
        "servers": [{"url": f"http://127.0.0.1:{port}"}],
        "paths": ops,
    }


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    base = cairn.open(
        tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    )
    yield base
    base.close()


@pytest.fixture
def servers() -> Iterator[list[RawServer]]:
    made: list[RawServer] = []
    yield made
    for s in made:
        s.close()


def serve(servers: list[RawServer], handler: Handler) -> RawServer:
    s = RawServer(handler)
    servers.append(s)
    return s


# -- 2: one deadline for connect, headers and body --------------------------------------------
def trickle_headers(conn: socket.socket, _: str) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for i in range(40):
        conn.sendall(f"X-Slow-{i}: a\r\n".encode())
        time.sleep(0.25)
    send_json(conn, b"[]")


def trickle_body(conn: socket.socket, _: str) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 80\r\n\r\n["
    )
    for _i in range(40):
        conn.sendall(b" ")
        time.sleep(0.25)


@pytest.mark.parametrize("handler", [trickle_headers, trickle_body])
def test_a_trickling_server_cannot_outlast_the_time_limit(
    kb: KnowledgeBase, servers: list[RawServer], handler: Handler
) -> None:
    s = serve(servers, handler)
    add_openapi(kb.store, spec(s.port, "/slow"), allowed_hosts=["127.0.0.1"])
    t0 = time.monotonic()
    with pytest.raises(ToolError) as err:
        call_api(kb, "raw", "slow", timeout=1.0)
    took = time.monotonic() - t0
    assert err.value.code == "api-timeout", err.value.message
    assert took < 3.0, f"held for {took:.1f} s against a 1 s limit"  # 10 s before the fix


# -- 5: redirects stay on the approved host and port -------------------------------------------
def test_redirect_to_another_port_of_an_approved_host_is_refused(
    kb: KnowledgeBase, servers: list[RawServer]
) -> None:
    other = serve(servers, lambda c, _: send_json(c, b'[{"secret": 1}]'))

    def redirect(conn: socket.socket, _: str) -> None:
        conn.sendall(
            f"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{other.port}/x\r\n"
            "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )

    s = serve(servers, redirect)
    add_openapi(kb.store, spec(s.port, "/go"), allowed_hosts=["127.0.0.1"])
    for allow in (None, True, {"127.0.0.1"}):
        with pytest.raises(ToolError) as err:
            call_api(kb, "raw", "go", **({} if allow is None else {"allow_private": allow}))
        assert err.value.code == "api-blocked-host", err.value.message
        assert str(other.port) in err.value.message
    assert other.requests == []
    assert kb.store.list_records() == []


def test_redirect_to_another_port_of_a_public_host_is_refused() -> None:
    calls: list[str] = []

    def public(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        calls.append(f"{host}:{port}")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    import httpx

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.port in (None, 443):
            return httpx.Response(302, headers={"location": "https://api.example.org:6379/"})
        return httpx.Response(200, json=[{"x": 1}])

    client = SafeHttpClient(
        HttpPolicy.make(["api.example.org"]),
        resolver=public,
        transport=httpx.MockTransport(answer),
    )
    with pytest.raises(ToolError) as err:
        client.request("GET", "https://api.example.org/v1")
    assert err.value.code == "api-blocked-host"
    assert "6379" in err.value.message
    assert calls == ["api.example.org:443"]


# -- 7: "." and ".." are not path parameters ---------------------------------------------------
@pytest.mark.parametrize("name", ["..", ".", ""])
def test_dot_path_parameters_are_refused(
    kb: KnowledgeBase, servers: list[RawServer], name: str
) -> None:
    s = serve(servers, lambda c, _: send_json(c, b"[]"))
    add_openapi(kb.store, spec(s.port, "/files/{name}"), allowed_hosts=["127.0.0.1"])
    with pytest.raises(ToolError) as err:
        call_api(kb, "raw", "files", {"name": name})
    assert err.value.code == "api-bad-params"
    assert "'name'" in err.value.message
    assert s.requests == []
    ok = call_api(kb, "raw", "files", {"name": "a..b"}, remember=False)
    assert ok.rows == [] and s.requests == ["GET /files/a..b HTTP/1.1"]


# -- 8: absurd JSON is a clear error -----------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'[{"n": ' + b"7" * 5000 + b"}]",
        b'{"a":' * 200 + b"1" + b"}" * 200,
    ],
)
def test_absurd_json_is_a_clear_error(
    kb: KnowledgeBase, servers: list[RawServer], body: bytes
) -> None:
    s = serve(servers, lambda c, _: send_json(c, body))
    add_openapi(kb.store, spec(s.port, "/odd"), allowed_hosts=["127.0.0.1"])
    with pytest.raises(ToolError) as err:
        call_api(kb, "raw", "odd")
    assert err.value.code == "api-bad-json", err.value.message
    assert kb.store.list_records() == []


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("timeout", float("nan")),
        ("timeout", float("inf")),
        ("timeout", -1.0),
        ("max_bytes", -5),
        ("connect_timeout", float("nan")),
    ],
)
def test_bad_limits_are_clear_errors(
    kb: KnowledgeBase, servers: list[RawServer], option: str, value: float
) -> None:
    s = serve(servers, lambda c, _: send_json(c, b"[]"))
    add_openapi(kb.store, spec(s.port, "/x"), allowed_hosts=["127.0.0.1"])
    with pytest.raises(ToolError) as err:
        call_api(kb, "raw", "x", **{option: value})
    assert err.value.code == "api-bad-params"
    assert option.replace("_", " ").split()[-1] in err.value.message
    assert s.requests == []


# -- issue 14.3: the owner's approval is stored with the tool ----------------------------------
def test_a_literal_private_address_named_at_add_is_approved_for_every_path(
    kb: KnowledgeBase, servers: list[RawServer]
) -> None:
    s = serve(servers, lambda c, _: send_json(c, b'[{"year": 2001, "value": 3}]'))
    tool = add_openapi(kb.store, spec(s.port, "/series"), allowed_hosts=["127.0.0.1"])
    assert tool.private_hosts == (f"127.0.0.1:{s.port}",)
    assert get_api_tool(kb.store, "raw").private_hosts == (f"127.0.0.1:{s.port}",)
    assert call_api(kb, "raw", "series").rows == [{"year": 2001, "value": 3}]
    # the path voice, /api/voice and chat take (a command), with no flag
    cmd = Command(intent="call_api", api_operation="raw.series", api_params={})
    assert call_command(kb, cmd).rows == [{"year": 2001, "value": 3}]
    from cairn.pipeline.intents.api import call_api as act_on_call_api

    acted = act_on_call_api(kb, cmd)
    assert acted.kind == "records" and len(acted.records) == 1


def test_without_approval_private_hosts_stay_refused_and_the_message_names_the_flag(
    kb: KnowledgeBase, servers: list[RawServer]
) -> None:
    s = serve(servers, lambda c, _: send_json(c, b"[]"))
    doc = spec(s.port, "/series")
    add_openapi(kb.store, doc, allowed_hosts=["127.0.0.1"], allow_private=False)
    with pytest.raises(ToolError) as err:
        call_api(kb, "raw", "series")
    assert err.value.code == "api-blocked-host"
    assert "--allow-private" in err.value.message and "add-openapi" in err.value.message
    # a host name (not a literal address) is not approved by naming it
    add_openapi(
        kb.store,
        doc,
        allowed_hosts=["localhost"],
        base_url=f"http://localhost:{s.port}",
        name="named",
    )
    assert get_api_tool(kb.store, "named").private_hosts == ()
    with pytest.raises(ToolError) as err:
        call_api(kb, "named", "series")
    assert "--allow-private" in err.value.message
    # an explicit --allow-private approves the API's own host and port
    add_openapi(
        kb.store,
        doc,
        allowed_hosts=["localhost"],
        base_url=f"http://localhost:{s.port}",
        name="approved",
        allow_private=True,
    )
    assert get_api_tool(kb.store, "approved").private_hosts == (f"localhost:{s.port}",)
    assert s.requests == []
