"""Choose a store from one setting (txtai ``database/factory.py`` style).

``open_store(None)`` opens ``$CAIRN_KB`` (else the default SQLite file); a ``postgresql://``
(or ``postgres://``) URL opens a :class:`~cairn.kb.postgres.PostgresStore`, and anything else
is the path of a SQLite file.
"""

from __future__ import annotations

from pathlib import Path

from cairn.config import default_kb_spec
from cairn.errors import StoreError
from cairn.kb.protocol import Store
from cairn.kb.sqlite import SQLiteStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(spec: str | Path | None) -> bool:
    return isinstance(spec, str) and spec.strip().lower().startswith(POSTGRES_SCHEMES)


def open_store(spec: str | Path | None = None, *, create: bool = True) -> Store:
    """Open (creating if needed, unless ``create`` is False: then a missing SQLite file is a
    ``kb-missing`` error) the store that ``spec`` names; see the module docstring."""
    if spec is None:
        spec = default_kb_spec()
    if is_postgres_url(spec):
        try:
            from cairn.kb.postgres import PostgresStore
        except ImportError as err:
            raise StoreError(
                "pg-driver-missing",
                f"a PostgreSQL knowledge base needs the postgres extra ({err.name} is missing): "
                "pip install 'cairn[postgres]'",
            ) from err
        return PostgresStore(str(spec).strip())
    return SQLiteStore(Path(spec), create=create)
