"""Weighted, L2-regularised logistic regression by gradient descent (numpy; small feature sets)."""

from __future__ import annotations

import numpy as np


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    l2: float = 1e-2,
    steps: int = 4000,
    rate: float = 0.5,
) -> np.ndarray:
    """Coefficients for ``x`` (whose first column is the constant 1, not penalised).

    ``weights``: per-row weights (default all 1); the gradient is their weighted mean."""
    w = np.zeros(x.shape[1])
    sw = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    total = float(sw.sum())
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ ((p - y) * sw) / total + l2 * np.r_[0.0, w[1:]]
        w -= rate * grad
    return w
