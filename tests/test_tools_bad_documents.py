"""Bad OpenAPI documents at `cairn tools add-openapi`: a clear one-line error or a clear note
line, never a crash, and nothing stored by a refused document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from cairn.cli import app


def _get(op_id: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {"get": {"operationId": op_id, "summary": op_id, "parameters": params,
                    "responses": {"200": {"description": "ok"}}}}  # fmt: skip


def _doc(paths: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Bad", "version": "1"},
        "servers": [{"url": "https://api.example.org"}],
        "paths": paths,
    }


def _add(tmp_path: Path, doc: dict[str, Any]) -> Any:
    spec = tmp_path / "api.json"
    spec.write_text(json.dumps(doc))
    kb = str(tmp_path / "kb.sqlite")
    return CliRunner().invoke(
        app, ["tools", "add-openapi", str(spec), "--allow-host", "api.example.org", "--kb", kb]
    ), kb


def test_duplicate_operation_ids_are_one_line_and_store_nothing(tmp_path: Path) -> None:
    r, kb = _add(tmp_path, _doc({"/a": _get("same", []), "/b": _get("same", [])}))
    assert r.exit_code != 0
    assert "operationId 'same' is used twice" in r.output
    assert "Traceback" not in r.output
    listed = CliRunner().invoke(app, ["tools", "list", "--kb", kb])
    assert "bad" not in listed.output.lower().split("no tools yet")[-1]


def test_unusable_operations_and_huge_enums_get_a_note_line(tmp_path: Path) -> None:
    values = [f"V{i:05d}" for i in range(10_000)]
    body = {
        "post": {
            "operationId": "createOrder",
            "summary": "Create an order",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["items"],
                            "properties": {"items": {"type": "array", "items": {"type": "object"}}},
                        }
                    }
                },
            },
            "responses": {"200": {"description": "ok"}},
        }
    }
    paths = {
        "/orders": body,
        "/codes": _get(
            "lookupCode",
            [
                {
                    "name": "code",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "enum": values},
                }
            ],
        ),
    }
    paths.update({f"/r{i}": _get(f"getResource{i}", []) for i in range(498)})
    r, _kb = _add(tmp_path, _doc(paths))
    assert r.exit_code == 0, r.output
    assert "(500 operations" in r.output
    assert "not usable from requests: createOrder: required parameter 'items'" in r.output
    assert "lookupCode.code: an enum of 10000 values" in r.output
