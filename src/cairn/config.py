"""Typed settings in one place. Environment variables (``CAIRN_*``) override the defaults."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir


def default_kb_path() -> Path:
    """``$CAIRN_KB``, else ``<user data dir>/cairn/kb.sqlite``."""
    env = os.environ.get("CAIRN_KB")
    if env:
        return Path(env).expanduser()
    return Path(user_data_dir("cairn", appauthor=False)) / "kb.sqlite"


def cache_dir() -> Path:
    """``$CAIRN_CACHE_DIR``, else the user cache dir: assembled models and other caches."""
    env = os.environ.get("CAIRN_CACHE_DIR")
    return Path(env).expanduser() if env else Path(user_cache_dir("cairn", appauthor=False))
