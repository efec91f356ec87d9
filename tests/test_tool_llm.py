"""The schema-constrained tool-call engine: the grammar's schema, the prompt, and validation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cairn.command.operations import OperationDoc, from_api_tool, from_function_doc
from cairn.command.tool_llm import (
    NO_CALL,
    ToolCallEngine,
    ToolLLMError,
    reply_schema,
    system_prompt,
    validate,
)
from cairn.models.llm import FakeLLM, LLMError
from cairn.tools.openapi import parse_spec
from cairn.tools.registry import ApiTool

# A made-up library API: an enum, an integer, a boolean, a list, required and optional.
LIBRARY = {
    "openapi": "3.0.3",
    "info": {"title": "Library", "version": "1"},
    "servers": [{"url": "http://127.0.0.1:9000"}],
    "paths": {
        "/loans": {
            "get": {
                "operationId": "listLoans",
                "summary": "Books a member has on loan",
                "parameters": [
                    {"name": "member", "in": "query", "required": True,
                     "schema": {"type": "integer"}, "description": "Member number"},
                    {"name": "overdue", "in": "query", "schema": {"type": "boolean"}},
                ],
            }
        },
        "/books": {
            "get": {
                "operationId": "findBooks",
                "summary": "Search the catalogue",
                "parameters": [
                    {"name": "title", "in": "query", "required": True,
                     "schema": {"type": "string"}},
                    {"name": "format", "in": "query",
                     "schema": {"type": "string", "enum": ["print", "ebook", "audio"]}},
                    {"name": "tags", "in": "query",
                     "schema": {"type": "array", "items": {"type": "string"}}},
                ],
            }
        },
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def ops() -> list[OperationDoc]:
    return from_api_tool(ApiTool("library", parse_spec(LIBRARY), ("127.0.0.1",)))


def _reply(name: str, **arguments: Any) -> str:
    return json.dumps({"name": name, "arguments": arguments})


def test_the_schema_has_one_typed_alternative_per_candidate_and_a_no_call(
    ops: list[OperationDoc],
) -> None:
    schema = reply_schema(ops)
    alts = schema["oneOf"]
    assert [a["properties"]["name"] for a in alts] == [
        {"const": "library.listLoans"},
        {"const": "library.findBooks"},
        {"const": NO_CALL},
    ]
    loans = alts[0]["properties"]["arguments"]
    assert loans["required"] == ["member"]
    assert loans["properties"] == {"member": {"type": "integer"}, "overdue": {"type": "boolean"}}
    assert loans["additionalProperties"] is False
    books = alts[1]["properties"]["arguments"]["properties"]
    assert books["format"] == {"enum": ["print", "ebook", "audio"], "type": "string"}
    assert books["tags"] == {"type": "array"}  # OpenAPI parameters here carry no item type
    assert alts[2]["required"] == ["name"] and "arguments" not in alts[2]["properties"]


def test_the_schema_compiles_to_a_llama_cpp_grammar(ops: list[OperationDoc]) -> None:
    llama_cpp = pytest.importorskip("llama_cpp", reason="the llm extra is not installed")
    grammar = llama_cpp.LlamaGrammar.from_json_schema(json.dumps(reply_schema(ops)), verbose=False)
    assert grammar is not None


def test_a_good_reply_is_a_typed_call(ops: list[OperationDoc]) -> None:
    got = validate(_reply("library.findBooks", title="Dune", format="ebook", tags=["sf"]), ops)
    assert got.is_call and got.op is ops[1]
    assert got.arguments == {"title": "Dune", "format": "ebook", "tags": ["sf"]}
    none = validate(json.dumps({"name": "none"}), ops)
    assert none.is_no_call and not none.is_call


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (_reply("library.renewLoan", id=3), "not a candidate"),
        (_reply("library.listLoans", overdue=True), "needs member"),
        (_reply("library.findBooks", title="Dune", format="vinyl"), "not one of"),
        (_reply("library.listLoans", member="seven"), "should be integer"),
        (_reply("library.listLoans", member=True), "should be integer"),
        (_reply("library.listLoans", member=7, colour="red"), "no parameter 'colour'"),
        ('{"name": "library.listLoans", "arguments": [7]}', "not an object"),
        ("I think you want the loans list", "did not reply with a JSON object"),
        ("[1, 2]", "did not reply with a JSON object"),
    ],
)
def test_a_bad_reply_is_never_a_call(ops: list[OperationDoc], raw: str, problem: str) -> None:
    got = validate(raw, ops)
    assert not got.is_call and not got.is_no_call
    assert problem in got.problem


def test_list_items_are_typed_when_the_schema_types_them() -> None:
    op = from_function_doc(
        {
            "name": "tag_books",
            "parameters": {
                "type": "object",
                "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
                "required": ["tags"],
            },
        }
    )
    args = reply_schema([op])["oneOf"][0]["properties"]["arguments"]
    assert args["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert validate(_reply("tag_books", tags=["sf", "classic"]), [op]).is_call
    assert "should hold string" in validate(_reply("tag_books", tags=[1, 2]), [op]).problem


def test_missing_required_names_the_parameter(ops: list[OperationDoc]) -> None:
    got = validate(_reply("library.listLoans"), ops)
    assert got.missing == "member" and got.op is ops[0]


def test_the_prompt_keeps_the_tools_as_a_stable_prefix(ops: list[OperationDoc]) -> None:
    llm = FakeLLM(_reply("library.listLoans", member=7))
    engine = ToolCallEngine(llm)
    first = engine.choose("what has member 7 borrowed", ops)
    engine.choose("show loans of member 12", ops)
    assert first.is_call and first.arguments == {"member": 7}
    (m1, schema1), (m2, schema2) = llm.calls
    assert m1[0] == m2[0] and m1[0]["content"] == system_prompt(ops)  # same system message
    assert "<tools>" in m1[0]["content"] and "library.findBooks" in m1[0]["content"]
    assert m1[1] == {"role": "user", "content": "what has member 7 borrowed"}
    assert schema1 == schema2 == reply_schema(ops)


def test_unusable_operations_are_not_offered(ops: list[OperationDoc]) -> None:
    broken = OperationDoc(tool="library", name="upload", unusable="needs a file")
    llm = FakeLLM(json.dumps({"name": "none"}))
    ToolCallEngine(llm).choose("upload my scan", [*ops, broken])
    assert "library.upload" not in llm.calls[0][0][0]["content"]
    assert ToolCallEngine(llm).choose("upload", [broken]).is_no_call  # nothing to offer


def test_a_model_failure_is_a_problem_not_an_exception(ops: list[OperationDoc]) -> None:
    llm = FakeLLM([LLMError("llm-timeout", "no answer within 20 s")])
    got = ToolCallEngine(llm).choose("loans of member 7", ops)
    assert not got.is_call and "no answer within 20 s" in got.problem
    with pytest.raises(ToolLLMError):
        ToolCallEngine(llm, max_candidates=0)
