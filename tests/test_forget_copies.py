"""Forgetting a source removes every copy Cairn made of it: the note file "remember that ..."
wrote, the runs that created or quoted it, the server's recent answers; and when another
connection keeps SQLite from dropping the text from the file, forget says so and how to finish.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cairn
from cairn.graph.extract import CapitalisedExtractor
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import HashingEmbedder
from cairn.pipeline.run import run_pipeline
from test_server_api import Env, assert_error, make_env

SECRET = "quokkazebra"


def _kb(path: Path) -> KnowledgeBase:
    return cairn.open(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor())


def _files_holding(folder: Path, text: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # a relative --kb path, as `cairn voice --kb kb.sqlite` gives
    return tmp_path


def test_forgetting_a_note_removes_its_file_and_the_run_that_made_it(in_tmp: Path) -> None:
    kb = _kb(Path("kb.sqlite"))
    try:
        made = run_pipeline(kb, text=f"remember that the {SECRET} code is 4471")
        assert made.error is None, made.error
        (note,) = kb.sources("notes")
        asked = run_pipeline(kb, text=f"what is the {SECRET} code?")
        assert asked.error is None
        assert len(kb.store.list_runs()) == 2
        gone = kb.forget_report(note.id)
        assert gone.source.id == note.id
        assert [Path(p).name for p in gone.files_removed] == [Path(note.uri).name]
        assert gone.pending is None
        assert not Path(note.uri).exists()
        for run in kb.store.list_runs():
            assert SECRET not in str(run), run
    finally:
        kb.close()
    assert _files_holding(in_tmp, SECRET) == []


def test_forget_never_removes_the_users_own_files(tmp_path: Path) -> None:
    own = tmp_path / "notes" / "mine.md"  # a user's own notes folder beside the KB
    own.parent.mkdir()
    own.write_text(f"My {SECRET} note.\n")
    kb = _kb(tmp_path / "elsewhere" / "kb.sqlite")
    try:
        kb.ingest([own], collection="notes")
        gone = kb.forget_report(str(own))
        assert gone.files_removed == () and own.exists()
    finally:
        kb.close()


def test_cli_forget_removes_the_note(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cairn.cli import app, kb_commands

    monkeypatch.setattr(kb_commands, "open_kb", lambda path=None, **_: _kb(Path(path or "x")))
    kb = _kb(Path("kb.sqlite"))
    run_pipeline(kb, text=f"remember that the {SECRET} code is 4471")
    (note,) = kb.sources("notes")
    kb.close()
    r = CliRunner().invoke(app, ["forget", str(note.id), "--kb", "kb.sqlite"])
    assert r.exit_code == 0, r.output
    assert "removed" in r.output and Path(note.uri).name in r.output.replace("\n", "")
    assert _files_holding(in_tmp, SECRET) == []


# -- the server ------------------------------------------------------------------------------
@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def test_api_voice_note_is_gone_after_delete(env: Env) -> None:
    r = env.client.post("/api/voice", data={"text": f"remember that the {SECRET} code is 4471"})
    assert r.status_code == 200, r.text
    (note,) = env.kb.sources("notes")
    chat = env.client.post(
        "/v1/chat/completions",
        json={"model": "cairn", "messages": [{"role": "user", "content": f"{SECRET} code?"}]},
    )
    assert chat.status_code == 200
    d = env.client.delete(f"/api/sources/{note.id}")
    assert d.status_code == 200, d.text
    assert d.json()["file_removed"] is True and d.json()["pending"] is None
    assert _files_holding(env.root, SECRET) == []
    assert all(SECRET not in str(a) for a in env.app.state.services.answers.items())


def test_api_delete_a_huge_id_is_404(env: Env) -> None:
    assert_error(env.client.delete("/api/sources/99999999999999999999999"), 404)


# -- 4: a reader holding the file ------------------------------------------------------------
def test_forget_reports_text_left_in_the_file_while_a_reader_holds_it(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    doc = tmp_path / "secret.txt"
    doc.write_text(f"The {SECRET} lives here.\n")
    kb = _kb(db)
    kb.ingest([doc])
    kb.close()
    kb = _kb(db)
    reader = sqlite3.connect(db)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM chunks").fetchone()  # holds a read snapshot
    try:
        gone = kb.forget_report(str(doc))
        assert gone.pending is not None
        assert "kb.sqlite" in gone.pending and "another" in gone.pending
        assert SECRET.encode() in db.read_bytes()  # what the report says is true
    finally:
        reader.rollback()
        reader.close()
        kb.close()
    # the next open finishes the job
    kb = _kb(db)
    kb.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("kb.sqlite"))
    assert SECRET.encode() not in raw


def test_cli_forget_says_the_text_is_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.cli import app, kb_commands

    db = tmp_path / "kb.sqlite"
    doc = tmp_path / "secret.txt"
    doc.write_text(f"The {SECRET} lives here.\n")
    kb = _kb(db)
    kb.ingest([doc])
    kb.close()
    monkeypatch.setattr(kb_commands, "open_kb", lambda path=None, **_: _kb(Path(str(path))))
    reader = sqlite3.connect(db)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM chunks").fetchone()
    try:
        r = CliRunner().invoke(app, ["forget", str(doc), "--kb", str(db)])
    finally:
        reader.close()
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    assert "still in" in flat and "cairn sources" in flat, flat


def test_forgetting_a_note_on_postgres(
    postgres_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("psycopg", exc_type=ImportError)
    # a server store keeps notes beside the default knowledge base: point that here
    monkeypatch.setenv("CAIRN_KB", str(tmp_path / "kb.sqlite"))
    kb = cairn.open(postgres_dsn, embedder=HashingEmbedder(), extractor=CapitalisedExtractor())
    try:
        made = run_pipeline(kb, text=f"remember that the {SECRET} code is 4471")
        assert made.error is None, made.error
        (note,) = kb.sources("notes")
        assert Path(note.uri).parent == tmp_path / "notes"
        run_pipeline(kb, text=f"what is the {SECRET} code?")
        gone = kb.forget_report(note.id)
        assert [Path(p).name for p in gone.files_removed] == [Path(note.uri).name]
        assert all(SECRET not in str(run) for run in kb.store.list_runs())
        assert kb.store.list_runs() == []
    finally:
        kb.close()
    assert _files_holding(tmp_path, SECRET) == []
