"""A Gaussian copula: each column's own distribution (empirical quantiles, category shares,
missing share) joined by the correlation of normal scores. Not private: use it for fidelity,
never to share data about people (that is what ``mst`` is for)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cairn.synth.bins import assemble, modelled_columns
from cairn.synth.table import Column, Kind, Table

Progress = Callable[[str, int, int], None]


def _no_progress(step: str, done: int, total: int) -> None:
    return None


def norm_cdf(z: np.ndarray) -> np.ndarray:
    """Phi(z), by the complementary error function's Chebyshev fit (|error| < 1.2e-7)."""
    x = np.abs(z) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.5 * x)
    poly = (
        -x * x
        - 1.26551223
        + t
        * (
            1.00002368
            + t
            * (
                0.37409196
                + t
                * (
                    0.09678418
                    + t
                    * (
                        -0.18628806
                        + t
                        * (
                            0.27886807
                            + t
                            * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))
                        )
                    )
                )
            )
        )
    )
    erfc = t * np.exp(poly)
    return np.asarray(np.where(z >= 0, 1.0 - 0.5 * erfc, 0.5 * erfc), dtype=float)


_A = (
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.3577518672690,
    -30.66479806614716,
    2.506628277459239,
)
_B = (
    -54.47609879822406,
    161.5858368580409,
    -155.6989798598866,
    66.80131188771972,
    -13.28068155288572,
)
_C = (
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
)
_D = (0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416)


def norm_ppf(p: np.ndarray) -> np.ndarray:
    """Phi^-1(p) by Acklam's rational approximation (relative error < 1.2e-9)."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    out = np.empty_like(p)
    lo, hi = p < 0.02425, p > 1 - 0.02425
    mid = ~(lo | hi)
    q = p[mid] - 0.5
    r = q * q
    num = ((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]
    den = ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1
    out[mid] = num * q / den
    for mask, sign in ((lo, 1.0), (hi, -1.0)):
        pp = p[mask] if sign > 0 else 1 - p[mask]
        q = np.sqrt(-2 * np.log(pp))
        num = ((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]
        den = (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1
        out[mask] = sign * num / den
    return out


@dataclass
class _Marginal:
    column: Column
    missing_share: float
    sorted_values: np.ndarray  # numeric kinds: the present values, sorted
    categories: list[str]  # categorical, most common first
    cdf: np.ndarray  # categorical: cumulative shares (after the missing share)

    def to_uniform(self, rng: np.random.Generator) -> np.ndarray:
        n = len(self.column)
        u = np.empty(n)
        missing = self.column.missing()
        p = self.missing_share
        u[missing] = rng.random(int(missing.sum())) * p
        if self.column.is_numeric:
            x = self.column.numbers[~missing]
            ranks = np.argsort(np.argsort(x, kind="stable"), kind="stable")
            u[~missing] = p + (1 - p) * (ranks + rng.random(len(x))) / max(len(x), 1)
        else:
            index = {c: i for i, c in enumerate(self.categories)}
            lower = np.concatenate([[p], self.cdf[:-1]])
            codes = np.array(
                [index[v] for v, m in zip(self.column.labels, missing, strict=True) if not m],
                dtype=np.int64,
            )
            width = self.cdf[codes] - lower[codes]
            u[~missing] = lower[codes] + rng.random(len(codes)) * width
        return u

    def from_uniform(self, u: np.ndarray) -> Column:
        missing = u < self.missing_share
        name, kind = self.column.name, self.column.kind
        if self.column.is_numeric:
            if self.sorted_values.size == 0:
                return Column(name, kind, numbers=np.full(len(u), np.nan))
            q = (u - self.missing_share) / max(1 - self.missing_share, 1e-12)
            x = np.quantile(self.sorted_values, np.clip(q, 0, 1))
            x = np.round(x, self.column.decimals if kind is Kind.numeric else 0)
            x[missing] = np.nan
            return Column(name, kind, numbers=x, decimals=self.column.decimals)
        codes = np.minimum(np.searchsorted(self.cdf, u, side="right"), len(self.categories) - 1)
        labels = ["" if m else self.categories[c] for c, m in zip(codes, missing, strict=True)]
        return Column(name, kind, labels=labels)


def _marginal(column: Column) -> _Marginal:
    missing = column.missing()
    p = float(missing.mean())
    if column.is_numeric:
        return _Marginal(column, p, np.sort(column.numbers[~missing]), [], np.zeros(0))
    counts: dict[str, int] = {}
    for v in column.labels:
        if v:
            counts[v] = counts.get(v, 0) + 1
    cats = sorted(counts, key=lambda c: (-counts[c], c)) or [""]
    shares = np.array([counts.get(c, 0) for c in cats], dtype=float)
    shares = shares / max(shares.sum(), 1) * (1 - p)
    return _Marginal(column, p, np.zeros(0), cats, p + np.cumsum(shares))


@dataclass
class GaussianCopula:
    """A fitted copula; ``sample(n)`` draws a new table."""

    template: Table
    marginals: list[_Marginal]
    correlation: np.ndarray
    seed: int

    def sample(self, n: int, *, seed: int | None = None) -> Table:
        rng = np.random.default_rng(self.seed + 1 if seed is None else seed)
        d = len(self.marginals)
        made: dict[str, Column] = {}
        if d:
            z = rng.multivariate_normal(np.zeros(d), self.correlation, size=n, method="cholesky")
            u = norm_cdf(z)
            for j, m in enumerate(self.marginals):
                made[m.column.name] = m.from_uniform(u[:, j])
        return assemble(self.template, made, n)


def fit_copula(table: Table, *, seed: int = 0, progress: Progress = _no_progress) -> GaussianCopula:
    rng = np.random.default_rng(seed)
    columns = modelled_columns(table)
    marginals = []
    scores = np.zeros((table.n_rows, len(columns)))
    for j, column in enumerate(columns):
        m = _marginal(column)
        marginals.append(m)
        scores[:, j] = norm_ppf(m.to_uniform(rng))
        progress("marginals", j + 1, len(columns))
    if len(columns) > 1:
        corr = np.nan_to_num(np.atleast_2d(np.corrcoef(scores, rowvar=False)))
        np.fill_diagonal(corr, 1.0)
        corr = 0.99 * corr + 0.01 * np.eye(len(columns))  # keep it positive definite
    else:
        corr = np.eye(len(columns))
    progress("correlation", 1, 1)
    return GaussianCopula(table, marginals, corr, seed)
