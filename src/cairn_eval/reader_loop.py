"""The reader's fine-tuning loop, with a time budget and resumable checkpoints.

``cairn_eval.reader_train`` holds the model (``make_forward``), the batching and the ONNX export;
this is the loop both it and ``cairn adapt`` run. The optimiser is Adam (AdamW for the encoder)
with the learning rate applied by hand at each step (warm-up over the first tenth, then cosine
down to a twentieth), so the number of steps can be set from the time budget once the first
steps have been timed, and a resumed run picks up the schedule where it stopped.

A checkpoint (parameters, optimiser state, step, schedule length, random key) is written
atomically every ``checkpoint_every_s`` seconds and when the budget runs out; killed and rerun
with the same pairs, training continues from it. Epoch ``e`` shuffles with its own seed, so a
resumed run reads the batches an unbroken one would have read.
"""

from __future__ import annotations

import math
import os
import pickle
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cairn.errors import ConfigError

WARMUP_SHARE = 0.1
END_SHARE = 1 / 20  # the schedule ends at a twentieth of the peak rate
PROBE_STEPS = 20  # steps timed before the budget sets the schedule's length


@dataclass
class TrainResult:
    params: dict[str, Any]
    steps: int  # steps done in all runs together
    total: int  # the schedule's length
    resumed_from: int  # the step this run started at (0: a fresh start)
    finished: bool  # the schedule ran to its end (else the budget stopped it)
    seconds: float  # this run's training time
    last_loss: float


def lr_share(step: int, total: int) -> float:
    """The share of the peak learning rate at ``step`` of a ``total``-step schedule."""
    warm = max(1, int(total * WARMUP_SHARE))
    if step < warm:
        return step / warm
    t = min(1.0, (step - warm) / max(1, total - warm))
    return END_SHARE + (1.0 - END_SHARE) * 0.5 * (1.0 + math.cos(math.pi * t))


