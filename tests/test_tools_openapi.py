"""OpenAPI checking, parameter binding, rows from JSON, and the address policy (no network)."""

from __future__ import annotations

import copy
import ipaddress
import re
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

import cairn
from cairn.errors import NotFoundError
from cairn.graph.extract import CapitalisedExtractor
from cairn.models.embed import HashingEmbedder
from cairn.tools import ToolError, add_openapi, get_api_tool, load_document, parse_spec
from cairn.tools.http import HttpPolicy, SafeHttpClient, is_public
from cairn.tools.openapi import bind
from cairn.tools.registry import rows_from_json, snake

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Weather Service", "version": "1"},
    "servers": [
        {"url": "https://{region}.weather.example/v1", "variables": {"region": {"default": "eu"}}}
    ],
    "paths": {
        "/stations/{id}/readings": {
            "parameters": [{"name": "id", "in": "path", "schema": {"type": "integer"}}],
            "get": {
                "operationId": "listReadings",
                "summary": "Readings of a station",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    {
                        "name": "unit",
                        "in": "query",
                        "schema": {"$ref": "#/components/schemas/Unit"},
                    },
                    {"name": "daily", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                ],
            },
            "put": {"operationId": "replace"},
        },
        "/readings": {
            "post": {
                "operationId": "addReading",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Reading"}}
                    },
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Unit": {"type": "string", "enum": ["c", "f"]},
            "Reading": {
                "type": "object",
                "required": ["station", "celsius"],
                "properties": {
                    "station": {"type": "string"},
                    "celsius": {"type": "number"},
                    "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}


def spec(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(SPEC)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


# -- documents --------------------------------------------------------------------------------
def test_parse_the_supported_subset() -> None:
    api = parse_spec(SPEC)
    assert api.title == "Weather Service" and api.openapi == "3.0.3"
    assert api.base_url == "https://eu.weather.example/v1"
    assert set(api.operations) == {"listReadings", "addReading"}
    assert api.skipped == ("PUT /stations/{id}/readings",)
    get = api.operations["listReadings"]
    assert (get.method, get.summary) == ("GET", "Readings of a station")
    by_name = {p.name: p for p in get.params}
    assert set(by_name) == {"id", "limit", "unit", "daily"}  # the optional header is skipped
    assert by_name["id"].required and by_name["id"].location == "path"
    assert by_name["unit"].enum == ("c", "f")
    post = api.operations["addReading"]
    assert post.has_body and post.body_required
    assert {p.name: (p.type, p.required) for p in post.params} == {
        "station": ("string", True),
        "celsius": ("number", True),
        "note": ("string", False),
        "tags": ("array", False),
    }


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        (spec(openapi=None), "missing the 'openapi' field"),
        ({"swagger": "2.0", "paths": {}}, "Swagger 2.0 is not supported"),
        (spec(openapi="4.0.0"), "unsupported OpenAPI version '4.0.0'"),
        (spec(openapi="3.2"), "unsupported OpenAPI version"),
        (spec(paths=None), "missing 'paths'"),
        (spec(paths={}), "missing 'paths'"),
        (spec(servers=None), "missing 'servers'"),
        (spec(servers=[{"url": "/v1"}]), "not an absolute http(s) URL"),
        (spec(paths={"/a": {"get": {"summary": "no id"}}}), "GET /a has no operationId"),
        (
            spec(paths={"/a": {"get": {"operationId": "x"}}, "/b": {"post": {"operationId": "x"}}}),
            "operationId 'x' is used twice",
        ),
        (
            spec(
                paths={
                    "/a": {
                        "get": {
                            "operationId": "x",
                            "parameters": [{"name": "K", "in": "header", "required": True}],
                        }
                    }
                }
            ),
            "needs header parameter 'K'",
        ),
        (spec(paths={"/a/{id}": {"get": {"operationId": "x"}}}), "path parameter 'id'"),
        (
            spec(
                paths={
                    "/a": {"get": {"operationId": "x", "parameters": [{"$ref": "other.json#/p"}]}}
                }
            ),
            "is not local",
        ),
        (spec(paths={"/a": {"put": {"operationId": "x"}}}), "no GET or POST operation"),
    ],
)
def test_spec_errors_say_what_is_wrong(doc: dict[str, Any], words: str) -> None:
    with pytest.raises(ToolError) as err:
        parse_spec(doc)
    assert err.value.code == "api-bad-spec"
    assert words in err.value.message


def test_base_url_can_replace_missing_servers() -> None:
    assert parse_spec(spec(servers=None), base_url="http://h:8/api/").base_url == "http://h:8/api"


def test_load_json_and_yaml(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    (tmp_path / "a.json").write_text(__import__("json").dumps(SPEC))
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(SPEC))
    assert load_document(tmp_path / "a.json") == load_document(tmp_path / "a.yaml") == SPEC
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(ToolError, match="not valid JSON"):
        load_document(tmp_path / "bad.json")
    with pytest.raises(ToolError, match="cannot read"):
        load_document(tmp_path / "missing.json")


# -- parameters -------------------------------------------------------------------------------
def test_bind_converts_and_places_parameters() -> None:
    api = parse_spec(SPEC)
    call = bind(api.operations["listReadings"], {"id": "12", "limit": 5, "daily": "true"})
    assert call.path == "/stations/12/readings"
    assert call.query == {"limit": "5", "daily": "true"}
    assert call.body is None
    assert call.params == {"id": 12, "limit": 5, "daily": True}
    post = bind(api.operations["addReading"], {"station": "Kew", "celsius": "3", "tags": '["a"]'})
    assert post.body == {"station": "Kew", "celsius": 3, "tags": ["a"]}


@pytest.mark.parametrize(
    ("op", "params", "words"),
    [
        ("listReadings", {}, "missing required parameter 'id' (integer)"),
        ("listReadings", {"id": "twelve"}, "parameter 'id' expects integer, got 'twelve' (str)"),
        ("listReadings", {"id": 1.5}, "expects integer, got 1.5 (float)"),
        ("listReadings", {"id": True}, "expects integer, got True (bool)"),
        ("listReadings", {"id": 1, "daily": "maybe"}, "'daily' expects boolean, got 'maybe'"),
        ("listReadings", {"id": 1, "unit": "k"}, "'unit' must be one of 'c', 'f', got 'k'"),
        ("listReadings", {"id": 1, "colour": "red"}, "unknown parameter 'colour'"),
        ("addReading", {"station": "Kew"}, "missing required parameter 'celsius' (number)"),
        ("addReading", {"station": "K", "celsius": "warm"}, "'celsius' expects number"),
        ("addReading", {"station": "K", "celsius": "nan"}, "'celsius' expects number"),
        ("addReading", {"station": ["K"], "celsius": 1}, "'station' expects string, got ['K']"),
        ("addReading", {"station": "K", "celsius": 1, "tags": "x"}, "'tags' expects array"),
    ],
)
def test_bind_errors_name_parameter_type_and_value(
    op: str, params: dict[str, Any], words: str
) -> None:
    with pytest.raises(ToolError) as err:
        bind(parse_spec(SPEC).operations[op], params)
    assert err.value.code == "api-bad-params"
    assert words in err.value.message, err.value.message
    assert err.value.message.startswith(op)


# -- results ----------------------------------------------------------------------------------
def test_rows_from_json() -> None:
    rows = [{"year": 2000, "value": 1}]
    assert rows_from_json(rows) == rows
    assert rows_from_json({"meta": {"n": 1}, "results": rows}) == rows
    assert rows_from_json({"page": {"items": rows}, "tags": ["a"]}) == rows
    assert rows_from_json({"a": 1, "b": [1, 2]}) == [{"a": 1, "b": [1, 2]}]
    assert rows_from_json([1, "x"]) == [{"value": 1}, {"value": "x"}]
    assert rows_from_json(3) == [{"value": 3}]


def test_snake_names() -> None:
    assert snake("listReadings") == "list_readings"
    assert snake("List-Series") == "list_series"
    assert snake("Test Stats") == "test_stats"


# -- the catalogue ----------------------------------------------------------------------------
def test_add_openapi_stores_and_checks_hosts(tmp_path: Path) -> None:
    kb = cairn.open(
        tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    )
    try:
        with pytest.raises(ToolError, match=re.escape("add --allow-host eu.weather.example")):
            add_openapi(kb.store, SPEC, allowed_hosts=["other.example"])
        with pytest.raises(ToolError, match="at least one allowed host"):
            add_openapi(kb.store, SPEC, allowed_hosts=[" "])
        with pytest.raises(ToolError, match="tool name 'Bad Name'"):
            add_openapi(kb.store, SPEC, allowed_hosts=["eu.weather.example"], name="Bad Name")
        tool = add_openapi(kb.store, SPEC, allowed_hosts=["EU.weather.example."])
        assert tool.name == "weather_service"
        assert tool.allowed_hosts == ("eu.weather.example",)
        again = get_api_tool(kb.store, "weather_service")
        assert again.spec == tool.spec
        assert again.operation("list_readings").operation_id == "listReadings"
        with pytest.raises(ToolError) as err:
            again.operation("nothing")
        assert err.value.code == "api-unknown-operation"
        assert "addReading, listReadings" in err.value.message
        with pytest.raises(NotFoundError, match="known: weather_service"):
            get_api_tool(kb.store, "nope")
    finally:
        kb.close()


# -- the address policy -----------------------------------------------------------------------
def _resolver(*addresses: str) -> Any:
    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        out = []
        for a in addresses:
            family = socket.AF_INET6 if ":" in a else socket.AF_INET
            out.append((family, socket.SOCK_STREAM, 6, "", (a, port)))
        return out

    return resolve


@pytest.mark.parametrize(
    "address",
    ["10.1.2.3", "192.168.0.1", "127.0.0.1", "169.254.169.254", "224.0.0.1", "0.0.0.0", "::1",
     "fe80::1", "fd00::1", "::ffff:10.0.0.1", "100.64.0.1", "ff02::1"],
)  # fmt: skip
def test_non_public_addresses_are_blocked(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    client = SafeHttpClient(HttpPolicy.make(["api.example"]), resolver=_resolver(address))
    with pytest.raises(ToolError) as err:
        client.check(httpx.URL("https://api.example/x"))
    assert err.value.code == "api-blocked-host"
    assert address.split("::ffff:")[-1] in err.value.message or address in err.value.message


def test_every_resolved_address_is_checked() -> None:
    client = SafeHttpClient(
        HttpPolicy.make(["api.example"]), resolver=_resolver("93.184.216.34", "10.0.0.7")
    )
    with pytest.raises(ToolError, match=re.escape("10.0.0.7")):
        client.check(httpx.URL("https://api.example/"))
    ok = SafeHttpClient(HttpPolicy.make(["api.example"]), resolver=_resolver("93.184.216.34"))
    assert str(ok.check(httpx.URL("https://API.example./"))) == "93.184.216.34"


def test_private_allowances_and_other_refusals() -> None:
    loop = _resolver("127.0.0.1")
    for allow in (True, {"api.example"}, {"api.example:8080"}):
        c = SafeHttpClient(HttpPolicy.make(["api.example"], allow_private=allow), resolver=loop)
        assert str(c.check(httpx.URL("http://api.example:8080/"))) == "127.0.0.1"
    c = SafeHttpClient(
        HttpPolicy.make(["api.example"], allow_private={"api.example:9"}), resolver=loop
    )
    with pytest.raises(ToolError, match=re.escape("resolves to 127.0.0.1")):
        c.check(httpx.URL("http://api.example:8080/"))
    with pytest.raises(ToolError, match="only http and https"):
        c.check(httpx.URL("ftp://api.example/"))
    with pytest.raises(ToolError, match="not an allowed host"):
        c.check(httpx.URL("http://evil.example/"))

    def broken(*_: Any, **__: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror("no such host")

    c = SafeHttpClient(HttpPolicy.make(["api.example"]), resolver=broken)
    with pytest.raises(ToolError) as err:
        c.check(httpx.URL("http://api.example/"))
    assert err.value.code == "api-connect-error"
