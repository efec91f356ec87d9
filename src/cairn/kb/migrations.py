"""Named schema migrations for the SQLite store, applied in order on open.

Each migration runs once, inside the same transaction that records it in ``migrations``.
Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_sources_documents_chunks",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            uri TEXT NOT NULL UNIQUE,
            collection TEXT NOT NULL,
            license TEXT,
            source_url TEXT,
            owner TEXT,
            consent TEXT NOT NULL CHECK (consent IN ('granted', 'refused', 'unknown')),
            content_hash TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            ingested_at TEXT NOT NULL
        );
        CREATE INDEX sources_collection ON sources(collection);
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            doc_key TEXT NOT NULL,
            title TEXT,
            text TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            UNIQUE (source_id, doc_key)
        );
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            ord INTEGER NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            title TEXT,
            text TEXT NOT NULL
        );
        CREATE INDEX chunks_document ON chunks(document_id);
        CREATE VIRTUAL TABLE chunks_fts USING fts5(
            title, text, content='chunks', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
            INSERT INTO chunks_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
        END;
        CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
            INSERT INTO chunks_fts(chunks_fts, rowid, title, text)
            VALUES ('delete', old.id, old.title, old.text);
        END;
        CREATE TABLE embeddings (
            chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            vector BLOB NOT NULL
        );
        """,
    ),
    (
        "0002_entity_graph",
        """
        CREATE TABLE entities (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            label TEXT NOT NULL
        );
        CREATE TABLE mentions (
            chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
            entity_id INTEGER NOT NULL REFERENCES entities(id),
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL
        );
        CREATE INDEX mentions_entity ON mentions(entity_id);
        CREATE INDEX mentions_chunk ON mentions(chunk_id);
        CREATE TABLE relations (
            id INTEGER PRIMARY KEY,
            subject_id INTEGER NOT NULL REFERENCES entities(id),
            predicate TEXT NOT NULL,
            object_id INTEGER NOT NULL REFERENCES entities(id),
            chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE
        );
        CREATE INDEX relations_chunk ON relations(chunk_id);
        CREATE INDEX relations_subject ON relations(subject_id);
        CREATE INDEX relations_object ON relations(object_id);
        """,
    ),
    (
        "0003_fts_vocabulary",
        """
        CREATE VIRTUAL TABLE chunks_fts_vocab USING fts5vocab(chunks_fts, row);
        """,
    ),
    (
        "0004_records",
        """
        CREATE TABLE records (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            operation TEXT NOT NULL,
            requested_at TEXT NOT NULL,
            request TEXT NOT NULL DEFAULT '{}',
            data TEXT NOT NULL
        );
        CREATE INDEX records_source ON records(source_id);
        CREATE INDEX records_operation ON records(operation);
        CREATE TABLE tools (
            name TEXT PRIMARY KEY,
            spec TEXT NOT NULL,
            allowed_hosts TEXT NOT NULL,
            base_url TEXT NOT NULL,
            saved_at TEXT NOT NULL
        );
        """,
    ),
    (
        "0005_runs",
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            request TEXT,
            events TEXT NOT NULL DEFAULT '[]',
            result TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX runs_started ON runs(started_at);
        """,
    ),
    (
        "0006_tool_private_hosts",
        """
        ALTER TABLE tools ADD COLUMN private_hosts TEXT NOT NULL DEFAULT '[]';
        """,
    ),
    (
        # Source ids are never handed out again after a forget (a retried "forget 3" must not
        # remove a newer source): AUTOINCREMENT needs the table rebuilt, with foreign keys off
        # so dropping the old table does not cascade to documents and records.
        "0007_sources_autoincrement",
        """
        CREATE TABLE sources_new (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            uri TEXT NOT NULL UNIQUE,
            collection TEXT NOT NULL,
            license TEXT,
            source_url TEXT,
            owner TEXT,
            consent TEXT NOT NULL CHECK (consent IN ('granted', 'refused', 'unknown')),
            content_hash TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            ingested_at TEXT NOT NULL
        );
        INSERT INTO sources_new (id, uri, collection, license, source_url, owner, consent,
            content_hash, size_bytes, ingested_at)
        SELECT id, uri, collection, license, source_url, owner, consent, content_hash,
            size_bytes, ingested_at FROM sources;
        DROP TABLE sources;
        ALTER TABLE sources_new RENAME TO sources;
        CREATE INDEX sources_collection ON sources(collection);
        """,
    ),
]
# Migrations that rebuild a table others refer to: run with foreign keys off, then checked.
WITHOUT_FOREIGN_KEYS = frozenset({"0007_sources_autoincrement"})


def apply_migrations(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations; return the names applied now."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT name FROM migrations")}
    applied = []
    for name, sql in MIGRATIONS:
        if name in done:
            continue
        rebuild = name in WITHOUT_FOREIGN_KEYS
        if rebuild:
            keys_on = bool(conn.execute("PRAGMA foreign_keys").fetchone()[0])
            conn.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction: not here
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process opening the same new knowledge base may have applied it between
            # the read above and this lock: check again, holding the lock.
            if conn.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                conn.execute("COMMIT")
                continue
            for statement in _statements(sql):
                conn.execute(statement)
            if rebuild and conn.execute("PRAGMA foreign_key_check").fetchone():
                raise sqlite3.IntegrityError(f"migration {name} broke a foreign key")
            conn.execute(
                "INSERT INTO migrations(name, applied_at) VALUES (?, ?)",
                (name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            if rebuild and keys_on:
                conn.execute("PRAGMA foreign_keys=ON")
        applied.append(name)
    return applied


def _statements(sql: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    out: list[str] = []
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
