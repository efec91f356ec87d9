"""Train the claim check (``cairn.answer.nli``): MiniLM cross-encoder, three-way head.

The encoder, pooling, batching and ONNX export are the reader's (``cairn_eval.reader_train``);
only the head (256 -> 3 logits: supports, contradicts, neutral) and the loss (class-weighted
softmax cross-entropy) differ. Training pairs come from fit data only (``cairn_eval.nli_data``):
SciFact claims_train rationales, the fit part of Climate-FEVER (split by claim) and synthetic
contradictions of fit sentences. Training stops at ``--budget-min`` minutes; the learning rate
follows warm-up then cosine decay over whichever runs out first, the planned steps or the
budget, so a shortened run still ends with a small learning rate.

After training, both exports (int8-stored and float32) are scored on the held-out Climate-FEVER
claims (three-way accuracy per evidence sentence, beside the fit part's majority label), so the
int8 file ships only if it holds the float32 accuracy.

Run: ``nice python -m cairn_eval.nli_train --out src/cairn/models/data/nli.onnx --budget-min 25``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cairn.answer.nli import LABELS, NliModel
from cairn.answer.reader import reader_tokenizer
from cairn.errors import ConfigError
from cairn.models.packaged import note_written
from cairn_eval.nli_data import (
    CLIMATE_FEVER,
    SCIFACT,
    NliPair,
    climate_fever_pairs,
    file_sha256,
    label_counts,
    scifact_train_pairs,
    synthetic_pairs,
)
from cairn_eval.reader_train import (
    HEAD_LR,
    HIDDEN,
    _jax,
    batches,
    find_base,
    initial_params,
    load_base,
    make_forward,
    to_onnx,
)


def build_training_pairs(
    scifact: Path = SCIFACT, climate: Path = CLIMATE_FEVER, *, synthetic: int = 3000, seed: int = 0
) -> list[NliPair]:
    from cairn.synthetic.dataset import load_nlp

    sf, sf_sentences = scifact_train_pairs(scifact, seed=seed)
    cf = climate_fever_pairs(climate, "fit")
    supported = [p for p in sf if p.label == 0]
    sentences = sf_sentences + [p.sentence for p in cf]
    syn = synthetic_pairs(sentences, supported, load_nlp(), limit=synthetic, seed=seed)
    return sf + cf + syn


WIDTHS = (64, 128)  # every batch is padded to one of these widths and to the full batch size


def fixed_shape(batch_rows: Any, size: int) -> Any:
    """A batch padded to a width of ``WIDTHS`` and to ``size`` rows (copies of its first row
    with weight 0), so JAX compiles two shapes, not one per width and size (on a busy CPU a
    compile costs a minute or more)."""
    blk, ids, types, mask, y, w = batch_rows
    n, width = ids.shape
    target = next((x for x in WIDTHS if width <= x), width)
    pad_w = target - width
    ids, types = np.pad(ids, ((0, 0), (0, pad_w))), np.pad(types, ((0, 0), (0, pad_w)))
    mask = np.pad(mask, ((0, 0), (0, pad_w)))
    if n < size:
        rows = np.zeros(size - n, dtype=np.int64)
        ids, types, mask = (np.concatenate([a, a[rows]]) for a in (ids, types, mask))
        y = np.concatenate([y, y[rows]])
        w = np.concatenate([w, np.zeros(size - n, w.dtype)])
    return blk, ids, types, mask, y, w


def params_from_onnx(path: Path) -> dict[str, Any]:
    """The parameters of a float32 export (``--init``: continue training from it)."""
    import onnx
    from onnx import numpy_helper as nh

    from cairn_eval.reader_train import _EMB_PARAMS, _LAYER_PARAMS, LAYERS

    w = {i.name: nh.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    if "word_q" in w:
        raise ConfigError("bad-init", f"{path} is int8-stored: continue from the .f32.onnx file")
    emb = dict(zip(_EMB_PARAMS, (w["pos"], w["type"], w["emb_g"], w["emb_b"]), strict=True))
    dense = {"query": "query", "key": "key", "value": "value"}
    layers = []
    for i in range(LAYERS):
        la: dict[str, np.ndarray] = {}
        for name in _LAYER_PARAMS:
            part, kind = name.rsplit(".", 1)
            short = {
                **{f"attention.self.{k}": f"l{i}.{v}" for k, v in dense.items()},
                "attention.output.dense": f"l{i}.o",
                "attention.output.LayerNorm": f"l{i}.ln1",
                "intermediate.dense": f"l{i}.ff1",
                "output.dense": f"l{i}.ff2",
                "output.LayerNorm": f"l{i}.ln2",
            }[part]
            if "LayerNorm" in part:
                la[name] = w[f"{short}_{'g' if kind == 'weight' else 'b'}"]
            else:
                la[name] = w[f"{short}_w"].T if kind == "weight" else w[f"{short}_b"]
        layers.append(la)
    return {
        "emb": emb,
        "layers": layers,
        "h1_w": w["h1_w"],
        "h1_b": w["h1_b"],
        "head_w": w["head_w"],
        "head_b": w["head_b"],
    }


def train(
    pairs: Sequence[NliPair],
    base: dict[str, np.ndarray],
    *,
    init: dict[str, Any] | None = None,
    epochs: float = 2.0,
    lr: float = 1e-4,
    batch: int = 32,
    budget_s: float = 1500.0,
    seed: int = 0,
) -> tuple[dict[str, Any], int]:
    """Fine-tune; returns the parameters (numpy) and the number of steps taken."""
    jax, jnp, optax = _jax()
    word = jnp.asarray(base["embeddings.word_embeddings.weight"])
    forward = make_forward(word)
    encs = reader_tokenizer().encode_batch([(p.claim, p.sentence) for p in pairs])
    encoded = [(e.ids, e.type_ids) for e in encs]
    labels = [p.label for p in pairs]
    counts = Counter(labels)
    # Rarer labels weigh more (square root of the inverse frequency), so contradictions count.
    class_w = {c: (len(pairs) / (len(LABELS) * counts[c])) ** 0.5 for c in counts}
    weights = [class_w[y] for y in labels]
    params = initial_params(base, seed)
    rng0 = np.random.default_rng(seed + 1)
    params["head_w"] = (rng0.standard_normal((HIDDEN, len(LABELS))) * 0.01).astype(np.float32)
    params["head_b"] = np.zeros(len(LABELS), np.float32)
    if init is not None:
        params = init
    params = jax.tree_util.tree_map(jnp.asarray, params)
    steps = max(2, int(epochs * len(pairs) / batch))
    groups = {
        k: jax.tree_util.tree_map(lambda _, k=k: "head" if k.startswith("h") else "encoder", v)
        for k, v in params.items()
    }
    opt = optax.multi_transform(
        {"head": optax.adam(HEAD_LR), "encoder": optax.adamw(lr, weight_decay=0.01)}, groups
    )
    state = opt.init(params)

    def loss_fn(p: Any, ids: Any, types: Any, mask: Any, y: Any, w: Any, key: Any) -> Any:
        z = forward(p, ids, types, mask, key, True)
        ce = optax.softmax_cross_entropy_with_integer_labels(z, y.astype(jnp.int32))
        return (w * ce).sum() / w.sum()

    def update(
        p: Any, st: Any, ids: Any, types: Any, mask: Any, y: Any, w: Any, key: Any, scale: Any
    ) -> Any:
        loss, grads = jax.value_and_grad(loss_fn)(p, ids, types, mask, y, w, key)
        updates, st = opt.update(grads, st, p)
        updates = jax.tree_util.tree_map(lambda u: u * scale, updates)  # the schedule
        return optax.apply_updates(p, updates), st, loss

    step = jax.jit(update)
    rng = random.Random(seed)
    key = jax.random.PRNGKey(seed)
    done, losses, t0 = 0, [], time.perf_counter()
    warm = max(1, steps // 10)
    while done < steps:
        for rows in batches(encoded, labels, weights, batch, rng):
            _, ids, types, mask, y, w = fixed_shape(rows, batch)
            spent = (time.perf_counter() - t0) / budget_s
            progress = max(done / steps, spent)
            if progress >= 1.0:
                break
            cosine = 0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * progress))
            scale = min(1.0, (done + 1) / warm) * cosine
            key, sub = jax.random.split(key)
            params, state, loss = step(params, state, ids, types, mask, y, w, sub, scale)
            losses.append(float(loss))
            done += 1
            if done % 50 == 0:
                sys.stderr.write(
                    f"step {done}/{steps} loss {np.mean(losses[-50:]):.4f} "
                    f"{time.perf_counter() - t0:.0f}s\n"
                )
        else:
            continue
        break
    return jax.tree_util.tree_map(np.asarray, params), done


def three_way_report(model: NliModel, pairs: Sequence[NliPair], majority: int) -> dict[str, Any]:
    """Accuracy per (claim, evidence sentence) pair, the majority baseline and per-label recall."""
    by_claim: dict[str, list[NliPair]] = {}
    for p in pairs:
        by_claim.setdefault(p.claim, []).append(p)
    pred: list[int] = []
    gold: list[int] = []
    for claim, group in by_claim.items():
        probs = model.probabilities3(claim, [p.sentence for p in group])
        pred.extend(int(i) for i in probs.argmax(axis=1))
        gold.extend(p.label for p in group)
    g, q = np.array(gold), np.array(pred)
    return {
        "pairs": len(gold),
        "claims": len(by_claim),
        "accuracy": round(float(np.mean(g == q)), 4),
        "majority_label": LABELS[majority],
        "majority_baseline": round(float(np.mean(g == majority)), 4),
        "recall": {
            name: round(float(np.mean(q[g == i] == i)), 4) if np.any(g == i) else 0.0
            for i, name in enumerate(LABELS)
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--scifact", type=Path, default=SCIFACT)
    ap.add_argument("--climate-fever", type=Path, default=CLIMATE_FEVER)
    ap.add_argument("--synthetic", type=int, default=3000)
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--budget-min", type=float, default=25.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--base", type=Path, default=None, help="folder with model.safetensors")
    ap.add_argument("--out", type=Path, default=None, help="where to write the int8 export")
    ap.add_argument("--init", type=Path, default=None, help="continue from a .f32.onnx export")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--no-report", action="store_true", help="export only (report: --report)")
    ap.add_argument("--report", type=Path, default=None, help="score this export and exit")
    args = ap.parse_args(argv)
    if args.report is not None:
        cf_fit = [p.label for p in climate_fever_pairs(args.climate_fever, "fit")]
        majority = Counter(cf_fit).most_common(1)[0][0]
        held = climate_fever_pairs(args.climate_fever, "held-out")
        rep = three_way_report(NliModel(args.report), held, majority)
        sys.stdout.write(json.dumps({str(args.report): rep}, indent=1) + "\n")
        return 0
    if args.out is None:
        raise SystemExit("--out is required (unless --report)")
    if not 0 < args.epochs <= 20 or not 0 < args.lr < 1 or not 0 < args.budget_min <= 240:
        raise SystemExit("--epochs must be in (0, 20], --lr in (0, 1), --budget-min in (0, 240]")
    try:
        base = load_base(args.base or find_base())
        _jax()
        pairs = build_training_pairs(
            args.scifact, args.climate_fever, synthetic=args.synthetic, seed=args.seed
        )
        held_out = climate_fever_pairs(args.climate_fever, "held-out")
        init = params_from_onnx(args.init) if args.init else None
    except ConfigError as err:
        raise SystemExit(f"error: {err}") from err
    sys.stderr.write(f"{len(pairs)} training pairs {label_counts(pairs)}\n")
    t0 = time.perf_counter()
    params, steps = train(
        pairs,
        base,
        epochs=args.epochs,
        lr=args.lr,
        budget_s=args.budget_min * 60,
        seed=args.seed,
        init=init,
        batch=args.batch,
    )
    sources = Counter(p.source.split(":")[0] for p in pairs)
    meta: dict[str, Any] = {
        "name": "cairn-nli-minilm-3way",
        "labels": list(LABELS),
        "base": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0)",
        "train_data": {
            "scifact_claims_train": file_sha256(args.scifact / "claims_train.jsonl"),
            "scifact_corpus": file_sha256(args.scifact / "corpus.jsonl"),
            "climate_fever_fit_part": file_sha256(args.climate_fever),
        },
        "pairs": len(pairs),
        "pairs_by_source": dict(sources),
        "labels_count": label_counts(pairs),
        "pairs_sha256": hashlib.sha256(
            json.dumps([[p.claim, p.sentence, p.label] for p in pairs]).encode()
        ).hexdigest(),
        "continued_from": str(args.init) if args.init else None,
        "epochs_planned": args.epochs,
        "steps": steps,
        "lr": args.lr,
        "batch": args.batch,
        "seed": args.seed,
        "train_seconds": round(time.perf_counter() - t0),
        "date": dt.date.today().isoformat(),
    }
    import onnx

    word = base["embeddings.word_embeddings.weight"]
    cf_fit = [p.label for p in climate_fever_pairs(args.climate_fever, "fit")]
    majority = Counter(cf_fit).most_common(1)[0][0]
    reports = {}
    f32_path = args.out.with_name(args.out.stem + ".f32.onnx")
    for int8, path in ((False, f32_path), (True, args.out)):
        path.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(to_onnx(params, word, meta, int8=int8), str(path))
        if args.no_report:
            continue
        rep = three_way_report(NliModel(path), held_out, majority)
        rep["bytes"] = path.stat().st_size
        reports["int8" if int8 else "float32"] = rep
    note_written(args.out)  # the int8 model, when written into the packaged folder
    meta["climate_fever_held_out"] = reports
    sys.stdout.write(json.dumps(meta, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
