"""understand(): grammar first, a constrained LLM second, clarify rather than guess."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cairn.command import Command, CompletionModel, UnderstandError, understand
from cairn.command.understand import MAX_REQUEST_CHARS, NOT_UNDERSTOOD, ONLY_ENGLISH
from cairn.errors import CairnError
from cairn.models.llm import FakeLLM, LLMError

UNMATCHED = "the quick brown fox jumps over the lazy dog"


class RecordingLLM:
    """Implements only the protocol's method, to show nothing else is needed."""

    def __init__(self, reply: str | Exception) -> None:
        self.reply = reply
        self.calls: list[tuple[list[dict[str, str]], dict[str, Any] | None]] = []

    def complete(
        self, messages: list[dict[str, str]], *, json_schema: dict[str, Any] | None = None
    ) -> str:
        self.calls.append((messages, json_schema))
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


def test_protocol_fits_the_real_llm_classes() -> None:
    model: CompletionModel = FakeLLM("{}")  # checked by mypy
    assert hasattr(model, "complete")


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_request_is_an_error(text: str) -> None:
    with pytest.raises(UnderstandError) as info:
        understand(text)
    assert info.value.code == "empty-request"
    assert isinstance(info.value, CairnError)


def test_too_long_request_is_an_error() -> None:
    with pytest.raises(UnderstandError) as info:
        understand("search for " + "x" * MAX_REQUEST_CHARS)
    assert info.value.code == "request-too-long"


@pytest.mark.parametrize(
    "text", ["¿Qué dicen mis notas sobre las mareas?", "Zeige meine Quellen über Gezeiten", "潮汐"]
)
def test_non_english_is_out_of_scope(text: str) -> None:
    llm = RecordingLLM("{}")
    command = understand(text, llm=llm)
    assert command.intent == "out_of_scope"
    assert command.clarification == ONLY_ENGLISH
    assert llm.calls == []


def test_grammar_answers_first() -> None:
    llm = RecordingLLM(json.dumps({"intent": "help"}))
    command = understand("search for kelp since 2019", llm=llm)
    assert (command.intent, command.query, command.date_from) == ("search", "kelp", "2019")
    assert command.engine == "grammar"
    assert llm.calls == []


def test_no_match_without_llm_asks_back() -> None:
    command = understand(UNMATCHED)
    assert command.intent == "clarify"
    assert command.clarification == NOT_UNDERSTOOD
    assert command.confidence == 0.0


def test_llm_fills_in_under_the_schema() -> None:
    reply = json.dumps({"intent": "search", "query": "foxes and dogs", "date_from": "2019"})
    llm = RecordingLLM("Sure! Here it is:\n" + reply)
    command = understand(UNMATCHED, llm=llm)
    assert command == Command(
        intent="search", query="foxes and dogs", date_from="2019", engine="llm", confidence=0.6
    )
    (messages, schema), *_ = llm.calls
    assert schema == Command.model_json_schema()
    assert messages[0]["role"] == "system" and "clarify" in messages[0]["content"]
    assert UNMATCHED in messages[-1]["content"]


def test_llm_works_through_the_real_fake() -> None:
    fake = FakeLLM(json.dumps({"intent": "ask", "query": "why do foxes jump", "confidence": 0.7}))
    command = understand(UNMATCHED, llm=fake)
    assert (command.intent, command.engine, command.confidence) == ("ask", "llm", 0.7)
    assert fake.calls[0][1] == Command.model_json_schema()


@pytest.mark.parametrize(
    "reply",
    [
        "not json at all",
        "{broken json",
        "[1, 2, 3]",
        json.dumps({"intent": "dance"}),
        json.dumps({"intent": "search", "query": "x", "date_from": "last year"}),
        json.dumps({"intent": "search", "query": "x", "mood": "happy"}),
        json.dumps({"intent": "search"}),
        json.dumps({"intent": "chart", "query": ""}),
    ],
)
def test_invalid_llm_reply_becomes_clarify(reply: str) -> None:
    command = understand(UNMATCHED, llm=RecordingLLM(reply))
    assert command.intent == "clarify"
    assert command.engine == "llm"
    assert command.clarification and command.clarification.startswith(NOT_UNDERSTOOD)


def test_llm_forget_without_a_source_asks_which() -> None:
    command = understand(UNMATCHED, llm=RecordingLLM(json.dumps({"intent": "forget"})))
    assert command.intent == "clarify"
    assert "Which source" in (command.clarification or "")


def test_llm_failure_becomes_clarify_with_the_reason() -> None:
    llm = RecordingLLM(LLMError("llm-unreachable", "cannot reach http://127.0.0.1:9"))
    command = understand(UNMATCHED, llm=llm)
    assert command.intent == "clarify"
    assert "cannot reach" in (command.clarification or "")


def test_engine_is_always_set_by_us() -> None:
    reply = json.dumps({"intent": "help", "engine": "grammar"})
    assert understand(UNMATCHED, llm=RecordingLLM(reply)).engine == "llm"
