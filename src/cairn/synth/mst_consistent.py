"""MST with consistent estimates and low-variance sampling: the default private generator.

The measurements are MST's (McKenna, Miklau & Sheldon 2021): noisy 1-way marginals, a
spanning tree of column pairs chosen with the exponential mechanism, and noisy 2-way
marginals on the tree's edges, under rho-zCDP. Three things differ from ``mst.py`` (kept as
the generator ``mst-v1``):

1. The budget split favours the 2-way marginals (``BUDGET_SPLIT``), chosen by measuring on
   the train splits of colon and flchain with seeds 0-2 (bench/synth_bench.py --tune).
2. Estimation, in the spirit of Private-PGM on a tree: each column's marginal is the
   inverse-variance average of its own noisy 1-way marginal and the sums of the noisy 2-way
   marginals it is part of; each 2-way marginal is then fitted to those column marginals
   (iterative proportional fitting), so that every table the sampler reads agrees.
3. Sampling draws the synthetic rows by systematic (stratified) rounding instead of
   independent draws: each column's counts within each parent value match the model's up to
   one row, which removes most of the sampling noise a second random sample would add.

Coarse bins of numeric columns are read off the noisy fine histogram at equal-count shares,
from 5 up their number is a divisor of the report's 10 equal-count bins (5 or 10) so that the
generator's bins nest the evaluation's. Everything after the noisy measurements is
post-processing, so the privacy guarantee is the measurements'; ``rho_spent`` adds them up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cairn.synth.bins import assemble, binning
from cairn.synth.mst import (
    FINE_BINS,
    Progress,
    _Decoder,
    _groups,
    _joint,
    _no_progress,
    _normalise,
    cdp_rho,
    checked_budget,
    choose_tree,
    project_counts,
    tree_tables,
)
from cairn.synth.table import Table

BUDGET_SPLIT = (0.3, 0.05, 0.65)  # 1-way, choosing the tree, 2-way
NESTED_BINS = (5, 10)  # divisors of the report's 10 equal-count bins
IPF_ROUNDS = 50


def systematic_counts(p: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Integer counts summing to ``n`` whose expectation is ``n * p``, each within one of it
    (systematic sampling: one uniform offset, then evenly spaced points on the CDF)."""
    if n <= 0:
        return np.zeros(len(p), dtype=np.int64)
    cdf = np.cumsum(p / p.sum()) * n
    cdf[-1] = n  # no row lost to rounding: every point lies below n
    points = rng.random() + np.arange(n)
    return np.diff(np.concatenate([[0], np.searchsorted(points, cdf, side="left")])).astype(
        np.int64
    )


