"""The cases issue 15 names, with the trained claim check (models/data/nli.onnx), real models and
real SQLite: `--synthesize` over notes that say the opposite of the claim lists them as
contradicting (library, CLI and the HTTP API), and a role swap is not entailed by the
sentence it swaps."""

from __future__ import annotations

from pathlib import Path

import pytest

import cairn
from cairn.answer.generate import Draft, check_sentence
from cairn.answer.nli import entailment, packaged_checker
from cairn.answer.synthesize import Label, synthesize
from cairn.answer.types import Evidence
from cairn.knowledge import KnowledgeBase

# The cue model alone lists one of the two notes as supporting (the bug issue 15 reports), so
# these cases need the trained claim check; without models/data/nli.onnx they are skipped.
pytestmark = pytest.mark.skipif(packaged_checker() is None, reason="models/data/nli.onnx not built")

BATTLE = "In 1288 the Tran defeated the Mongols at the Bach Dang river."
NOTES = {
    "watt.md": "# Watt's condenser\n\nJames Watt's separate condenser made steam engines far "
    "more efficient: they burned much less coal for the same work.",
    "newcomen.md": "# Newcomen and Watt\n\nThe separate condenser greatly improved the "
    "efficiency of the steam engine compared with Newcomen's design.",
    "bread.md": "# Baking\n\nBread rises because yeast turns sugar into carbon dioxide.",
}
CLAIM = "The separate condenser made steam engines less efficient"


def _ev(text: str) -> Evidence:
    return Evidence(1, "k", "Battles", "notes.txt", None, 0, len(text), text, 1, 1.0, 0.9, 1, 1, 1)


def test_role_swap_is_not_entailed() -> None:
    checker = packaged_checker()
    assert checker is not None
    swapped, why = entailment(checker, "The Mongols defeated the Tran.", [BATTLE])
    assert not swapped, why
    j = checker.judge("The Mongols defeated the Tran.", [BATTLE])[0]
    assert j.supports < 0.5
    from cairn.models.embed import load_embedder

    draft = Draft("The Mongols defeated the Tran at the Bach Dang river.", (1,))
    check = check_sentence(draft, [_ev(BATTLE)], load_embedder(), checker=checker)
    assert not check.passed  # every word, name and number is there: only the check sees it
    rules_only = check_sentence(draft, [_ev(BATTLE)], load_embedder())
    assert rules_only.passed  # what the rules alone let through


@pytest.fixture(scope="module")
def steam_kb(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, KnowledgeBase]:
    root = tmp_path_factory.mktemp("steam")
    files = []
    for name, text in NOTES.items():
        (root / name).write_text(text, encoding="utf-8")
        files.append(root / name)
    kb = cairn.open(root / "kb.sqlite")
    kb.ingest(files, collection="notes", license="CC-BY-4.0")
    return root / "kb.sqlite", kb


def test_synthesize_lists_opposite_notes_as_contradicting(
    steam_kb: tuple[Path, KnowledgeBase],
) -> None:
    _, kb = steam_kb
    s = synthesize(kb, CLAIM)
    assert s.checker == "nli"
    against = {Path(g.source).name for g in s.side(Label.contradicts)}
    assert against == {"watt.md", "newcomen.md"}, s.text
    assert not s.side(Label.supports)
    assert s.verdict == "Contradicted by 2 independent sources; none supports it."
    assert "Contradicting (2):" in s.text and "Supporting: none" in s.text
    assert "licence CC-BY-4.0" in s.text


def test_cli_and_api_show_the_sides(steam_kb: tuple[Path, KnowledgeBase]) -> None:
    import typer
    from typer.testing import CliRunner

    from cairn.cli import answer_commands

    path, _ = steam_kb
    app = typer.Typer()
    answer_commands.register(app)
    app.command("noop")(lambda: None)
    r = CliRunner().invoke(app, ["ask", CLAIM, "--synthesize", "--kb", str(path)])
    assert r.exit_code == 0, r.output
    assert "Verdict: Contradicted by 2 independent sources" in r.output
    assert "Contradicting (2):" in r.output


def test_http_synthesize_is_typed(steam_kb: tuple[Path, KnowledgeBase]) -> None:
    from fastapi.testclient import TestClient

    from cairn.server.app import create_app
    from cairn.server.settings import ServerSettings

    path, _ = steam_kb
    kb = cairn.open(path)
    app = create_app(ServerSettings(data_dir=path.parent / "data"), kb=kb)
    with TestClient(app) as client:
        r = client.post("/api/synthesize", json={"claim": CLAIM})
        assert r.status_code == 200, r.text
        d = r.json()
        assert d["verdict"] == "Contradicted by 2 independent sources; none supports it."
        against = d["sides"]["contradicting"]
        assert {Path(s["source"]).name for s in against} == {"watt.md", "newcomen.md"}
        assert any(e["label"] == "contradicts" for e in against[0]["evidence"])
        assert all(e["citation"]["quote"] for e in against[0]["evidence"])
        assert against[0]["license"] == "CC-BY-4.0" and against[0]["date"]
        bad = client.post("/api/synthesize", json={"claim": ""})
        assert bad.status_code == 422 and "claim" in bad.text
    kb.close()
