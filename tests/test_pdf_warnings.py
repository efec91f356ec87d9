"""pypdf's complaints about a damaged PDF are reported on the file's own line, never bare."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

from reportlab.pdfgen import canvas

from cairn.ingest.loaders import load
from cairn.ingest.parser_warnings import parser_warnings

SCRIPT = """
import sys
import cairn
from cairn.graph.extract import CapitalisedExtractor
from cairn.models.embed import HashingEmbedder
from cairn.cli.progress import event_progress
with cairn.open(sys.argv[1], embedder=HashingEmbedder(), extractor=CapitalisedExtractor()) as kb:
    with event_progress() as on_event:
        report = kb.ingest([sys.argv[2]], on_event=on_event)
print(report.outcomes[0].status.value)
"""


def damaged_pdf(path: Path) -> Path:
    """A readable PDF whose startxref pointer is off by 7 bytes (pypdf warns and recovers)."""
    c = canvas.Canvas(str(path))
    c.drawString(72, 720, "Steam engines pumped water from mines.")
    c.showPage()
    c.save()
    data = re.sub(
        rb"startxref\s+(\d+)",
        lambda m: b"startxref\n" + str(int(m.group(1)) + 7).encode(),
        path.read_bytes(),
    )
    path.write_bytes(data)
    return path


def test_load_keeps_the_warnings_with_the_document(tmp_path: Path) -> None:
    [doc] = load(damaged_pdf(tmp_path / "damaged.pdf"))
    assert "Steam engines" in doc.text
    assert any("startxref" in w for w in doc.warnings)


def test_ingest_names_the_file_and_prints_no_bare_line(tmp_path: Path) -> None:
    pdf = damaged_pdf(tmp_path / "damaged.pdf")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "kb.sqlite"), str(pdf)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": ":".join(sys.path), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "added"
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines, "the warning must still be reported"
    assert all(line.startswith("warning ") and str(pdf) in line for line in lines), lines
    assert any("startxref" in line for line in lines)


def test_another_threads_warnings_are_not_collected() -> None:
    import logging

    log = logging.getLogger("pypdf.test")
    with parser_warnings("pypdf") as mine:
        log.warning("mine  twice")
        log.warning("mine twice")
        t = threading.Thread(target=lambda: log.warning("someone else's file"))
        t.start()
        t.join()
    assert mine.summary() == ["mine twice (x2)"]
