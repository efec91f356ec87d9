"""What every loader shares: the supported extensions, :class:`LoadedDocument` and
:class:`LoadOptions`, reading a file's bytes or text within the size limit (refusing binary,
mis-encoded and blank files), and the one-line messages that name the file."""

from __future__ import annotations

import codecs
import errno
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cairn.errors import ConfigError, LoadError

TEXT_EXTENSIONS = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".csv", ".json", ".jsonl"}
)
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"})
AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".mp3", ".ogg", ".webm", ".m4a"})
SUPPORTED_EXTENSIONS = TEXT_EXTENSIONS | IMAGE_EXTENSIONS | AUDIO_EXTENSIONS | {".pdf", ".docx"}

OCR_TIMEOUT_S = 120
_SNIFF_CHARS = 8192  # how much of a file the binary check and the CSV sniffer look at
_BLANK_LINES = re.compile(r"\n{3,}")
_MAX_CONTROL_SHARE = 0.1  # more control characters than this in the sniffed part: binary


@dataclass(frozen=True)
class LoadedDocument:
    text: str  # the full text; all later offsets index into this string
    title: str | None
    doc_key: str | None  # a JSON/JSONL record's "_id" or "id" when present
    metadata: dict[str, str] = field(default_factory=dict)  # small, string values only
    warnings: tuple[str, ...] = ()  # what the parser complained about (reported, not stored)


@dataclass(frozen=True)
class LoadOptions:
    max_bytes: int = 100 * 1024 * 1024  # larger files are refused ("too-large")
    encoding: str | None = None  # None: strict UTF-8 (a BOM is allowed); else this codec

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise ConfigError("bad-max-bytes", f"max_bytes must be positive, got {self.max_bytes}")
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ConfigError(
                    "bad-encoding", f"unknown encoding {self.encoding!r} (try utf-8 or latin-1)"
                ) from None


Loader = Callable[[Path, LoadOptions], list[LoadedDocument]]


def _check_size(path: Path, options: LoadOptions) -> None:
    """Refuse missing, non-regular, empty and too large files before reading a byte."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise LoadError("not-found", f"{_show(path)}: no such file") from None
    except OSError as err:
        raise LoadError("unreadable", f"{_show(path)}: {err.strerror or err}") from err
    if path.is_dir():
        raise LoadError("unreadable", f"{_show(path)}: is a folder, not a file")
    if st.st_size > options.max_bytes:
        raise LoadError(
            "too-large",
            f"{_show(path)}: {st.st_size:,} bytes is over the limit of {options.max_bytes:,} bytes",
        )
    if st.st_size == 0:
        raise LoadError("empty", f"{_show(path)}: file is empty")


def _read_bytes(path: Path, options: LoadOptions) -> bytes:
    try:
        with path.open("rb") as f:
            data = f.read(options.max_bytes + 1)  # the file may have grown since stat()
    except PermissionError:
        raise LoadError("unreadable", f"{_show(path)}: permission denied") from None
    except OSError as err:
        raise LoadError("unreadable", f"{_show(path)}: {err.strerror or err}") from err
    if len(data) > options.max_bytes:
        raise LoadError(
            "too-large", f"{_show(path)}: over the limit of {options.max_bytes:,} bytes"
        )
    if not data:
        raise LoadError("empty", f"{_show(path)}: file is empty")
    return data


def _read_text(path: Path, options: LoadOptions) -> str:
    """The file decoded, newlines normalised; refuses binary, mis-encoded and blank files."""
    data = _read_bytes(path, options)
    if options.encoding is None:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise LoadError(
                "encoding", f"{_show(path)}: looks like UTF-16 text; pass --encoding utf-16"
            )
        _reject_binary(path, data[:_SNIFF_CHARS].decode("latin-1"))
        text = _decode_utf8(path, data)
    else:
        try:
            text = data.decode(options.encoding)
        except UnicodeDecodeError as err:
            line = data.count(b"\n", 0, err.start) + 1
            raise LoadError(
                "encoding",
                f"{_show(path)}: not valid {options.encoding} at byte {err.start} (line {line})",
            ) from None
        except LookupError as err:  # a codec that is not a text encoding, like rot13
            raise LoadError("encoding", f"{_show(path)}: {err}") from None
        _reject_binary(path, text[:_SNIFF_CHARS])
        text = text.removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LoadError("empty", f"{_show(path)}: contains only whitespace")
    return text


def _decode_utf8(path: Path, data: bytes) -> str:
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as err:
        offset = bom + err.start
        line = data.count(b"\n", 0, offset) + 1
        raise LoadError(
            "encoding",
            f"{_show(path)}: not valid UTF-8 at byte {offset} (line {line}); "
            "if the file uses another encoding, name it, e.g. --encoding latin-1",
        ) from None


def _reject_binary(path: Path, sample: str) -> None:
    if "\x00" in sample:
        raise LoadError("binary", f"{_show(path)}: binary data (NUL bytes), not text")
    controls = sum(1 for ch in sample if (ch < " " and ch not in "\t\n\r\f\v") or ch == "\x7f")
    if sample and controls / len(sample) > _MAX_CONTROL_SHARE:
        raise LoadError("binary", f"{_show(path)}: binary data (control characters), not text")


def _unsupported(path: Path) -> LoadError:
    kind = path.suffix or "(no extension)"
    return LoadError(
        "unsupported-format",
        f"{_show(path)}: unsupported file type {kind}; "
        f"supported: {' '.join(sorted(SUPPORTED_EXTENSIONS))}",
        path=str(path),
    )


def _skip(path: Path, why: str, code: str = "skipped") -> LoadError:
    return LoadError(code, f"{_show(path)}: skipped: {why}", path=str(path))


def _not_a_file(path: Path) -> str:
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except RuntimeError:
            return "a symbolic link that loops"
        except OSError as err:
            if err.errno == errno.ELOOP:
                return "a symbolic link that loops"
            return "a symbolic link to nothing"
        return "a symbolic link to something that is not a file"
    return "not a regular file (a FIFO, socket or device)"


def _show(path: Path) -> str:
    """The path for a one-line message: control characters (a newline in a name) escaped."""
    name = str(path)
    if name.isprintable():
        return name
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in name)


def _reason(err: BaseException) -> str:
    """An exception as a short one-line reason."""
    return _one_line(str(err)) or type(err).__name__


def _one_line(text: str) -> str:
    """The last non-blank line of ``text``, trimmed to a readable length ("" if none)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= 200 else line[:197] + "..."


def _squash(text: str) -> str:
    return " ".join(text.split())
