"""The PostgreSQL store's schema: named migrations, and what opening a database checks.

The same tables as the SQLite store (:mod:`cairn.kb.migrations`), in one schema per knowledge
base; pgvector is found (or created) first, and migrations run under an advisory lock.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from cairn.errors import StoreError
from cairn.kb.vectors import HNSW_EF_CONSTRUCTION, HNSW_M

Conn = psycopg.Connection[tuple[Any, ...]]

HNSW_MAX_DIM = 2000  # pgvector's limit for an HNSW index on `vector`
# pgvector's HNSW index, built with the graph degree and build depth the SQLite store's index
# uses (cairn.kb.vectors); at query time ef_search is at least HNSW_EF_SEARCH.
HNSW_INDEX_SQL = (
    "CREATE INDEX embeddings_hnsw ON embeddings USING hnsw (vector vector_cosine_ops) "
    f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
)
MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_sources_documents_chunks",
        """
        CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE sources (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            uri text NOT NULL UNIQUE,
            collection text NOT NULL,
            license text,
            source_url text,
            owner text,
            consent text NOT NULL CHECK (consent IN ('granted', 'refused', 'unknown')),
            content_hash text NOT NULL,
            size_bytes bigint NOT NULL,
            ingested_at timestamptz NOT NULL,
            -- kept with the source, in its transaction: counts, and BM25's corpus statistics
            n_documents integer NOT NULL DEFAULT 0,
            n_chunks integer NOT NULL DEFAULT 0,
            n_tokens bigint NOT NULL DEFAULT 0
        );
        CREATE INDEX sources_collection ON sources (collection);
        CREATE INDEX sources_source_url ON sources (source_url);
        CREATE TABLE documents (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            source_id bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
            doc_key text NOT NULL,
            title text,
            text text NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{}',
            UNIQUE (source_id, doc_key)
        );
        CREATE TABLE chunks (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            document_id bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
            source_id bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
            ord integer NOT NULL,
            start integer NOT NULL,
            "end" integer NOT NULL,
            title text,
            text text NOT NULL,
            tsv tsvector GENERATED ALWAYS AS (
                to_tsvector('english'::regconfig, coalesce(title, '') || ' ' || text)
            ) STORED
        );
        CREATE INDEX chunks_document ON chunks (document_id);
        CREATE INDEX chunks_source ON chunks (source_id);
        CREATE INDEX chunks_tsv ON chunks USING gin (tsv);
        -- The column gets its dimension, and its HNSW index, with the first vectors written.
        CREATE TABLE embeddings (
            chunk_id bigint PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
            model text NOT NULL,
            vector vector NOT NULL
        );
        """,
    ),
    (
        "0002_entity_graph",
        """
        CREATE TABLE entities (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            key text NOT NULL UNIQUE,
            name text NOT NULL,
            label text NOT NULL
        );
        CREATE TABLE mentions (
            chunk_id bigint NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
            entity_id bigint NOT NULL REFERENCES entities (id),
            start integer NOT NULL,
            "end" integer NOT NULL
        );
        CREATE INDEX mentions_entity ON mentions (entity_id);
        CREATE INDEX mentions_chunk ON mentions (chunk_id);
        CREATE TABLE relations (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            subject_id bigint NOT NULL REFERENCES entities (id),
            predicate text NOT NULL,
            object_id bigint NOT NULL REFERENCES entities (id),
            chunk_id bigint NOT NULL REFERENCES chunks (id) ON DELETE CASCADE
        );
        CREATE INDEX relations_chunk ON relations (chunk_id);
        CREATE INDEX relations_subject ON relations (subject_id);
        CREATE INDEX relations_object ON relations (object_id);
        """,
    ),
    (
        "0004_records",
        """
        -- JSON kept as text: key order matters to people (and to charts), jsonb loses it.
        CREATE TABLE records (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            source_id bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
            operation text NOT NULL,
            requested_at text NOT NULL,
            request text NOT NULL DEFAULT '{}',
            data text NOT NULL
        );
        CREATE INDEX records_source ON records (source_id);
        CREATE INDEX records_operation ON records (operation);
        CREATE TABLE tools (
            name text PRIMARY KEY,
            spec text NOT NULL,
            allowed_hosts text NOT NULL,
            base_url text NOT NULL,
            saved_at text NOT NULL
        );
        """,
    ),
    (
        "0005_runs",
        """
        CREATE TABLE runs (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            started_at text NOT NULL,
            finished_at text,
            status text NOT NULL,
            request text,
            events text NOT NULL DEFAULT '[]',
            result text NOT NULL DEFAULT '{}'
        );
        CREATE INDEX runs_started ON runs (started_at);
        """,
    ),
    (
        "0006_lexeme_df",
        """
        -- How many chunks hold each lexeme (BM25's document frequency), kept with every write
        -- and forget: counting a common lexeme's postings on a large knowledge base costs
        -- more than the search itself.
        CREATE TABLE lexeme_df (lexeme text PRIMARY KEY, df bigint NOT NULL);
        INSERT INTO lexeme_df (lexeme, df) SELECT word, ndoc FROM ts_stat('SELECT tsv FROM chunks');
        """,
    ),
    (
        "0007_tool_private_hosts",
        """
        -- The private host:port endpoints the owner approved when adding a tool.
        ALTER TABLE tools ADD COLUMN private_hosts text NOT NULL DEFAULT '[]';
        """,
    ),
]


def check_embedding_model(conn: Conn, model: str, dim: int) -> None:
    """Vectors from ``model`` of dimension ``dim`` may be written: the first ones fix both,
    the column's dimension and its HNSW index; later ones must match."""
    find = "SELECT key, value FROM meta WHERE key IN ('embedding_model', 'embedding_dim')"
    meta: dict[str, str] = dict(conn.execute(find).fetchall())
    if "embedding_model" not in meta:
        # The first vectors fix the model, the column's dimension and its index.
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('cairn-model', 0))")
        meta = dict(conn.execute(find).fetchall())
    if "embedding_model" not in meta:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('embedding_model', %s), ('embedding_dim', %s)",
            (model, str(dim)),
        )
        conn.execute(
            sql.SQL("ALTER TABLE embeddings ALTER COLUMN vector TYPE vector({})").format(
                sql.Literal(dim)
            )
        )
        if dim <= HNSW_MAX_DIM:
            conn.execute(HNSW_INDEX_SQL)
        return
    if meta["embedding_model"] != model:
        raise StoreError(
            "embedding-model-mismatch",
            f"this knowledge base holds vectors from {meta['embedding_model']!r}, not "
            f"{model!r}; use the same model or a new --kb",
        )
    if int(meta["embedding_dim"]) != dim:
        raise StoreError(
            "embedding-dim-mismatch",
            f"this knowledge base holds vectors of dimension {meta['embedding_dim']}, not {dim}",
        )


