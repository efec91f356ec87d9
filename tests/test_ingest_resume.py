"""kill -9 in the middle of an ingest leaves a consistent knowledge base; a rerun resumes."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import cairn
from cairn.ingest.chunker import ChunkerConfig
from cairn.ingest.pipeline import Status
from cairn.models.embed import HashingEmbedder

N_FILES, SENTENCES = 16, 300
SCRIPT = textwrap.dedent(
    """
    import sys, time
    import cairn
    from cairn.ingest.chunker import ChunkerConfig
    from cairn.models.embed import HashingEmbedder

    class Slow(HashingEmbedder):
        def embed_batch(self, texts):
            time.sleep(0.002 * len(texts))
            return super().embed_batch(texts)

    kb = cairn.open(sys.argv[1], embedder=Slow())
    kb.ingest([sys.argv[2]], graph=False, chunker=ChunkerConfig(max_chars=60, min_chars=0))
    """
)


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_kill_minus_nine_then_resume(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(N_FILES):
        body = " ".join(f"File {i} sentence {j} talks about topic{j}." for j in range(SENTENCES))
        (docs / f"f{i:02d}.txt").write_text(body)
    db = tmp_path / "kb.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(db), str(docs)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.1)
            try:
                if db.exists() and count(db, "SELECT COUNT(*) FROM sources") >= 2:
                    break
            except sqlite3.Error:
                continue
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    done = count(db, "SELECT COUNT(*) FROM sources")
    assert 2 <= done < N_FILES, "the kill should land mid-ingest"

    # Consistent: every stored source is whole, every chunk has its vector and FTS row.
    chunks = count(db, "SELECT COUNT(*) FROM chunks")
    assert chunks == done * SENTENCES
    assert count(db, "SELECT COUNT(*) FROM embeddings") == chunks
    assert count(db, "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH 'sentence'") == chunks
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    with cairn.open(db, embedder=HashingEmbedder()) as kb:
        report = kb.ingest([docs], graph=False, chunker=ChunkerConfig(max_chars=60, min_chars=0))
        assert report.count(Status.unchanged) == done
        assert report.count(Status.added) == N_FILES - done
        assert kb.stats().chunks == N_FILES * SENTENCES  # no duplicates
