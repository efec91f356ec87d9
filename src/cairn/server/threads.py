"""CPU threads in the server: one thread per model call, many requests in parallel.

A server runs many small requests at once. Libraries that parallelise each call on their
own (numpy's OpenBLAS for the dense matrix product, ONNX Runtime for the query encoder,
CTranslate2 for Whisper) then start more busy threads than there are cores, and their
threads spin while waiting: on a 2-core machine that doubled the CPU time of a search
(BENCHMARKS.md, "Server under load"). The server therefore asks each for one thread per call.
"""

from __future__ import annotations

import ctypes
import logging
from pathlib import Path

log = logging.getLogger("cairn.server")

# numpy wheels bundle OpenBLAS under a prefixed name (scipy-openblas); plain builds do not.
_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)
_GETTERS = (
    "scipy_openblas_get_num_threads64_",
    "scipy_openblas_get_num_threads",
    "openblas_get_num_threads64_",
    "openblas_get_num_threads",
)


def _openblas_libraries() -> list[str]:
    """Paths of the OpenBLAS libraries loaded in this process (Linux: ``/proc/self/maps``)."""
    import numpy  # noqa: F401 - loads numpy's BLAS, if it has not been loaded yet

    maps = Path("/proc/self/maps")
    if not maps.is_file():
        return []
    found: list[str] = []
    for line in maps.read_text(errors="replace").splitlines():
        path = line.split(maxsplit=5)[-1] if line.count(" ") >= 5 else ""
        name = Path(path).name.lower()
        if "openblas" in name and ".so" in name and path not in found:
            found.append(path)
    return found


def blas_threads() -> int | None:
    """OpenBLAS's current thread count, or None when it cannot be read."""
    for path in _openblas_libraries():
        lib = ctypes.CDLL(path)
        for name in _GETTERS:
            getter = getattr(lib, name, None)
            if getter is not None:
                getter.restype = ctypes.c_int
                return int(getter())
    return None


def limit_blas_threads(n: int = 1) -> bool:
    """Let numpy's OpenBLAS use ``n`` threads per call, process-wide; False when not found."""
    for path in _openblas_libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter.argtypes = [ctypes.c_int]
                setter(int(n))
                return True
    log.debug("no OpenBLAS found; BLAS threads left as they are")
    return False
