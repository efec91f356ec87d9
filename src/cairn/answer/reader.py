"""The answer-sentence reader: does this sentence answer this question?

A cross-encoder: the question and a candidate sentence (prefixed with its document title) are
read together by a 6-layer MiniLM (all-MiniLM-L6-v2's weights, fine-tuned by Cairn on the
*fit* articles of SQuAD 2.0 to say whether the sentence holds the answer; see
``cairn_eval.reader_train`` and docs/grounding.md). Unlike the sentence encoder, which embeds
question and sentence apart, it sees both at once, so it can notice that a question asks about
something the sentence does not say (SQuAD 2.0's unanswerable questions change one word).

The weights ship inside the package (``reader.onnx``, matrices stored as int8 with one scale
per output unit; its sha256 is checked before use) and run on onnxruntime: no PyTorch and no
network. ``Reader(path)`` loads another reader exported the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cairn.errors import ModelError
from cairn.models.embed import MINILM_TOKENIZER
from cairn.models.packaged import packaged_path, recorded_sha256

READER_PATH = packaged_path("reader.onnx")
READER_SHA256 = recorded_sha256("reader.onnx") or ""
MAX_TOKENS = 128


class SentenceReader(Protocol):
    """Reads a question with each passage; a higher logit means "this passage answers it"."""

    def logits(self, question: str, passages: Sequence[str]) -> np.ndarray: ...


def reader_tokenizer() -> Any:
    """MiniLM's tokenizer as the reader uses it, in training and in use: no padding, pairs
    truncated to ``MAX_TOKENS``."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(MINILM_TOKENIZER))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_TOKENS)
    return tok


def pair_text(title: str, sentence: str) -> str:
    """The second segment the reader reads: the title resolves "it" and "the city"."""
    title = title.replace("_", " ").strip()
    return f"{title}. {sentence}" if title else sentence


class Reader:
    """An exported reader (``cairn_eval.reader_train``) on onnxruntime, loaded on first use."""

    def __init__(self, path: str | Path, *, expected_sha256: str | None = None) -> None:
        self.path = Path(path)
        self.expected_sha256 = expected_sha256
        self.meta: dict[str, Any] = {}
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort

            if not self.path.is_file():
                raise ModelError("model-missing", f"reader model not found: {self.path}")
            if self.expected_sha256:
                got = hashlib.sha256(self.path.read_bytes()).hexdigest()
                if got != self.expected_sha256:
                    raise ModelError(
                        "checksum-mismatch",
                        f"{self.path} has sha256 {got}, expected {self.expected_sha256}; "
                        "reinstall cairn",
                    )
            opts = ort.SessionOptions()
            opts.inter_op_num_threads = 1
            threads = int(os.environ.get("CAIRN_THREADS", "0")) or None
            if threads:
                opts.intra_op_num_threads = threads
            # Fold the int8-stored weights back to float32 once, instead of fusing them into
            # int8 kernels that also quantise the activations (less accurate).
            opts.add_session_config_entry("session.disable_quant_qdq", "1")
            try:
                session = ort.InferenceSession(
                    str(self.path), sess_options=opts, providers=["CPUExecutionProvider"]
                )
            except Exception as err:  # onnxruntime raises its own exception types
                raise ModelError("model-invalid", f"cannot load reader {self.path}: {err}") from err
            meta = session.get_modelmeta().custom_metadata_map
            self.meta = {k: json.loads(v) for k, v in meta.items()}
            self._tokenizer = reader_tokenizer()
            self._session = session

    def logits(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """One logit per passage, each read together with ``question``."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        self.warm_up()
        encs = self._tokenizer.encode_batch([(question, p) for p in passages])
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encs):
            ids[row, : len(e.ids)] = e.ids
            types[row, : len(e.ids)] = e.type_ids
            mask[row, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return np.asarray(self._session.run(None, feeds)[0], dtype=np.float32).reshape(-1)

    def probabilities(self, question: str, passages: Sequence[str]) -> np.ndarray:
        z = self.logits(question, passages)
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0))), dtype=np.float32)


@lru_cache(maxsize=1)
def packaged_reader() -> Reader | None:
    """The reader shipped with Cairn, or None when its file is absent (support then rests on
    the symbolic and encoder signals alone)."""
    if not READER_PATH.is_file():
        return None
    return Reader(READER_PATH, expected_sha256=READER_SHA256 or None)
