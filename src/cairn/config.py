"""Typed settings in one place. Environment variables (``CAIRN_*``) override the defaults."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir


def default_kb_spec() -> str | Path:
    """``$CAIRN_KB`` (a SQLite path or a ``postgresql://`` URL), else the default SQLite file."""
    env = (os.environ.get("CAIRN_KB") or "").strip()
    if env.lower().startswith(("postgresql://", "postgres://")):
        return env
    return default_kb_path()


def default_kb_path() -> Path:
    """The default SQLite file: ``$CAIRN_KB`` when it is a path, else
    ``<user data dir>/cairn/kb.sqlite`` (also the data folder's anchor for a URL)."""
    env = (os.environ.get("CAIRN_KB") or "").strip()
    if env and "://" not in env:
        return Path(env).expanduser()
    return Path(user_data_dir("cairn", appauthor=False)) / "kb.sqlite"


def cache_dir() -> Path:
    """``$CAIRN_CACHE_DIR``, else the user cache dir: assembled models and other caches."""
    env = os.environ.get("CAIRN_CACHE_DIR")
    return Path(env).expanduser() if env else Path(user_cache_dir("cairn", appauthor=False))
