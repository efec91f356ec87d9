"""`cairn migrate`: SQLite -> PostgreSQL -> SQLite, resuming, checks, and bad input."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import typer
from typer.testing import CliRunner

import cairn
from cairn.cli import migrate_commands
from cairn.errors import StoreError
from cairn.graph.extract import CapitalisedExtractor
from cairn.kb.factory import open_store
from cairn.kb.migrate import migrate, open_end, store_counts, verify
from cairn.kb.types import Consent, Provenance, Source
from cairn.models.embed import HashingEmbedder
from conftest import PostgresServer

pytest.importorskip("pgvector")

TEXTS = {
    "lighthouse.txt": "Margaret Hale built the lighthouse at Kestrel Point in 1871. "
    "The lamp was lit by Thomas Reed every evening.\n\nStorms from the Irish Sea "
    "battered the tower for decades.",
    "harbour.txt": "The harbour at Kestrel Point was dredged by Edwin Marsh. "
    "Fishing boats from Galway anchored there in winter.",
    "orchard.txt": "Apple orchards in Somerset produce cider. Ellen Price planted "
    "the first quince trees near Taunton.",
}


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """test app"""

    migrate_commands.register(app)
    return app


def build_kb(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in TEXTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    path = tmp_path / "a.sqlite"
    kb = cairn.open(path, embedder=HashingEmbedder(), extractor=CapitalisedExtractor())
    try:
        kb.ingest([folder], collection="town", license="CC-BY-4.0", consent="granted")
        kb.store.add_records(
            "api://weather/daily/1",
            Provenance("api", None, "http://api.example/daily", "me", Consent.granted),
            "weather.daily",
            {"city": "Galway"},
            [{"city": "Galway", "rain_mm": 4.5}, {"city": "Taunton", "rain_mm": 0}],
        )
        kb.store.save_run(
            {
                "started_at": "2025-01-02T03:04:05.006+00:00",
                "status": "ok",
                "request": "Who built the lighthouse?",
                "events": [{"type": "stage-start", "stage": "search"}],
                "result": {"answer": "Margaret Hale", "citations": [{"n": 1}]},
            }
        )
        kb.store.save_run({"status": "error", "request": "é中"})
        kb.store.save_tool(
            "weather", '{"openapi": "3.1.0"}', ["api.example"], "https://a/", ["10.0.0.5:80"]
        )
    finally:
        kb.close()
    return path


@pytest.fixture
def kb_path(tmp_path: Path) -> Path:
    return build_kb(tmp_path)


def hit_keys(spec: str | Path, query: str, mode: str) -> list[tuple[str, str]]:
    kb = cairn.open(spec, embedder=HashingEmbedder(), extractor=CapitalisedExtractor())
    try:
        return sorted((h.chunk.source_uri, h.chunk.doc_key) for h in kb.search(query, mode=mode))
    finally:
        kb.close()


def test_sqlite_to_postgres_and_back(
    app: typer.Typer, kb_path: Path, postgres_dsn: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["migrate", "--from", str(kb_path), "--to", postgres_dsn])
    assert result.exit_code == 0, result.output
    assert "4 sources copied, 0 already there; 2 runs copied" in result.output
    assert "source checksums" in result.output

    a, pg = open_store(kb_path), open_store(postgres_dsn)
    try:
        counts = store_counts(a)
        assert counts == store_counts(pg)
        assert counts["sources"] == 4 and counts["records"] == 2 and counts["runs"] == 2
        assert counts["vectors"] == counts["chunks"] - 1  # the records' chunk has no vector
        assert counts["entities"] > 0
        check = verify(a, pg)
        assert check.ok and len(check.checksums) == 4
        for src in a.list_sources():
            other = pg.get_source(src.uri)
            assert other is not None
            assert (other.content_hash, other.size_bytes, other.provenance) == (
                src.content_hash,
                src.size_bytes,
                src.provenance,
            )
            assert pg.source_documents(other.id) == a.source_documents(src.id)
        assert [(r["data"], r["request"], r["requested_at"]) for r in pg.list_records()] == [
            (r["data"], r["request"], r["requested_at"]) for r in a.list_records()
        ]
        assert [{**r, "id": 0} for r in pg.list_runs()] == [{**r, "id": 0} for r in a.list_runs()]
        assert pg.embedding_model() == a.embedding_model()
        assert [t.spec_json for t in pg.list_tools()] == ['{"openapi": "3.1.0"}']
        assert [t.private_hosts for t in pg.list_tools()] == [("10.0.0.5:80",)]
    finally:
        a.close()
        pg.close()

    for query, mode in (("Kestrel lighthouse", "keyword"), ("quince orchards", "dense")):
        here, there = hit_keys(kb_path, query, mode), hit_keys(postgres_dsn, query, mode)
        assert here and here == there

    # again: everything is there already
    result = runner.invoke(app, ["migrate", "--from", str(kb_path), "--to", postgres_dsn])
    assert result.exit_code == 0, result.output
    assert "0 sources copied, 4 already there; 0 runs copied, 2 already there" in result.output

    # and back into a new SQLite file
    back = tmp_path / "b.sqlite"
    result = runner.invoke(
        app, ["migrate", "--from", postgres_dsn, "--to", str(back), "--batch", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert '"ok": true' in result.output
    a, b = open_store(kb_path), open_store(back)
    try:
        assert store_counts(a) == store_counts(b)
        assert verify(a, b).ok
        for src in a.list_sources():
            other = b.get_source(src.uri)
            assert other is not None and other.content_hash == src.content_hash
            assert b.source_documents(other.id) == a.source_documents(src.id)
    finally:
        a.close()
        b.close()
    assert hit_keys(back, "Kestrel lighthouse", "keyword") == hit_keys(
        kb_path, "Kestrel lighthouse", "keyword"
    )


def test_interrupted_migrate_resumes(kb_path: Path, postgres_dsn: str) -> None:
    a, pg = open_store(kb_path), open_store(postgres_dsn)
    try:
        copied: list[str] = []

        def stop_after_two(event: str, src: Source | None) -> None:
            if event == "copied" and src is not None:
                copied.append(src.uri)
                if len(copied) == 2:
                    raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            migrate(a, pg, on_progress=stop_after_two)
        assert [s.uri for s in pg.list_sources()] == copied
        assert not verify(a, pg).ok
        report = migrate(a, pg, batch=1)
        assert report.skipped == copied
        assert len(report.copied) == 2 and report.runs_copied == 2
        assert verify(a, pg).ok
        # a source changed since is copied again
        pg.forget_source(copied[0])
        assert migrate(a, pg).copied == [copied[0]]
    finally:
        a.close()
        pg.close()


def test_mismatch_exits_1(app: typer.Typer, kb_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "t.sqlite"
    with cairn.open(target, embedder=HashingEmbedder()) as kb:
        extra = tmp_path / "extra.txt"
        extra.write_text("Only in the target.", encoding="utf-8")
        kb.ingest([extra], graph=False)
    result = CliRunner().invoke(app, ["migrate", "--from", str(kb_path), "--to", str(target)])
    assert result.exit_code == 1, result.output
    assert "differs" in result.output


def test_refuses_vectors_of_another_model(app: typer.Typer, kb_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "t.sqlite"
    with cairn.open(target, embedder=HashingEmbedder(dim=32)) as kb:
        extra = tmp_path / "extra.txt"
        extra.write_text("Other model.", encoding="utf-8")
        kb.ingest([extra], graph=False)
    result = CliRunner().invoke(app, ["migrate", "--from", str(kb_path), "--to", str(target)])
    assert result.exit_code == 2
    assert "holds vectors from 'hashing-32'" in result.output
    with cairn.open(target) as kb:
        assert len(kb.sources()) == 1


def test_bad_input(app: typer.Typer, kb_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    missing = tmp_path / "missing.sqlite"
    result = runner.invoke(app, ["migrate", "--from", str(missing), "--to", str(tmp_path / "x")])
    assert result.exit_code == 2 and "does not exist" in result.output
    assert not missing.exists()
    text = tmp_path / "notes.txt"
    text.write_text("not a database", encoding="utf-8")
    result = runner.invoke(app, ["migrate", "--from", str(text), "--to", str(tmp_path / "x")])
    assert result.exit_code == 2 and "is not a Cairn knowledge base" in result.output
    result = runner.invoke(app, ["migrate", "--from", str(kb_path), "--to", str(text)])
    assert result.exit_code == 2 and "is not a Cairn knowledge base" in result.output
    assert text.read_text(encoding="utf-8") == "not a database"
    result = runner.invoke(app, ["migrate", "--from", str(kb_path), "--to", str(kb_path)])
    assert result.exit_code == 2 and "same knowledge base" in result.output
    result = runner.invoke(app, ["migrate", "--from", str(kb_path), "--to", "postgresql://[bad"])
    assert result.exit_code == 2 and "connection string" in result.output
    with pytest.raises(StoreError, match="not a Cairn knowledge base"):
        open_end(str(text), must_exist=False)


def test_wrong_server(app: typer.Typer, kb_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dsn = f"postgresql://nobody@127.0.0.1:{port}/none?connect_timeout=2"
    result = CliRunner().invoke(app, ["migrate", "--from", str(kb_path), "--to", dsn])
    assert result.exit_code == 2
    assert "cannot connect to PostgreSQL at nobody@127.0.0.1" in result.output


def test_target_without_pgvector(
    app: typer.Typer, kb_path: Path, postgres_server: PostgresServer
) -> None:
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS cairn_migrate_novector WITH (FORCE)")
        conn.execute("DROP ROLE IF EXISTS cairn_migrate_plain")
        conn.execute("CREATE ROLE cairn_migrate_plain LOGIN NOSUPERUSER")
        conn.execute(
            "CREATE DATABASE cairn_migrate_novector TEMPLATE template0 OWNER cairn_migrate_plain"
        )
    try:
        dsn = postgres_server.dsn("cairn_migrate_novector", user="cairn_migrate_plain")
        result = CliRunner().invoke(app, ["migrate", "--from", str(kb_path), "--to", dsn])
        assert result.exit_code == 2
        assert "CREATE EXTENSION vector" in result.output
    finally:
        with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS cairn_migrate_novector WITH (FORCE)")
            conn.execute("DROP ROLE IF EXISTS cairn_migrate_plain")