def ensure_pgvector(conn: Conn) -> tuple[str, str]:
    """The schema and version of the vector extension, creating it when allowed."""
    find = (
        "SELECT n.nspname, e.extversion FROM pg_extension e "
        "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'"
    )
    row = conn.execute(find).fetchone()
    if row is None:
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('cairn-ext', 0))")
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.Error as err:
            available = conn.execute(
                "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"
            ).fetchone()
            database = conn.info.dbname
            if available:
                why = (
                    f"pgvector is installed on the server but not enabled in database "
                    f"{database!r}, and this role cannot enable it ({err}). Ask an "
                    f"administrator to run: CREATE EXTENSION vector;  in {database!r}"
                )
            else:
                why = (
                    "this PostgreSQL server has no pgvector extension. Install it (Debian/"
                    "Ubuntu: postgresql-<version>-pgvector; or build it from "
                    "https://github.com/pgvector/pgvector), then run: CREATE EXTENSION vector;"
                )
            raise StoreError("pgvector-missing", why) from err
        row = conn.execute(find).fetchone()
        assert row is not None
    version = str(row[1])
    if version_tuple(version) < (0, 5, 0):
        raise StoreError(
            "pgvector-missing",
            f"pgvector {version} has no HNSW index; upgrade to 0.5 or later "
            "(ALTER EXTENSION vector UPDATE;)",
        )
    return str(row[0]), version


def migrate(conn: Conn, schema: str, search_path: str) -> list[str]:
    """Create the schema if needed and apply pending migrations; return those applied."""
    applied: list[str] = []
    if up_to_date(conn, schema):  # read-only: so a read replica can be opened for search
        return applied
    with conn.transaction():
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            (f"cairn-migrate:{schema}",),
        )
        exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute("SELECT set_config('search_path', %s, true)", (search_path,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations "
            "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r[0] for r in conn.execute("SELECT name FROM migrations")}
        for name, ddl in MIGRATIONS:
            if name in done:
                continue
            conn.execute(ddl.encode())
            conn.execute("INSERT INTO migrations (name) VALUES (%s)", (name,))
            applied.append(name)
    return applied


def up_to_date(conn: Conn, schema: str) -> bool:
    """Whether the schema exists with every migration applied (reads only)."""
    found = conn.execute(
        "SELECT to_regclass(quote_ident(%s) || '.migrations')", (schema,)
    ).fetchone()
    if found is None or found[0] is None:
        return False
    query = sql.SQL("SELECT name FROM {}.migrations").format(sql.Identifier(schema))
    done = {str(r[0]) for r in conn.execute(query)}
    return all(name in done for name, _ in MIGRATIONS)


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def conninfo(dsn: str) -> dict[str, Any]:
    try:
        return conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as err:
        # libpq's message may quote the string, password included: leave it out.
        raise StoreError(
            "pg-connect", "not a PostgreSQL connection string (libpq cannot parse it)"
        ) from err


def describe_dsn(dsn: str) -> str:
    """Where a DSN points, for messages: never the password."""
    info = conninfo(dsn)
    host = info.get("host") or info.get("hostaddr") or "localhost"
    port = info.get("port") or "5432"
    user = f"{info['user']}@" if info.get("user") else ""
    return f"{user}{host}:{port}/{info.get('dbname') or ''}"
