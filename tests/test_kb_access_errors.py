"""Knowledge bases the OS will not let us write, paths that do not exist, an empty forget
reference, and two ingests of the same file at once: each a clear one-line answer."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import cairn
from cairn.cli import app
from cairn.errors import StoreError
from cairn.graph.extract import CapitalisedExtractor
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import HashingEmbedder

NOBODY = 65534


@pytest.fixture(autouse=True)
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    import cairn.knowledge as knowledge

    real = knowledge.open_kb

    def open_with_fakes(path: Any = None, **kw: Any) -> KnowledgeBase:
        kw.pop("embedder", None)
        kw.pop("extractor", None)
        return real(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor(), **kw)

    monkeypatch.setattr(knowledge, "open_kb", open_with_fakes)
    monkeypatch.setattr("cairn.cli.kb_commands.open_kb", open_with_fakes)


def _kb(path: Path) -> KnowledgeBase:
    return cairn.open(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor())


def as_unprivileged(fn: Callable[[], Any]) -> Any:
    """``fn()`` as a user who cannot write what root made read-only (root ignores modes):
    in a forked child that drops to nobody when we are root; its result comes back as JSON."""
    if os.geteuid() != 0:
        return fn()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            out = fn()
            os.write(write, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    return json.loads(data)


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary folder others can enter (pytest's own is private to its user)."""
    path = Path(tempfile.mkdtemp(prefix="cairn-ro-"))
    path.chmod(0o755)
    yield path
    for p in [path, *path.rglob("*")]:
        if p.is_dir():
            p.chmod(0o755)
    shutil.rmtree(path)


@pytest.fixture
def read_only_kb(open_tmp: Path) -> Path:
    tmp_path = open_tmp
    folder = tmp_path / "ro"
    folder.mkdir()
    doc = tmp_path / "a.txt"
    doc.write_text("The Pier Bridge opened in 1880.\n")
    kb = _kb(folder / "kb.sqlite")
    kb.ingest([doc])
    kb.close()
    for p in folder.iterdir():
        p.chmod(0o444)
    folder.chmod(0o555)
    (tmp_path / "b.txt").write_text("A second text about the harbour.\n")
    return folder / "kb.sqlite"


def test_read_only_kb_is_called_read_only_not_corrupt(read_only_kb: Path) -> None:
    def attempt() -> dict[str, str]:
        try:
            _kb(read_only_kb)
        except StoreError as err:
            return {"code": err.code, "message": err.message}
        return {"code": "opened"}

    got = as_unprivileged(attempt)
    assert got["code"] == "kb-readonly", got
    assert "not a Cairn knowledge base" not in got["message"]
    assert str(read_only_kb.parent) in got["message"] and "writ" in got["message"]


@pytest.mark.parametrize(
    "args", [["ingest", "{b}"], ["forget", "1"], ["sources"], ["search", "bridge"]]
)
def test_cli_on_a_read_only_kb_is_one_line(read_only_kb: Path, args: list[str]) -> None:
    b = str(read_only_kb.parent.parent / "b.txt")

    def attempt() -> dict[str, Any]:
        argv = [a.format(b=b) for a in args] + ["--kb", str(read_only_kb)]
        r = CliRunner().invoke(app, argv)
        return {"code": r.exit_code, "output": r.output, "exc": repr(r.exception)}

    got = as_unprivileged(attempt)
    assert got["code"] == 2, got
    assert "Traceback" not in got["output"] and "not a Cairn" not in got["output"]
    assert "read-only" in " ".join(got["output"].split()), got["output"]


def test_sources_on_a_missing_path_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "kb.sqlite"
    for args in (["sources"], ["forget", "1"]):
        r = CliRunner().invoke(app, [*args, "--kb", str(missing)])
        assert r.exit_code == 2, r.output
        assert "no knowledge base" in " ".join(r.output.split())
    assert not (tmp_path / "no").exists()


def test_forget_empty_reference_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    kb_path = tmp_path / "kb.sqlite"
    kb = _kb(kb_path)
    doc = tmp_path / "a.txt"
    doc.write_text("The Pier Bridge opened in 1880.\n")
    kb.ingest([doc])
    kb.close()
    for ref in ("", "   "):
        r = CliRunner().invoke(app, ["forget", ref, "--kb", str(kb_path)])
        assert r.exit_code == 2, r.output
        assert "give a source" in r.output
    assert len(_kb(kb_path).sources()) == 1


def test_overlapping_ingests_add_a_file_once(tmp_path: Path) -> None:
    doc = tmp_path / "a.txt"
    doc.write_text("The Pier Bridge opened in 1880.\n")
    db = tmp_path / "kb.sqlite"
    _kb(db).close()
    barrier = threading.Barrier(2)

    class SlowEmbedder(HashingEmbedder):
        def embed_batch(self, texts: Any) -> Any:  # both ingests prepare before either writes
            barrier.wait(10)
            return super().embed_batch(texts)

    statuses: list[str] = []

    def one() -> None:
        kb = cairn.open(db, embedder=SlowEmbedder(), extractor=CapitalisedExtractor())
        try:
            statuses.extend(o.status.value for o in kb.ingest([doc]).outcomes)
        finally:
            kb.close()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == ["added", "unchanged"], statuses
    kb = _kb(db)
    assert [s.uri for s in kb.sources()] == [str(doc.resolve())]
    assert kb.sources()[0].id == 1  # written once, not replaced by the second ingest
    kb.close()


def test_forget_a_huge_id_is_one_line(tmp_path: Path) -> None:
    kb_path = tmp_path / "kb.sqlite"
    _kb(kb_path).close()
    r = CliRunner().invoke(app, ["forget", "99999999999999999999999", "--kb", str(kb_path)])
    assert r.exit_code == 2, r.output
    assert "no source matches" in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
