"""Images, read by OCR (tesseract, run as a separate program)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from cairn.errors import LoadError
from cairn.ingest.file_reading import (
    _BLANK_LINES,
    OCR_TIMEOUT_S,
    LoadedDocument,
    LoadOptions,
    _one_line,
    _read_bytes,
    _show,
)

# --------------------------------------------------------------------------- images (OCR)


def _load_image(path: Path, options: LoadOptions) -> list[LoadedDocument]:
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        raise LoadError(
            "ocr-unavailable",
            f"{_show(path)}: is an image, and OCR needs tesseract: "
            "apt-get install tesseract-ocr tesseract-ocr-eng",
        )
    _read_bytes(path, options)  # readable, and not grown past the limit
    try:
        done = subprocess.run(
            [tesseract, os.fspath(path.absolute()), "stdout"],
            capture_output=True,
            timeout=OCR_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise LoadError(
            "ocr-failed", f"{_show(path)}: tesseract took longer than {OCR_TIMEOUT_S} s"
        ) from None
    if done.returncode != 0:
        reason = _one_line(done.stderr.decode("utf-8", "replace")) or f"exit {done.returncode}"
        raise LoadError("ocr-failed", f"{_show(path)}: tesseract failed: {reason}")
    text = done.stdout.decode("utf-8", "replace").replace("\f", "\n")
    text = _BLANK_LINES.sub("\n\n", text.replace("\r\n", "\n")).strip()
    if not text:
        raise LoadError("no-text", f"{_show(path)}: OCR found no text in the image")
    return [LoadedDocument(text, path.stem, None, {"format": "image", "ocr": "tesseract"})]
