"""The browser test's contract: skipped with a reason outside CI, a failure under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _run_browser_tests(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env |= {"CAIRN_CHROMIUM": "/nonexistent/chromium", "PYTHONPATH": os.pathsep.join(sys.path)}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            str(TESTS / "test_browser.py"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=TESTS.parent,
        timeout=600,
    )


def test_a_missing_browser_skips_with_its_reason_outside_ci() -> None:
    proc = _run_browser_tests(None)
    assert proc.returncode == 5 or "skipped" in proc.stdout, proc.stdout  # 5: nothing ran
    assert "Chromium at /nonexistent/chromium" in proc.stdout
    assert "scripts/setup --test" in proc.stdout


def test_a_missing_browser_fails_under_ci() -> None:
    proc = _run_browser_tests("true")
    assert proc.returncode not in (0, 5), proc.stdout
    assert "CI=true but browser tests need Chromium" in proc.stdout
