"""The bundled demo collection: copies from another checkout are forgotten, nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

import cairn
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
