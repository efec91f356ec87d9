"""LLM backends: the OpenAI-compatible client against a REAL loopback HTTP server, the fake,
load_llm, and the llama.cpp backend's missing-package error."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cairn.errors import ModelError
from cairn.models import llm as llm_mod
from cairn.models.llm import (
    FakeLLM,
    LlamaCppLLM,
    LLMError,
    OpenAICompatibleLLM,
    load_llm,
    parse_json_reply,
)


def completion(content: str) -> str:
    """An OpenAI chat-completion body whose message is ``content``."""
    return json.dumps(
        {
            "id": "cmpl-1",
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}},
            ],
        }
    )


@dataclass
class Route:
    status: int = 200
    body: str = ""
    delay: float = 0.0


@dataclass
class CannedServer:
    """A real HTTP server on 127.0.0.1: ``routes[model]`` answers requests for that model."""

    url: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)


def start_canned_server() -> tuple[CannedServer, ThreadingHTTPServer, threading.Thread]:
    state = CannedServer("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.loads(raw)
            state.requests.append({"path": self.path, "body": body})
            if self.path != "/v1/chat/completions":
                route = Route(404, '{"error": "not found"}')
            else:
                route = state.routes.get(body.get("model", ""), Route(404, "no such model"))
            time.sleep(route.delay)
            data = route.body.encode()
            try:
                self.send_response(route.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (timeout test)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    return state, server, thread


@pytest.fixture(scope="module")
def canned() -> Iterator[CannedServer]:
    state, server, thread = start_canned_server()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}


def test_openai_compatible_roundtrip(canned: CannedServer) -> None:
    canned.routes["ok"] = Route(body=completion('{"a": 1}'))
    llm = OpenAICompatibleLLM(canned.url + "/", "ok", api_key="k", timeout=5)
    messages = [{"role": "user", "content": "hi"}]
    assert llm.complete_json(messages, json_schema=SCHEMA) == {"a": 1}
    sent = canned.requests[-1]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "ok" and sent["body"]["messages"] == messages
    rf = sent["body"]["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["schema"] == SCHEMA
    assert sent["body"]["temperature"] == 0.0
    assert llm.complete(messages) == '{"a": 1}'
    assert "response_format" not in canned.requests[-1]["body"]


@pytest.mark.parametrize(
    ("route", "code"),
    [
        (Route(500, '{"error": "boom"}'), "llm-http"),
        (Route(200, "<html>not json</html>"), "llm-garbage"),
        (Route(200, '{"choices": []}'), "llm-garbage"),
        (Route(200, completion("I think the answer is 1874.")), "llm-garbage"),
        (Route(200, completion('{"a": 1}'), delay=1.0), "llm-timeout"),
    ],
)
def test_openai_compatible_errors(canned: CannedServer, route: Route, code: str) -> None:
    canned.routes[code + str(route.status) + route.body[:5]] = route
    llm = OpenAICompatibleLLM(canned.url, code + str(route.status) + route.body[:5], timeout=0.3)
    with pytest.raises(LLMError) as err:
        llm.complete_json([{"role": "user", "content": "q"}], json_schema=SCHEMA)
    assert err.value.code == code
    assert err.value.message


def test_unreachable_endpoint() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    llm = OpenAICompatibleLLM(f"http://127.0.0.1:{port}/v1", "m", timeout=2)
    with pytest.raises(LLMError) as err:
        llm.complete([{"role": "user", "content": "q"}])
    assert err.value.code == "llm-unreachable"
    assert f"127.0.0.1:{port}" in err.value.message


def test_parse_json_reply_tolerates_fences() -> None:
    assert parse_json_reply('```json\n{"a": 2}\n```') == {"a": 2}
    with pytest.raises(LLMError, match="did not reply with JSON"):
        parse_json_reply("no json here")


def test_fake_llm_replies_in_turn() -> None:
    fake = FakeLLM(["one", lambda m: m[-1]["content"].upper(), LLMError("llm-timeout", "slow")])
    msgs = [{"role": "user", "content": "hey"}]
    assert fake.complete(msgs) == "one"
    assert fake.complete(msgs) == "HEY"
    with pytest.raises(LLMError):
        fake.complete(msgs)
    with pytest.raises(LLMError):  # the last response repeats
        fake.complete(msgs)
    assert len(fake.calls) == 4


def test_load_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAIRN_LLM_MODEL", "qwen")
    remote = load_llm("http://127.0.0.1:9/v1")
    assert isinstance(remote, OpenAICompatibleLLM)
    assert remote.model == "qwen" and remote.base_url == "http://127.0.0.1:9/v1"
    monkeypatch.delenv("CAIRN_LLM_MODEL")
    other = load_llm("https://example.invalid/v1/chat/completions")
    assert isinstance(other, OpenAICompatibleLLM)
    assert other.model == "default" and other.base_url == "https://example.invalid/v1"
    assert isinstance(load_llm("local"), LlamaCppLLM)
    assert isinstance(load_llm("/models/x.gguf"), LlamaCppLLM)
    with pytest.raises(ModelError, match="unknown LLM"):
        load_llm("gpt-9")


def test_load_llm_timeout_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_llm("http://127.0.0.1:9/v1").timeout == 20.0
    monkeypatch.setenv("CAIRN_LLM_TIMEOUT", "90")
    assert load_llm("http://127.0.0.1:9/v1").timeout == 90.0
    assert load_llm("http://127.0.0.1:9/v1", timeout=5).timeout == 5
    for bad in ("soon", "0", "-3", "1e9"):
        monkeypatch.setenv("CAIRN_LLM_TIMEOUT", bad)
        with pytest.raises(ModelError, match="CAIRN_LLM_TIMEOUT"):
            load_llm("http://127.0.0.1:9/v1")


def test_llama_cpp_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = llm_mod.importlib.import_module

    def no_llama(name: str, package: str | None = None) -> Any:
        if name == "llama_cpp":
            raise ImportError("No module named 'llama_cpp'")
        return real(name, package)

    monkeypatch.setattr(llm_mod.importlib, "import_module", no_llama)
    local = LlamaCppLLM()
    with pytest.raises(ModelError) as err:
        local.warm_up()
    assert err.value.code == "missing-package"
    assert "pip install 'cairn[llm]'" in err.value.message
    with pytest.raises(ModelError):
        local.complete([{"role": "user", "content": "q"}])
