"""The public names are the ones we meant, and the README's library example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import cairn
from cairn.graph.extract import CapitalisedExtractor
from cairn.models.embed import HashingEmbedder

ROOT = Path(__file__).resolve().parents[1]


def test_exported_names() -> None:
    assert sorted(cairn.__all__) == ["CairnError", "KnowledgeBase", "__version__", "open"]
    assert cairn.open is cairn.compose.open  # the composition root's KnowledgeBase


def test_readme_starts_with_exactly_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert [c for c in commands if c] == ["scripts/demo", "scripts/check"]
    assert (ROOT / "scripts/demo").stat().st_mode & 0o111
    assert "scripts/check" in (ROOT / ".ci/run").read_text()


def test_readme_library_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"```python\n(.*?)```", readme, re.S)
    assert example is not None
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "net.md").write_text("# Networks\n\nPackets are routed hop by hop by routers.")
    real_open = cairn.open

    def open_with_fakes(path: object = None, **kw: object) -> cairn.KnowledgeBase:
        return real_open(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor())  # type: ignore[arg-type]

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cairn, "open", open_with_fakes)
    exec(compile(example.group(1), "README.md", "exec"), {})
    assert (tmp_path / "kb.sqlite").exists()
