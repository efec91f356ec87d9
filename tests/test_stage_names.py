"""Stage names come from one place, ``cairn.events.Stage``: the pipeline, the CLI and the
server use the enum, and the web UI's ``STAGE`` constant in ``app.js`` holds the same names."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from cairn.events import Stage
from cairn.pipeline import STAGES

SRC = Path(__file__).resolve().parents[1] / "src" / "cairn"
APP_JS = SRC / "server" / "static" / "app.js"


def _js_stage_constant() -> dict[str, str]:
    text = APP_JS.read_text(encoding="utf-8")
    m = re.search(r"const STAGE = Object\.freeze\(\{(.*?)\}\);", text, flags=re.DOTALL)
    assert m, "app.js has no `const STAGE = Object.freeze({...});`"
    return dict(re.findall(r'(\w+):\s*"([^"]+)"', m.group(1)))


def test_the_web_ui_names_the_same_stages_in_the_same_order() -> None:
    assert list(_js_stage_constant().items()) == [(s.name, s.value) for s in Stage]


def test_the_web_ui_compares_stages_only_through_the_constant() -> None:
    text = APP_JS.read_text(encoding="utf-8")
    literal = re.findall(r'\.stage\s*[!=]==?\s*"[^"]*"', text)
    assert not literal, f"use STAGE.<name> in app.js: {literal}"


def test_the_pipeline_runs_the_enum_in_order() -> None:
    assert (
        STAGES
        == tuple(Stage)
        == (
            "stt",
            "understand",
            "act",
            "answer",
            "chart",
            "speak",
            "remember",
        )
    )


def test_python_compares_stages_through_the_enum() -> None:
    """No ``stage == "stt"`` or ``stage="stt"`` with a bare stage name in the pipeline, the CLI
    or the server."""
    names = {s.value for s in Stage}
    found = []
    for path in [
        *(SRC / "pipeline").rglob("*.py"),
        *(SRC / "cli").glob("*.py"),
        *(SRC / "server").glob("*.py"),
    ]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Compare)
                and isinstance(node.left, ast.Attribute)
                and node.left.attr == "stage"
            ):
                found += [
                    f"{path.name}:{node.lineno}"
                    for c in node.comparators
                    if isinstance(c, ast.Constant) and c.value in names
                ]
            if (
                isinstance(node, ast.keyword)
                and node.arg == "stage"
                and isinstance(node.value, ast.Constant)
                and node.value.value in names
            ):
                found.append(f"{path.name}:{node.lineno}")
    assert not found, f"use cairn.events.Stage: {found}"
