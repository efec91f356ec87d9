"""The model files that ship inside the package: one folder, one list of checksums.

Every packaged weight file (the embedder's tokenizer, the answer-sentence reader, the fitted
verifier, short-answer ranker and contradiction weights, the claim checker when built) lives in
``cairn/models/data``, and ``SHA256SUMS`` beside them records each file's sha256 in the format
``sha256sum -c`` reads. A trainer that replaces a file writes it in place and records its new
checksum with :func:`record_sha256`; ``tests/test_packaged_models.py`` fails when a file and
its recorded checksum disagree, or when a file is not listed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
SUMS = DATA_DIR / "SHA256SUMS"


def packaged_path(name: str) -> Path:
    """Where the packaged file ``name`` lives (it may not exist yet, e.g. before training)."""
    return DATA_DIR / name


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recorded_sums() -> dict[str, str]:
    """File name -> recorded sha256, from ``SHA256SUMS``."""
    if not SUMS.is_file():
        return {}
    sums = {}
    for line in SUMS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*")] = digest
    return sums


def recorded_sha256(name: str) -> str | None:
    """The recorded sha256 of packaged file ``name``; None when it is not recorded."""
    return recorded_sums().get(name)


def record_sha256(path: Path) -> str:
    """Record the sha256 of a packaged file just written in place; returns it."""
    if path.parent.resolve() != DATA_DIR.resolve():
        raise ValueError(f"{path} is not in the packaged model folder {DATA_DIR}")
    sums = recorded_sums()
    sums[path.name] = file_sha256(path)
    lines = [f"{digest}  {name}" for name, digest in sorted(sums.items())]
    SUMS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sums[path.name]


def note_written(path: Path) -> bool:
    """Call after a trainer writes ``path``: when it is a packaged file (replaced in place),
    record its new checksum. Returns whether it was one."""
    if path.parent.resolve() != DATA_DIR.resolve():
        return False
    record_sha256(path)
    return True
