"""The bundled demo collection: copies from another checkout are forgotten, nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cairn
import cairn.knowledge as knowledge
from cairn.cli import app
from cairn.demo import DEMO_LICENSE, demo_files, forget_other_copies
from cairn.graph.extract import CapitalisedExtractor
from cairn.models.embed import HashingEmbedder


def test_forget_other_copies_keeps_this_checkout_and_user_files(tmp_path: Path) -> None:
    other = tmp_path / "old-checkout" / "src" / "cairn" / "demo"
    other.mkdir(parents=True)
    for f in demo_files():
        shutil.copy(f, other / f.name)
    # Not a bundled article's path, though in the same collection: must stay.
    mine = tmp_path / "notes" / "demo"
    mine.mkdir(parents=True)
    (mine / "steam-engine.md").write_text("My own notes on steam engines.", encoding="utf-8")
    with cairn.open(
        tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    ) as kb:
        kb.ingest(sorted(other.iterdir()), collection="demo", license=DEMO_LICENSE)
        kb.ingest(demo_files(), collection="demo", license=DEMO_LICENSE)
        kb.ingest([mine / "steam-engine.md"], collection="demo", license=DEMO_LICENSE)
        assert len(kb.sources("demo")) == 2 * len(demo_files()) + 1
        gone = forget_other_copies(kb)
        assert sorted(Path(u).name for u in gone) == sorted(f.name for f in demo_files())
        left = {s.uri for s in kb.sources("demo")}
        assert left == {str(f.resolve()) for f in demo_files()} | {
            str((mine / "steam-engine.md").resolve())
        }
        assert forget_other_copies(kb) == []


def test_each_checkout_has_its_own_demo_kb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cairn.demo as demo

    here = demo.default_demo_kb(tmp_path)
    assert here == demo.default_demo_kb(tmp_path)  # stable for one checkout
    assert here.parent == tmp_path / "demo" and here.suffix == ".sqlite"
    monkeypatch.setattr(demo, "DEMO_DIR", tmp_path / "other-checkout" / "src" / "cairn" / "demo")
    assert demo.default_demo_kb(tmp_path) != here  # another checkout, another file


def test_the_demo_command_opens_this_checkouts_kb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.demo import default_demo_kb

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    opened: list[object] = []

    def record(path: object = None, **_: object) -> object:
        opened.append(path)
        raise cairn.CairnError("test-stop", "stop here")

    monkeypatch.setattr(knowledge, "open_kb", record)
    r = CliRunner().invoke(app, ["demo"])
    assert r.exit_code == 2 and "stop here" in r.output
    assert opened == [default_demo_kb()]
    assert str(opened[0]).startswith(str(tmp_path))