def stratified_draw(p: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` codes with systematic counts, in random order."""
    codes = np.repeat(np.arange(len(p)), systematic_counts(p, n, rng))
    return rng.permutation(codes)


def fit_margins(joint: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The table nearest ``joint`` (in KL) with row sums ``rows`` and column sums ``cols``
    (iterative proportional fitting from a slightly smoothed start)."""
    total = rows.sum()
    if total <= 0:
        return np.zeros_like(joint)
    t = joint + 1e-3 * np.outer(rows, cols) / total
    for _ in range(IPF_ROUNDS):
        t *= (rows / np.maximum(t.sum(axis=1), 1e-12))[:, None]
        t *= (cols / np.maximum(t.sum(axis=0), 1e-12))[None, :]
    return np.asarray(t, dtype=float)


def nested_bins(k: int) -> int:
    """``k`` coarse bins, rounded down to 5 or 10 from 5 up so that they nest the report's 10
    equal-count bins; below 5, kept (at least 2): fewer bins lose more than nesting gains."""
    return max([b for b in NESTED_BINS if b <= k] or [2]) if k >= 5 else max(2, k)


@dataclass
class ConsistentMstModel:
    template: Table
    decoders: list[_Decoder]
    order: list[tuple[int, int]]  # (column, parent or -1), parents first
    tables: dict[int, np.ndarray]  # column -> P(column | parent), rows: parent code
    epsilon: float
    delta: float
    seed: int
    rho_budget: float
    rho_spent: float

    def sample(self, n: int, *, seed: int | None = None) -> Table:
        rng = np.random.default_rng(self.seed + 1 if seed is None else seed)
        codes: dict[int, np.ndarray] = {}
        for col, parent in self.order:
            cond = self.tables[col]
            if parent < 0:
                codes[col] = stratified_draw(cond[0], n, rng)
                continue
            out = np.zeros(n, dtype=np.int64)
            for value in range(cond.shape[0]):
                rows = np.flatnonzero(codes[parent] == value)
                if rows.size:
                    out[rows] = stratified_draw(cond[value], rows.size, rng)
            codes[col] = out
        made = {}
        for j, dec in enumerate(self.decoders):
            fine = np.zeros(n, dtype=np.int64)
            for c in range(int(dec.group.max()) + 1):
                rows = np.flatnonzero(codes[j] == c)
                members = np.flatnonzero(dec.group == c)
                if rows.size == 0:
                    continue
                w = dec.fine_counts[members]
                p = w / w.sum() if w.sum() > 0 else np.full(len(members), 1 / len(members))
                fine[rows] = members[stratified_draw(p, rows.size, rng)]
            made[dec.fine.name] = dec.fine.decode(fine, rng)
        return assemble(self.template, made, n)


def fit_consistent_mst(
    table: Table,
    *,
    epsilon: float,
    delta: float | None = None,
    seed: int = 0,
    split: tuple[float, float, float] = BUDGET_SPLIT,
    progress: Progress = _no_progress,
) -> ConsistentMstModel:
    n = table.n_rows
    delta, columns = checked_budget(table, epsilon, delta)
    rng = np.random.default_rng(seed)
    d = len(columns)
    rho = cdp_rho(epsilon, delta)
    share1, share_select, share2 = (1.0, 0.0, 0.0) if d == 1 else split
    spent = 0.0
    sigma1 = math.sqrt(d / (2 * rho * share1))
    sigma2 = math.sqrt(max(d - 1, 1) / (2 * rho * share2)) if d > 1 else math.inf
    coarse = nested_bins(round(math.sqrt(n / (2 * sigma2)))) if d > 1 else 10
    steps = 2 * d + (d * (d - 1)) // 2
    done = 0

    def tick(step: str) -> None:
        nonlocal done
        done += 1
        progress(step, done, steps)

    # 1. noisy fine 1-way marginals; coarse equal-count groups read off them
    fine_bins = int(min(FINE_BINS, max(coarse, round(n / (2 * sigma1)))))
    decoders, raw_ones = [], []
    x = np.zeros((n, d), dtype=np.int64)
    for j, c in enumerate(columns):
        fine = binning(c, fine_bins)
        codes = fine.encode(c)
        noisy_raw = np.bincount(codes, minlength=fine.size) + rng.normal(0, sigma1, fine.size)
        noisy = project_counts(noisy_raw, n)
        decoders.append(_Decoder(fine, _groups(fine, noisy, coarse), noisy))
        raw_ones.append(noisy_raw)
        x[:, j] = decoders[j].group[codes]
        tick("1-way marginals")
    spent += d / (2 * sigma1**2)
    sizes = [int(dec.group.max()) + 1 for dec in decoders]
    # each coarse cell's noisy count and its variance (a sum of fine cells)
    ones = [
        np.bincount(dec.group, weights=r, minlength=k)
        for dec, r, k in zip(decoders, raw_ones, sizes, strict=True)
    ]
    ones_var = [
        np.bincount(dec.group, minlength=k) * sigma1**2
        for dec, k in zip(decoders, sizes, strict=True)
    ]
    if d == 1:
        only = {0: _normalise(project_counts(ones[0], n))[None, :]}
        return ConsistentMstModel(
            table, decoders, [(0, -1)], only, epsilon, delta, seed, rho, spent
        )

    # 2. a spanning tree of the pairs the 1-way model explains worst
    fitted_ones = [project_counts(o, n) for o in ones]
    edges, rho_select = choose_tree(x, sizes, fitted_ones, rho * share_select, n, rng, tick)
    spent += rho_select

    # 3. noisy 2-way marginals on the tree's edges
    twos: dict[tuple[int, int], np.ndarray] = {}
    for i, j in edges:
        joint = _joint(x[:, i], x[:, j], sizes[i], sizes[j])
        twos[(i, j)] = joint + rng.normal(0, sigma2, joint.shape)
        tick("2-way marginals")
    spent += (d - 1) / (2 * sigma2**2)

    # post-processing: consistent column marginals, then each edge fitted to them
    est = []
    for k in range(d):
        num, den = ones[k] / ones_var[k], 1 / ones_var[k]
        for (i, j), t in twos.items():
            if k in (i, j):
                sums, other = (t.sum(axis=1), sizes[j]) if k == i else (t.sum(axis=0), sizes[i])
                num = num + sums / (other * sigma2**2)
                den = den + 1 / (other * sigma2**2)
        est.append(project_counts(num / den, n))
    fitted = {
        (i, j): fit_margins(project_counts(t, n), est[i], est[j]) for (i, j), t in twos.items()
    }
    order, tables = tree_tables(d, fitted, est, tick)
    progress("done", steps, steps)
    return ConsistentMstModel(table, decoders, order, tables, epsilon, delta, seed, rho, spent)
