"""The Command model and its published JSON schema."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

import cairn.command
from cairn.command import INTENTS, SLOT_NAMES, Command, command_schema


def test_exported_names() -> None:
    assert sorted(cairn.command.__all__) == sorted(
        [
            "INTENTS",
            "SLOT_NAMES",
            "Command",
            "CompletionModel",
            "UnderstandError",
            "command_schema",
            "looks_non_english",
            "normalise",
            "parse",
            "understand",
        ]
    )


def test_schema_lists_every_intent_and_slot() -> None:
    schema = command_schema()
    assert schema == Command.model_json_schema()
    json.dumps(schema)  # serialisable as is
    props = schema["properties"]
    assert props["intent"]["enum"] == list(INTENTS)
    assert set(INTENTS) == {
        "search",
        "ask",
        "synthesize",
        "call_api",
        "chart",
        "remember",
        "list_sources",
        "forget",
        "help",
        "clarify",
        "out_of_scope",
    }
    assert set(SLOT_NAMES) | {"intent", "clarification", "confidence", "engine"} == set(props)
    assert schema["required"] == ["intent"]
    assert schema["additionalProperties"] is False
    kinds = next(a for a in props["chart_kind"]["anyOf"] if "enum" in a)["enum"]
    assert kinds == ["bar", "line", "pie", "scatter"]
    assert props["engine"]["enum"] == ["grammar", "llm"]


@pytest.mark.parametrize("value", ["2019", "1066", "2019-03", "2019-03-14"])
def test_iso_dates_accepted(value: str) -> None:
    assert Command(intent="search", query="x", date_from=value).date_from == value


@pytest.mark.parametrize("value", ["last year", "19", "2019-13", "2019/03/01", "March 2019"])
def test_non_iso_dates_rejected(value: str) -> None:
    with pytest.raises(ValidationError):
        Command(intent="search", query="x", date_from=value)


def test_dates_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="after"):
        Command(intent="search", query="x", date_from="2020", date_to="2010")
    assert (
        Command(intent="search", query="x", date_from="2010-05", date_to="2010").date_to == "2010"
    )


def test_unknown_fields_and_intents_rejected() -> None:
    with pytest.raises(ValidationError):
        Command.model_validate({"intent": "search", "query": "x", "mood": "happy"})
    with pytest.raises(ValidationError):
        Command.model_validate({"intent": "dance"})
    with pytest.raises(ValidationError):
        Command.model_validate({"intent": "ask", "confidence": 1.5})


def test_api_params_keep_scalar_types() -> None:
    c = Command(intent="call_api", api_operation="stocks", api_params={"q": "nvda", "days": 5})
    assert c.api_params == {"q": "nvda", "days": 5}
    with pytest.raises(ValidationError):
        Command.model_validate({"intent": "call_api", "api_params": {"q": ["a", "b"]}})


def test_slots_are_the_non_empty_meaningful_fields() -> None:
    c = Command(intent="search", query="  solar   panels ", licenses=["MIT"], clarification="")
    assert c.query == "solar panels"
    assert c.clarification is None
    assert c.slots() == {"query": "solar panels", "licenses": ["MIT"]}
    assert Command(intent="help").slots() == {}
