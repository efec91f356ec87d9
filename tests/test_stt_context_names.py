"""The names parameter descriptions give enum values, as words to prime speech-to-text with."""

from __future__ import annotations

from cairn.command.operations import tool_value_names
from cairn.tools.openapi import parse_spec
from cairn.tools.registry import ApiTool

COMPANY = "The company, one of Initech=INTC, Globex=GLBX, Acme Corp=ACME."
QUOTES = {
    "openapi": "3.0.3",
    "info": {"title": "Quotes", "version": "1"},
    "paths": {
        "/prices": {
            "get": {
                "operationId": "getSharePrices",
                "parameters": [
                    {
                        "name": "company",
                        "in": "query",
                        "required": True,
                        "description": COMPANY,
                        "schema": {"type": "string", "enum": ["INTC", "GLBX", "ACME"]},
                    },
                    {
                        "name": "side",
                        "in": "query",
                        "description": "bid or ask",
                        "schema": {"type": "string", "enum": ["bid", "ask"]},
                    },
                ],
            }
        }
    },
}


def test_value_names_in_the_description_spelling() -> None:
    tool = ApiTool("quotes", parse_spec(QUOTES, base_url="http://127.0.0.1:1"), ("127.0.0.1",))
    names = tool_value_names([tool])
    assert {"Initech", "Globex", "Acme Corp"} <= set(names)
    assert not {"INTC", "GLBX", "bid", "ask"} & set(names)  # codes and plain values are not
    assert tool_value_names([]) == []
