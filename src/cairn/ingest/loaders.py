"""Read files into plain text documents, one small function per format (in
:mod:`~cairn.ingest.text_loaders`, :mod:`~cairn.ingest.document_loaders`,
:mod:`~cairn.ingest.data_loaders`, :mod:`~cairn.ingest.image_loader` and
:mod:`~cairn.ingest.audio_loader`; what they share is :mod:`~cairn.ingest.file_reading`).

``discover`` turns the paths a person names into the files to ingest; ``load`` reads one
file into zero or more :class:`LoadedDocument`. Every failure is a
:class:`~cairn.errors.LoadError` whose ``code`` is stable and whose message is one line that
names the file and says what is wrong.

Codes: ``not-found``, ``unreadable``, ``unsupported-format``, ``too-large``, ``empty``,
``binary``, ``encoding``, ``no-text``, ``bad-pdf``, ``bad-docx``, ``archive-too-large`` and
``suspicious-archive`` (zip bombs), ``bad-csv``, ``bad-json``, ``ocr-unavailable``,
``ocr-failed``; for audio (transcribed, see :mod:`cairn.ingest.audio_loader`)
``stt-unavailable``, ``stt-failed``, ``no-speech`` and the audio decoder's codes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from cairn.errors import LoadError
from cairn.ingest.data_loaders import _load_csv, _load_json, _load_jsonl
from cairn.ingest.document_loaders import _load_docx, _load_pdf
from cairn.ingest.file_reading import (
    AUDIO_EXTENSIONS,
    IMAGE_EXTENSIONS,
    SUPPORTED_EXTENSIONS,
    LoadedDocument,
    Loader,
    LoadOptions,
    _check_size,
    _not_a_file,
    _show,
    _skip,
    _unsupported,
)
from cairn.ingest.image_loader import _load_image
from cairn.ingest.text_loaders import _load_html, _load_markdown, _load_txt

# --------------------------------------------------------------------------- discover


def discover(
    paths: Sequence[str | Path], skipped: list[LoadError] | None = None
) -> tuple[list[Path], list[LoadError]]:
    """The supported files under ``paths``, absolute and each once, plus what could not be used.

    Folders are walked recursively in sorted order, skipping hidden files and folders; a file
    of unknown type, a link that loops or leads nowhere, a link to a folder (not followed) or
    a FIFO found inside a folder is skipped and, when ``skipped`` is given, added to it with
    its reason. A file named explicitly with an unknown type is an error.
    """
    skipped = [] if skipped is None else skipped
    files: list[Path] = []
    errors: list[LoadError] = []
    seen: set[Path] = set()

    def keep(path: Path) -> None:
        if path not in seen:
            seen.add(path)
            files.append(path)

    for raw in paths:
        given = Path(raw)
        try:
            resolved = given.resolve()
            exists = resolved.exists()
        except (OSError, RuntimeError) as err:  # RuntimeError: a symlink loop
            errors.append(
                LoadError(
                    "unreadable", f"{_show(given)}: cannot resolve path: {err}", path=str(given)
                )
            )
            continue
        if not exists:
            errors.append(
                LoadError("not-found", f"{_show(given)}: no such file or folder", path=str(given))
            )
        elif resolved.is_dir():
            for path in _walk(resolved, errors, skipped):
                keep(path)
        elif resolved.suffix.lower() not in SUPPORTED_EXTENSIONS:
            errors.append(_unsupported(given))
        elif not resolved.is_file():
            errors.append(
                LoadError("unreadable", f"{_show(given)}: not a regular file", path=str(given))
            )
        elif not os.access(resolved, os.R_OK):
            errors.append(
                LoadError("unreadable", f"{_show(given)}: permission denied", path=str(given))
            )
        else:
            keep(resolved)
    return files, errors


def _walk(folder: Path, errors: list[LoadError], skipped: list[LoadError]) -> Iterator[Path]:
    def on_error(err: OSError) -> None:
        where = _show(Path(err.filename)) if err.filename else _show(folder)
        errors.append(
            LoadError("unreadable", f"{where}: cannot list folder: {err.strerror}", str(folder))
        )

    for dirpath, dirnames, filenames in os.walk(folder, onerror=on_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in list(dirnames):
            if Path(dirpath, name).is_symlink():  # os.walk does not follow it: say so
                dirnames.remove(name)
                skipped.append(_skip(Path(dirpath, name), "a link to a folder, not followed"))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if name.startswith("."):
                continue
            if not path.is_file():  # a FIFO, a link that loops or leads nowhere
                skipped.append(_skip(path, _not_a_file(path)))
                continue
            if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
                kind = path.suffix or "(no extension)"
                skipped.append(_skip(path, f"unsupported file type {kind}", "unsupported-format"))
                continue
            if not os.access(path, os.R_OK):
                errors.append(
                    LoadError("unreadable", f"{_show(path)}: permission denied", path=str(path))
                )
                continue
            yield path.resolve()


# --------------------------------------------------------------------------- load


def load(path: Path, options: LoadOptions = LoadOptions()) -> list[LoadedDocument]:
    """Read one file into zero or more documents; raise :class:`LoadError` if it can't be read."""
    path = Path(path)
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        raise _unsupported(path)
    _check_size(path, options)
    return loader(path, options)


# --------------------------------------------------------------------------- audio


def _load_audio(path: Path, options: LoadOptions) -> list[LoadedDocument]:
    from cairn.ingest.audio_loader import load_audio

    return load_audio(path, options)


# --------------------------------------------------------------------------- formats

_LOADERS: dict[str, Loader] = {
    ".txt": _load_txt,
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".csv": _load_csv,
    ".json": _load_json,
    ".jsonl": _load_jsonl,
    **dict.fromkeys(IMAGE_EXTENSIONS, _load_image),
    **dict.fromkeys(AUDIO_EXTENSIONS, _load_audio),
}
