"""MST (McKenna, Miklau, Sheldon 2021, "Winning the NIST Contest"): a differentially private
generator from noisy 1-way marginals and the noisy 2-way marginals of a maximum spanning tree
of columns picked with the exponential mechanism, under rho-zCDP converted from
(epsilon, delta).

MST's last step, Private-PGM's graphical-model estimation, is replaced here by what a tree
makes exact: each noisy marginal is projected onto counts >= 0 that sum to n, and rows are
drawn root first, each column from its noisy table conditioned on its parent. Everything
after the noisy measurements is post-processing, so the privacy guarantee is MST's.

What the budget does not cover: the number of rows, and each column's domain (the categories
present and the numeric range), which are read from the source, as in smartnoise-synth when
bounds are supplied. A category that only one person has is therefore visible as a possible
value: merge rare categories before sharing.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cairn.synth.bins import Binning, assemble, binning, modelled_columns
from cairn.synth.table import Column, Kind, SynthError, Table

Progress = Callable[[str, int, int], None]
DEFAULT_BINS = 16
FINE_BINS = 64
BUDGET_SPLIT = (1 / 3, 1 / 3, 1 / 3)  # 1-way, choosing the tree, 2-way (MST's split)


def _no_progress(step: str, done: int, total: int) -> None:
    return None


def cdp_rho(epsilon: float, delta: float) -> float:
    """The rho of rho-zCDP that gives (epsilon, delta)-DP (Bun & Steinke 2016, Prop. 1.3)."""
    log = math.log(1 / delta)
    return (math.sqrt(log + epsilon) - math.sqrt(log)) ** 2


def project_counts(noisy: np.ndarray, total: float) -> np.ndarray:
    """The nearest (in L2) non-negative table summing to ``total``."""
    flat = noisy.ravel()
    if total <= 0:
        return np.zeros_like(noisy)
    s = np.sort(flat)[::-1]
    cum = np.cumsum(s) - total
    k = np.arange(1, len(s) + 1)
    ok = s - cum / k > 0
    tau = cum[ok][-1] / k[ok][-1] if ok.any() else 0.0
    return np.maximum(noisy - tau, 0.0)


def _groups(fine: Binning, noisy: np.ndarray, k: int) -> np.ndarray:
    """Each fine code's coarse code: for a numeric column with more than ``k`` fine bins,
    ``k`` runs of neighbouring bins of about equal (noisy) count; else the fine codes."""
    if fine.kind is Kind.categorical or fine.n_values <= k:
        return np.arange(fine.size)
    present = noisy[: fine.n_values]
    total = present.sum()
    shares = np.cumsum(present) / total if total > 0 else np.linspace(0, 1, fine.n_values)
    group = np.minimum((shares * k - 1e-9).clip(0).astype(np.int64), k - 1)
    group = np.unique(group, return_inverse=True)[1]  # no empty coarse codes
    if fine.has_missing:
        group = np.concatenate([group, [group.max() + 1]])
    return group.astype(np.int64)


@dataclass
class _Decoder:
    """Coarse codes back to values: a fine bin drawn by the noisy fine histogram, then a
    value within it."""

    fine: Binning
    group: np.ndarray  # fine code -> coarse code
    fine_counts: np.ndarray

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> Column:
        fine_codes = np.zeros(len(codes), dtype=np.int64)
        for c in range(int(self.group.max()) + 1):
            rows = np.flatnonzero(codes == c)
            members = np.flatnonzero(self.group == c)
            if rows.size == 0:
                continue
            w = self.fine_counts[members]
            p = w / w.sum() if w.sum() > 0 else np.full(len(members), 1 / len(members))
            fine_codes[rows] = rng.choice(members, size=rows.size, p=p)
        return self.fine.decode(fine_codes, rng)


@dataclass
class MstModel:
    template: Table
    decoders: list[_Decoder]
    order: list[tuple[int, int]]  # (column, parent or -1), parents first
    tables: dict[int, np.ndarray]  # column -> P(column | parent), rows: parent code
    epsilon: float
    delta: float
    seed: int

    def sample(self, n: int, *, seed: int | None = None) -> Table:
        rng = np.random.default_rng(self.seed + 1 if seed is None else seed)
        codes: dict[int, np.ndarray] = {}
        for col, parent in self.order:
            cond = self.tables[col]
            if parent < 0:
                codes[col] = rng.choice(cond.shape[1], size=n, p=cond[0])
                continue
            cdf = np.cumsum(cond, axis=1)[codes[parent]]
            u = rng.random(n)[:, None]
            codes[col] = np.minimum((u > cdf).sum(axis=1), cond.shape[1] - 1)
        made = {dec.fine.name: dec.decode(codes[j], rng) for j, dec in enumerate(self.decoders)}
        return assemble(self.template, made, n)


def fit_mst(
    table: Table,
    *,
    epsilon: float,
    delta: float | None = None,
    bins: int = DEFAULT_BINS,
    seed: int = 0,
    progress: Progress = _no_progress,
) -> MstModel:
    n = table.n_rows
    delta, columns = checked_budget(table, epsilon, delta)
    rng = np.random.default_rng(seed)
    d = len(columns)
    rho = cdp_rho(epsilon, delta)
    share1, share_select, share2 = BUDGET_SPLIT
    rho1 = rho if d == 1 else rho * share1
    sigma1 = math.sqrt(d / (2 * rho1))
    sigma2 = math.sqrt(max(d - 1, 1) / (2 * rho * share2))
    # as many numeric bins as the 2-way noise leaves room for: k * k cells of noise sigma2
    coarse = int(min(bins, max(2, round(math.sqrt(n / (2 * sigma2))))))
    steps = 2 * d + (d * (d - 1)) // 2
    done = 0

    def tick(step: str) -> None:
        nonlocal done
        done += 1
        progress(step, done, steps)

    # 1. noisy 1-way marginals, fine-grained (a third of the budget; all with one column);
    # numeric columns then get equal-count coarse bins read off the noisy histogram
    # fine bins too are bounded by the noise: a bin should hold more rows than sigma1
    fine_bins = int(min(FINE_BINS, max(coarse, round(n / (2 * sigma1)))))
    fines = [binning(c, fine_bins) for c in columns]
    decoders = []
    x = np.zeros((n, d), dtype=np.int64)
    for j, (c, fine) in enumerate(zip(columns, fines, strict=True)):
        codes = fine.encode(c)
        counts = np.bincount(codes, minlength=fine.size).astype(float)
        noisy = project_counts(counts + rng.normal(0, sigma1, fine.size), n)
        decoders.append(_Decoder(fine, _groups(fine, noisy, coarse), noisy))
        x[:, j] = decoders[j].group[codes]
        tick("1-way marginals")
    sizes = [int(dec.group.max()) + 1 for dec in decoders]
    ones = [
        np.bincount(dec.group, weights=dec.fine_counts, minlength=k)
        for dec, k in zip(decoders, sizes, strict=True)
    ]
    if d == 1:
        return MstModel(
            table, decoders, [(0, -1)], {0: _normalise(ones[0])[None, :]}, epsilon, delta, seed
        )

    # 2. a spanning tree of the pairs the 1-way model explains worst (exponential mechanism)
    edges, _ = choose_tree(x, sizes, ones, rho * share_select, n, rng, tick)

    # 3. noisy 2-way marginals on the tree's edges (the last third)
    twos: dict[tuple[int, int], np.ndarray] = {}
    for i, j in edges:
        joint = _joint(x[:, i], x[:, j], sizes[i], sizes[j])
        twos[(i, j)] = project_counts(joint + rng.normal(0, sigma2, joint.shape), n)
        tick("2-way marginals")

    # post-processing: root at the column with most neighbours; children from their edge
    order, tables = tree_tables(d, twos, ones, tick)
    progress("done", steps, steps)
    return MstModel(table, decoders, order, tables, epsilon, delta, seed)


def checked_budget(table: Table, epsilon: float, delta: float | None) -> tuple[float, list[Column]]:
    """``delta`` (its default for ``table``'s rows) and the columns to model, or a clear error
    for an epsilon or delta out of range or a table with nothing to model."""
    if not (0 < epsilon <= 100) or not math.isfinite(epsilon):
        raise SynthError("bad-epsilon", f"--epsilon {epsilon}: use a number in (0, 100]")
    n = table.n_rows
    delta = delta if delta is not None else min(1e-6, 1.0 / (n * n))
    if not 0 < delta < 1:
        raise SynthError("bad-delta", f"--delta {delta}: use a number in (0, 1)")
    columns = modelled_columns(table)
    if not columns:
        raise SynthError("no-columns", f"{table.name}: no column to model (all identifiers)")
    return delta, columns


def choose_tree(
    x: np.ndarray,
    sizes: list[int],
    ones: list[np.ndarray],
    rho: float,
    n: int,
    rng: np.random.Generator,
    tick: Callable[[str], None],
) -> tuple[list[tuple[int, int]], float]:
    """A spanning tree of the pairs the 1-way model explains worst, one edge per round of
    the exponential mechanism (``d - 1`` rounds sharing ``rho``), and the rho they used."""
    d = x.shape[1]
    eps_round = math.sqrt(8 * rho / (d - 1))
    score: dict[tuple[int, int], float] = {}
    for i in range(d):
        for j in range(i + 1, d):
            joint = _joint(x[:, i], x[:, j], sizes[i], sizes[j])
            score[(i, j)] = float(np.abs(joint - np.outer(ones[i], ones[j]) / n).sum())
            tick("choosing pairs")
    component = list(range(d))
    edges: list[tuple[int, int]] = []
    while len(edges) < d - 1:
        cands = [e for e in score if component[e[0]] != component[e[1]]]
        q = np.array([score[e] for e in cands])
        p = np.exp(eps_round * (q - q.max()) / 2)  # sensitivity 1
        i, j = cands[int(rng.choice(len(cands), p=p / p.sum()))]
        edges.append((i, j))
        old, new = component[j], component[i]
        component = [new if c == old else c for c in component]
    return edges, (d - 1) * eps_round**2 / 8  # each round: eps_round-DP is eps^2/8-zCDP


def tree_tables(
    d: int,
    pairs: dict[tuple[int, int], np.ndarray],
    marginals: list[np.ndarray],
    tick: Callable[[str], None],
) -> tuple[list[tuple[int, int]], dict[int, np.ndarray]]:
    """The sampling order (column, parent; root first: the column with most neighbours) and
    each column's table, P(column | parent) read off the tree edge's 2-way counts in ``pairs``
    (the root's: its marginal; a parent value with no count: the child's marginal)."""
    neighbours: dict[int, list[int]] = {k: [] for k in range(d)}
    for i, j in pairs:
        neighbours[i].append(j)
        neighbours[j].append(i)
    root = max(range(d), key=lambda k: len(neighbours[k]))
    order = [(root, -1)]
    tables = {root: _normalise(marginals[root])[None, :]}
    seen, queue = {root}, deque([root])
    while queue:
        parent = queue.popleft()
        for child in neighbours[parent]:
            if child in seen:
                continue
            seen.add(child)
            queue.append(child)
            joint = pairs[(parent, child)] if (parent, child) in pairs else pairs[(child, parent)].T
            fallback = _normalise(marginals[child])
            rows = joint.sum(axis=1, keepdims=True)
            tables[child] = np.where(rows > 0, joint / np.maximum(rows, 1e-12), fallback[None, :])
            order.append((child, parent))
            tick("tree")
    return order, tables


def _joint(a: np.ndarray, b: np.ndarray, ka: int, kb: int) -> np.ndarray:
    return np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb).astype(float)


def _normalise(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    if total <= 0:
        return np.full(len(counts), 1.0 / len(counts))
    return np.asarray(counts / total, dtype=float)