def _save(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tmp.open("wb") as f:
        pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def load_checkpoint(path: Path, fingerprint: str) -> dict[str, Any] | None:
    """The checkpoint at ``path`` if it was written for the same pairs and settings."""
    if not path.is_file():
        return None
    try:
        with path.open("rb") as f:
            data: dict[str, Any] = pickle.load(f)  # our own file, beside the KB
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        return None
    return data if data.get("fingerprint") == fingerprint else None


def fit(
    pairs: Sequence[Any],
    base: dict[str, np.ndarray],
    *,
    init: dict[str, Any] | None = None,
    epochs: float = 3.0,
    lr: float = 1e-4,
    batch: int = 32,
    positive_weight: float = 3.0,
    hard_weight: float = 3.0,
    seed: int = 0,
    budget_s: float | None = None,
    checkpoint: Path | None = None,
    fingerprint: str = "",
    checkpoint_every_s: float = 60.0,
    progress: Callable[[int, int, float], None] | None = None,
    max_steps_this_run: int | None = None,
) -> TrainResult:
    """Fine-tune the reader on ``pairs`` (``reader_train.Pair``) from ``init`` (default: the
    base weights with a fresh head). Stops at the end of the schedule, when ``budget_s``
    seconds are spent (the schedule is shortened to fit once the first steps are timed), or
    after ``max_steps_this_run`` steps (tests use it to stand in for a kill)."""
    from cairn_eval.reader_train import HEAD_LR, _jax, batches, encode_pairs, initial_params

    jax, jnp, optax = _jax()
    from cairn_eval.reader_train import make_forward

    t0 = time.monotonic()
    forward = make_forward(jnp.asarray(base["embeddings.word_embeddings.weight"]))
    encoded = encode_pairs(pairs)
    labels = [p.label for p in pairs]
    weights = [positive_weight if p.label else hard_weight if p.hard else 1.0 for p in pairs]
    start = init if init is not None else initial_params(base, seed)
    params = jax.tree_util.tree_map(jnp.asarray, start)
    groups = {
        k: jax.tree_util.tree_map(lambda _, k=k: "head" if k.startswith("h") else "encoder", v)
        for k, v in params.items()
    }
    opt = optax.multi_transform(
        {
            "head": optax.scale_by_adam(),
            "encoder": optax.chain(optax.scale_by_adam(), optax.add_decayed_weights(0.01)),
        },
        groups,
    )
    state = opt.init(params)
    planned = max(2, int(epochs * len(pairs) / batch))
    total, done, key = planned, 0, jax.random.PRNGKey(seed)
    saved = load_checkpoint(checkpoint, fingerprint) if checkpoint else None
    if saved is not None:
        params = jax.tree_util.tree_map(jnp.asarray, saved["params"])
        leaves = jax.tree_util.tree_leaves(saved["opt_state"])
        state = jax.tree_util.tree_unflatten(
            jax.tree_util.tree_structure(state), [jnp.asarray(x) for x in leaves]
        )
        total, done, key = int(saved["total"]), int(saved["done"]), jnp.asarray(saved["key"])
    resumed_from, sized = done, saved is not None or budget_s is None

    def loss_fn(p: Any, ids: Any, types: Any, mask: Any, y: Any, w: Any, k: Any) -> Any:
        z = forward(p, ids, types, mask, k, True)
        return (w * optax.sigmoid_binary_cross_entropy(z, y)).sum() / w.sum()

    def update(
        p: Any, st: Any, ids: Any, types: Any, mask: Any, y: Any, w: Any, k: Any, share: Any
    ) -> Any:
        loss, grads = jax.value_and_grad(loss_fn)(p, ids, types, mask, y, w, k)
        upd, st = opt.update(grads, st, p)
        upd = {
            name: jax.tree_util.tree_map(
                lambda u, rate=(HEAD_LR if name.startswith("h") else lr): -rate * share * u, v
            )
            for name, v in upd.items()
        }
        return optax.apply_updates(p, upd), st, loss

    step = jax.jit(update)

    def snapshot() -> None:
        if checkpoint is None:
            return
        _save(
            checkpoint,
            {
                "fingerprint": fingerprint,
                "params": jax.tree_util.tree_map(np.asarray, params),
                "opt_state": jax.tree_util.tree_map(np.asarray, state),
                "done": done,
                "total": total,
                "key": np.asarray(key),
            },
        )

    per_epoch = max(1, math.ceil(len(pairs) / batch))
    train_t0, last_save, loss = time.monotonic(), time.monotonic(), float("nan")
    ran = 0
    stopped = False
    while done < total and not stopped:
        epoch, skip = divmod(done, per_epoch)
        rng = random.Random(seed * 1000 + epoch)
        for i, (_, ids, types, mask, y, w) in enumerate(
            batches(encoded, labels, weights, batch, rng)
        ):
            if i < skip:
                continue
            key, sub = jax.random.split(key)
            share = jnp.float32(lr_share(done, total))
            params, state, out = step(params, state, ids, types, mask, y, w, sub, share)
            loss = float(out)
            done += 1
            ran += 1
            now = time.monotonic()
            if not sized and ran == PROBE_STEPS:
                rate = ran / max(now - train_t0, 1e-6)  # steps a second, compiling included
                left = budget_s - (now - t0) if budget_s is not None else 0.0
                total = max(done + 1, min(planned, done + int(rate * left * 0.95)))
                sized = True
            if progress:
                progress(done, total, loss)
            out_of_time = budget_s is not None and now - t0 >= budget_s
            if done >= total or out_of_time or ran == max_steps_this_run:
                stopped = done < total
                break
            if now - last_save >= checkpoint_every_s:
                snapshot()
                last_save = now
    snapshot()
    return TrainResult(
        params=jax.tree_util.tree_map(np.asarray, params),
        steps=done,
        total=total,
        resumed_from=resumed_from,
        finished=done >= total,
        seconds=time.monotonic() - train_t0,
        last_loss=loss,
    )


def params_from_onnx(path: Path, base: dict[str, np.ndarray]) -> dict[str, Any]:
    """The parameters of a reader exported by ``reader_train.to_onnx`` (int8-stored matrices
    dequantised; positions past the exported ones and the frozen word table from ``base``)."""
    try:
        import onnx
        from onnx import numpy_helper as nh
    except ImportError as err:
        raise ConfigError(
            "no-train-extra", "reading a reader needs onnx: pip install 'cairn[train]'"
        ) from err
    from cairn_eval.reader_train import _EMB_PARAMS, _LAYER_PARAMS, LAYERS

    model = onnx.load(str(path))
    raw = {t.name: nh.to_array(t) for t in model.graph.initializer}

    def get(name: str) -> np.ndarray:
        if name in raw:
            return np.asarray(raw[name], np.float32)
        q = np.asarray(raw[name + "_q"], np.float32)
        scale = np.asarray(raw[name + "_scale"], np.float32)
        return np.asarray(q * (scale[:, None] if name == "word" else scale[None, :]), np.float32)

    pos = np.array(base["embeddings.position_embeddings.weight"], np.float32)
    exported = get("pos")
    pos[: len(exported)] = exported
    emb = dict(zip(_EMB_PARAMS, (pos, get("type"), get("emb_g"), get("emb_b")), strict=True))
    short = {"attention.self.query": "query", "attention.self.key": "key"}
    short |= {"attention.self.value": "value", "attention.output.dense": "o"}
    short |= {"intermediate.dense": "ff1", "output.dense": "ff2"}
    short |= {"attention.output.LayerNorm": "ln1", "output.LayerNorm": "ln2"}
    layers = []
    for i in range(LAYERS):
        if f"l{i}.query_b" not in raw:  # a shallower stand-in (tests)
            break
        layer = {}
        for name in _LAYER_PARAMS:
            stem, kind = name.rsplit(".", 1)
            tag = f"l{i}.{short[stem]}"
            if stem.endswith("LayerNorm"):
                layer[name] = get(tag + ("_g" if kind == "weight" else "_b"))
            else:
                layer[name] = get(tag + "_w").T.copy() if kind == "weight" else get(tag + "_b")
        layers.append(layer)
    return {
        "emb": emb,
        "layers": layers,
        "h1_w": get("h1_w"),
        "h1_b": get("h1_b"),
        "head_w": get("head_w").reshape(-1),
        "head_b": get("head_b").reshape(()),
    }
