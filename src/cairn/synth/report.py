"""How close a synthetic table is to the real one (fidelity) and how far from its rows
(privacy), measured against a real hold-out the generator never saw."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from cairn.synth.bins import Binning, binning, modelled_columns
from cairn.synth.table import Column, SynthError, Table, rows_of

METRIC_BINS = 10


def split(table: Table, holdout: float = 0.2, *, seed: int = 0) -> tuple[Table, Table]:
    """A random train / hold-out split of the rows."""
    if not 0 < holdout < 1:
        raise SynthError("bad-holdout", f"--holdout {holdout}: use a share in (0, 1)")
    n = table.n_rows
    order = np.random.default_rng(seed).permutation(n)
    cut = max(1, min(n - 2, round(n * holdout)))
    return table.take(np.sort(order[cut:])), table.take(np.sort(order[:cut]))


@dataclass
class _Encoded:
    binnings: list[Binning]

    def codes(self, table: Table) -> np.ndarray:
        cols = [table.column(b.name) for b in self.binnings]
        return np.stack([b.encode(c) for b, c in zip(self.binnings, cols, strict=True)], axis=1)

    def onehot(self, codes: np.ndarray, skip: int | None = None) -> np.ndarray:
        blocks = []
        for j, b in enumerate(self.binnings):
            if j == skip:
                continue
            block = np.zeros((len(codes), b.size))
            block[np.arange(len(codes)), codes[:, j]] = 1.0
            blocks.append(block)
        return np.concatenate(blocks, axis=1) if blocks else np.zeros((len(codes), 0))


def _tvd(a: np.ndarray, b: np.ndarray, size: int) -> float:
    pa = np.bincount(a, minlength=size) / max(len(a), 1)
    pb = np.bincount(b, minlength=size) / max(len(b), 1)
    return float(0.5 * np.abs(pa - pb).sum())


def _cramers_v(a: np.ndarray, b: np.ndarray, ka: int, kb: int) -> float:
    joint = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb).astype(float)
    n = joint.sum()
    expected = np.outer(joint.sum(1), joint.sum(0)) / n
    mask = expected > 0
    chi2 = float((((joint - expected) ** 2)[mask] / expected[mask]).sum())
    k = min((joint.sum(1) > 0).sum(), (joint.sum(0) > 0).sum()) - 1
    return float(np.sqrt(chi2 / (n * k))) if k > 0 else 0.0


def _softmax_fit(x: np.ndarray, y: np.ndarray, k: int, steps: int = 300) -> np.ndarray:
    """Multinomial logistic regression (L2 1e-3) by full-batch gradient descent with Adam."""
    xb = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    w = np.zeros((xb.shape[1], k))
    m, v = np.zeros_like(w), np.zeros_like(w)
    target = np.eye(k)[y]
    for t in range(1, steps + 1):
        logits = xb @ w
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        grad = xb.T @ (p - target) / len(xb) + 1e-3 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w


def _accuracy(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    xb = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    return float(((xb @ w).argmax(axis=1) == y).mean())


def default_target(table: Table) -> str | None:
    """The last column with 2-10 values: a class a model could learn to predict."""
    for c in reversed(modelled_columns(table)):
        distinct = (
            {v for v in c.labels if v}
            if not c.is_numeric
            else set(c.numbers[~np.isnan(c.numbers)].tolist())
        )
        if 2 <= len(distinct) <= 10:
            return c.name
    return None


def _features(table: Table, ref: Table) -> np.ndarray:
    """Rows as vectors for distances: numbers standardised on ``ref`` plus a missing flag;
    categories one-hot, scaled so a differing category counts like one standard deviation."""
    blocks = []
    for like in modelled_columns(ref):
        col: Column = table.column(like.name)
        if like.is_numeric:
            present = like.numbers[~np.isnan(like.numbers)]
            mu = float(present.mean()) if present.size else 0.0
            sd = float(present.std()) if present.size and present.std() > 0 else 1.0
            miss = np.isnan(col.numbers)
            blocks.append(np.nan_to_num((col.numbers - mu) / sd)[:, None])
            blocks.append(miss[:, None].astype(float))
        else:
            cats = sorted(set(like.labels))
            index = {c: i for i, c in enumerate(cats)}
            block = np.zeros((len(col), len(cats) + 1))
            block[np.arange(len(col)), [index.get(v, len(cats)) for v in col.labels]] = 0.7071
            blocks.append(block)
    return np.concatenate(blocks, axis=1)


def _nearest(a: np.ndarray, b: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """For each row of a, the Euclidean distance to its nearest row of b."""
    out = np.empty(len(a))
    b2 = (b**2).sum(axis=1)
    for s in range(0, len(a), chunk):
        block = a[s : s + chunk]
        d2 = (block**2).sum(axis=1)[:, None] + b2[None, :] - 2 * block @ b.T
        out[s : s + chunk] = np.sqrt(np.maximum(d2.min(axis=1), 0))
    return out


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(score of a positive > score of a negative), ties counted half (Mann-Whitney)."""
    scores = np.concatenate([positive, negative])
    order = scores.argsort(kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks of ties
        tie = scores == value
        ranks[tie] = ranks[tie].mean()
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def compare(
    real: Table,
    synthetic: Table,
    holdout: Table | None = None,
    *,
    target: str | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Fidelity and privacy of ``synthetic`` against the ``real`` rows it was fitted on;
    hold-out metrics are null (with a note) when no hold-out is given."""
    if synthetic.names != real.names:
        raise SynthError("columns-differ", f"columns {synthetic.names} differ from {real.names}")
    columns = modelled_columns(real)
    enc = _Encoded([binning(c, METRIC_BINS, quantile=True) for c in columns])
    r, s = enc.codes(real), enc.codes(synthetic)
    per_column = {
        b.name: round(_tvd(r[:, j], s[:, j], b.size), 4) for j, b in enumerate(enc.binnings)
    }
    pair_tvd, assoc_diff = [], []
    for i, j in combinations(range(len(columns)), 2):
        ki, kj = enc.binnings[i].size, enc.binnings[j].size
        pair_tvd.append(_tvd(r[:, i] * kj + r[:, j], s[:, i] * kj + s[:, j], ki * kj))
        assoc_diff.append(
            abs(_cramers_v(r[:, i], r[:, j], ki, kj) - _cramers_v(s[:, i], s[:, j], ki, kj))
        )
    fidelity: dict[str, Any] = {
        "column_tvd": per_column,
        "mean_column_tvd": round(float(np.mean(list(per_column.values()))), 4),
        "mean_2way_tvd": round(float(np.mean(pair_tvd)), 4) if pair_tvd else None,
        "max_2way_tvd": round(float(np.max(pair_tvd)), 4) if pair_tvd else None,
        "mean_association_diff": round(float(np.mean(assoc_diff)), 4) if assoc_diff else None,
    }
    notes: list[str] = []
    if holdout is not None:
        h = enc.codes(holdout)
        floor = [
            _tvd(r[:, i] * kj + r[:, j], h[:, i] * kj + h[:, j], enc.binnings[i].size * kj)
            for i, j in combinations(range(len(columns)), 2)
            for kj in [enc.binnings[j].size]
        ]
        # what a second real sample of the hold-out's size scores: the sampling floor
        fidelity["holdout_mean_2way_tvd"] = round(float(np.mean(floor)), 4) if floor else None
    target = target or default_target(real)
    if holdout is not None and target is not None:
        names = [b.name for b in enc.binnings]
        if target not in names:
            raise SynthError(
                "unknown-column", f"--target {target!r}: not a modelled column {names}"
            )
        t = names.index(target)
        h = enc.codes(holdout)
        k = enc.binnings[t].size
        w_real = _softmax_fit(enc.onehot(r, skip=t), r[:, t], k)
        w_syn = _softmax_fit(enc.onehot(s, skip=t), s[:, t], k)
        trtr = _accuracy(w_real, enc.onehot(h, skip=t), h[:, t])
        tstr = _accuracy(w_syn, enc.onehot(h, skip=t), h[:, t])
        majority = float((h[:, t] == np.bincount(r[:, t]).argmax()).mean())
        fidelity["utility"] = {
            "target": target,
            "train_real_test_real": round(trtr, 4),
            "train_synthetic_test_real": round(tstr, 4),
            "ratio": round(tstr / trtr, 4) if trtr else None,
            "majority_class": round(majority, 4),
        }
    elif holdout is None:
        notes.append("no hold-out: utility, distance-to-hold-out and membership inference skipped")
    else:
        notes.append("no target column with 2-10 values: utility skipped (use --target)")

    # identifiers are regenerated, so copies are judged on the modelled columns
    real_rows = {tuple(row) for row in rows_of(Table(columns))}
    copies = sum(tuple(row) in real_rows for row in rows_of(Table(modelled_columns(synthetic))))
    fr, fs = _features(real, real), _features(synthetic, real)
    dcr_syn = _nearest(fs, fr)
    privacy: dict[str, Any] = {
        "exact_copies": copies,
        "exact_copy_share": round(copies / max(synthetic.n_rows, 1), 4),
        "dcr_synthetic_median": round(float(np.median(dcr_syn)), 4),
    }
    if holdout is not None:
        fh = _features(holdout, real)
        dcr_hold = _nearest(fh, fr)
        p5 = float(np.quantile(dcr_hold, 0.05))
        rng = np.random.default_rng(seed)
        members = fr[rng.choice(len(fr), size=min(len(fr), len(fh)), replace=False)]
        # the attack: a record is a member when a synthetic row lies close to it
        attack = auc(-_nearest(members, fs), -_nearest(fh, fs))
        privacy |= {
            "dcr_holdout_median": round(float(np.median(dcr_hold)), 4),
            "share_closer_than_holdout_p5": round(float((dcr_syn < p5).mean()), 4),
            "membership_auc": round(attack, 4),
        }
    return {
        "rows": {
            "real": real.n_rows,
            "synthetic": synthetic.n_rows,
            "holdout": holdout.n_rows if holdout else None,
        },
        "fidelity": fidelity,
        "privacy": privacy,
        "notes": notes + real.notes(),
    }
