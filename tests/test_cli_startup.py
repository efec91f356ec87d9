"""`cairn --help` stays fast: the CLI imports no heavy module until a command needs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

from typer.testing import CliRunner

from cairn import __version__
from cairn.cli import app
from cairn.cli.help_style import metavar_for, one_line_paragraphs

HEAVY = (
    "numpy",
    "spacy",
    "onnxruntime",
    "fastapi",
    "httpx",
    "matplotlib",
    "faster_whisper",
    "pypdf",
    "cairn.knowledge",
    "cairn.kb",
    "cairn.search",
    "cairn.models",
    "cairn.ingest",
    "cairn.answer",
    "typer.rich_utils",
)


def _modules_after(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)},
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_imports_no_heavy_module() -> None:
    loaded = _modules_after("import cairn.cli")
    heavy = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []
    assert "cairn.cli.kb_commands" in loaded  # the check looked at the real CLI


def test_help_imports_no_heavy_module() -> None:
    loaded = _modules_after(
        "import contextlib, io\nfrom cairn.cli import app\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    app(['--help'], standalone_mode=False)"
    )
    heavy = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY[:-1])]
    assert heavy == []
    assert "typer.rich_utils" in loaded  # help was really rendered


def test_cairn_open_still_works_lazily() -> None:
    import cairn

    assert (cairn.open.__module__, cairn.open.__name__) == ("cairn.compose", "open")
    assert cairn.KnowledgeBase.__name__ == "KnowledgeBase"


def test_version_and_short_help() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"cairn {__version__}"
    for args in (["-h"], ["search", "-h"], ["tools", "call", "-h"], ["runs", "list", "-h"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, args
        assert "Usage: cairn" in result.output


def test_usage_lines_carry_no_type_tags_and_summaries_read_whole() -> None:
    runner = CliRunner()
    env = {"COLUMNS": "80", "TERM": "dumb"}
    search = runner.invoke(app, ["search", "--help"], env=env).output
    assert "Usage: cairn search [OPTIONS] QUERY" in search
    assert "<bool>" not in search and "<int>" not in search and "<str>" not in search
    assert "INTEGER" in search  # --k still says what it takes
    top = runner.invoke(app, ["--help"], env=env).output
    assert '"who built it?"' in top  # chat's summary is not broken mid-sentence
    speech = runner.invoke(app, ["eval", "speech", "--help"], env=env).output
    assert "…" not in speech  # long default paths wrap, they are not cut


def test_metavar_and_paragraph_helpers() -> None:
    assert metavar_for("<list[str]>") == "TEXT"
    assert metavar_for("<int>") == "INTEGER"
    assert metavar_for("<path>") == "PATH"
    assert metavar_for("<a|b>") == "[a|b]"
    assert one_line_paragraphs("one\n  two\n\nthree\nfour") == "one two\n\nthree four"


def _command_paths(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in getattr(group, "commands", {}).items():
        out.append((*prefix, name))
        out.extend(_command_paths(cmd, (*prefix, name)))
    return out


def test_every_command_answers_h_without_type_tags() -> None:
    import typer.main

    paths = _command_paths(typer.main.get_command(app))
    assert ("search",) in paths and ("tools", "call") in paths and len(paths) > 15
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "-h"], env={"COLUMNS": "80", "TERM": "dumb"})
        assert result.exit_code == 0, (path, result.output)
        assert re.search(r"<(bool|int|str|float|path|list\[\w+\])>", result.output) is None, path
        assert "…" not in result.output, path
