"""Chat over HTTP cannot be made to burn CPU: the number of messages and the conversation's
length are capped (a clear 400/413 naming the limit), and resolving a follow-up reads a bounded
window of earlier turns, so the work grows linearly with the conversation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cairn.server import openai_api
from test_server_api import Env, assert_error, make_env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def _chat(env: Env, messages: list[dict[str, Any]]) -> Any:
    return env.client.post("/v1/chat/completions", json={"model": "cairn", "messages": messages})


def test_too_many_messages_is_a_400_naming_the_limit(env: Env) -> None:
    n = openai_api.MAX_CHAT_MESSAGES + 1
    msgs = [{"role": "user", "content": "and what about it?"}] * n
    err = assert_error(_chat(env, msgs), 400, "too-many-messages")
    assert str(openai_api.MAX_CHAT_MESSAGES) in err["message"]
    # the adversarial case: 10,000 messages answer at once, with the same error
    assert_error(_chat(env, msgs * 30), 400, "too-many-messages")


def test_too_long_conversation_is_a_413_naming_the_limit(env: Env) -> None:
    size = openai_api.MAX_CHAT_CHARS // 4 + 10
    msgs = [{"role": "user", "content": "x" * size}] * 4
    err = assert_error(_chat(env, msgs), 413, "conversation-too-long")
    assert f"{openai_api.MAX_CHAT_CHARS:,}" in err["message"]
    parts = [{"type": "text", "text": "y" * size}] * 4
    assert_error(_chat(env, [{"role": "user", "content": parts}]), 413, "conversation-too-long")


def test_follow_up_work_is_bounded_by_a_window(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = openai_api.rewrite

    def counting(text: str, *args: Any) -> str:
        calls.append(len(args[0] or ""))
        return real(text, *args)

    monkeypatch.setattr(openai_api, "rewrite", counting)
    first = {"role": "user", "content": "When was the lighthouse built?"}
    msgs = [first] + [{"role": "user", "content": "and what about it?"}] * (
        openai_api.MAX_CHAT_MESSAGES - 1
    )
    r = _chat(env, msgs)
    assert r.status_code == 200, r.text
    assert len(calls) <= openai_api.FOLLOWUP_WINDOW + 1
    # and the query carried from turn to turn stays short
    assert max(calls) < 2_000
    # a short conversation still resolves against its first question
    calls.clear()
    r = _chat(env, [first, {"role": "user", "content": "Who built it?"}])
    assert "lighthouse" in r.json()["cairn"]["query"].lower()
