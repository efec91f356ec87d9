"""What the CLI prints to a terminal: no injected control characters, full paths, whole lines."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from cairn.cli import app
from cairn.cli.answer_commands import print_answer
from cairn.cli.common import console, print_json
from cairn.cli.safe_text import SafeConsole, printable
from cairn.cli.tools_commands import _rows_table
from cairn.graph.extract import CapitalisedExtractor
from cairn.models.embed import HashingEmbedder

runner = CliRunner()
ATTACK = "before\x1b]0;owned\x07\x1b[2J\x1b[1Aafter\r\x9b31m\u202eevil"


@pytest.fixture(autouse=True)
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    import cairn.knowledge as knowledge

    real = knowledge.open_kb

    def open_with_fakes(path: Any = None, **_: Any) -> knowledge.KnowledgeBase:
        return real(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor())

    monkeypatch.setattr(knowledge, "open_kb", open_with_fakes)
    monkeypatch.setattr("cairn.cli.kb_commands.open_kb", open_with_fakes)


def _no_controls(text: str) -> None:
    assert not any(ch in text for ch in "\x1b\x07\r\x9b\u202e"), repr(text)


def test_printable_shows_every_control_character() -> None:
    shown = printable(ATTACK)
    _no_controls(shown)
    assert shown.startswith("before␛]0;owned␇␛[2J")
    assert "\\x9b31m" in shown and "\\u202eevil" in shown
    assert printable("line one\n\tline two") == "line one\n\tline two"


def test_a_styled_terminal_keeps_its_own_styles_but_not_injected_ones() -> None:
    out = io.StringIO()
    term = SafeConsole(file=out, force_terminal=True, color_system="standard", width=200)
    term.print(f"[bold]{ATTACK}[/]", highlight=False)
    text = out.getvalue()
    assert "\x1b[1m" in text  # rich's own bold
    assert "\x1b]0;" not in text and "\x1b[2J" not in text and "\x07" not in text
    assert "␛]0;owned" in text


def test_search_does_not_write_escape_sequences_from_documents(tmp_path: Path) -> None:
    kb = tmp_path / "kb.sqlite"
    doc = tmp_path / "evil.txt"
    doc.write_text(f"The steam engine {ATTACK} pumped water from mines.", encoding="utf-8")
    r = runner.invoke(app, ["ingest", str(doc), "--kb", str(kb)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["search", "steam engine water", "--kb", str(kb), "--mode", "keyword"])
    assert r.exit_code == 0, r.output
    assert "steam engine" in r.output
    _no_controls(r.output)
    assert "␛" in r.output  # the text is still there, made visible


def test_short_answer_and_api_rows_are_neutralised() -> None:
    answer: Any = SimpleNamespace(abstained=False, text=ATTACK, citations=[])
    with console.capture() as cap:
        print_answer(answer)
        console.print(_rows_table([{"name": ATTACK, "n": 1}]))
    _no_controls(cap.get())
    assert "before" in cap.get() and "evil" in cap.get()


def test_json_lines_escape_c0_and_c1_controls(capsys: pytest.CaptureFixture[str]) -> None:
    print_json({"text": ATTACK})
    line = capsys.readouterr().out
    _no_controls(line)
    assert json.loads(line)["text"] == ATTACK  # still the exact text, for machines


@pytest.mark.parametrize("columns", ["40", "80", "250"])
def test_sources_shows_whole_paths_at_any_width(tmp_path: Path, columns: str) -> None:
    kb = tmp_path / "kb.sqlite"
    folder = tmp_path / "a_rather_long_folder_name_that_will_not_fit_in_a_column"
    folder.mkdir()
    doc = folder / "steam_engines_and_their_history.txt"
    doc.write_text("James Watt improved the steam engine.", encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(doc), "--kb", str(kb)]).exit_code == 0
    r = runner.invoke(app, ["sources", "--kb", str(kb)], env={"COLUMNS": columns})
    assert r.exit_code == 0, r.output
    assert "…" not in r.output
    line = next(line for line in r.output.splitlines() if str(doc) in line)  # whole, on one line
    assert ("│" in line) == (columns == "250")  # a table only where it fits
    # what it shows is what forget takes
    r = runner.invoke(app, ["forget", str(doc), "--kb", str(kb)])
    assert r.exit_code == 0 and "forgot" in r.output


def test_error_lines_do_not_wrap_off_a_terminal(tmp_path: Path) -> None:
    missing = tmp_path / ("folder_with_a_long_name_" * 4) / "missing.txt"
    proc = subprocess.run(
        [sys.executable, "-c", "from cairn.cli import main; main()", "ingest", str(missing)],
        capture_output=True,
        text=True,
        env=os.environ
        | {"PYTHONPATH": os.pathsep.join(sys.path), "CAIRN_KB": str(tmp_path / "kb.sqlite")},
        timeout=300,
    )
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, proc.stderr
    assert str(missing) in errors[0] and len(errors[0]) > 80
