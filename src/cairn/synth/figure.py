"""A PNG of each column's distribution, real and synthetic side by side."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cairn.synth.bins import binning, modelled_columns
from cairn.synth.report import METRIC_BINS
from cairn.synth.table import Table

MAX_PANELS = 24


def marginals_figure(real: Table, synthetic: Table, path: Path, *, title: str = "") -> Path:
    """Bars of each modelled column's binned shares (at most 24 columns), real vs synthetic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = modelled_columns(real)[:MAX_PANELS]
    ncols = min(4, max(len(columns), 1))
    nrows = max(1, math.ceil(len(columns) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 2.8 * nrows), squeeze=False)
    for ax in axes.ravel()[len(columns) :]:
        ax.axis("off")
    for ax, column in zip(axes.ravel(), columns, strict=False):
        b = binning(column, METRIC_BINS, quantile=True)
        r = np.bincount(b.encode(column), minlength=b.size) / max(real.n_rows, 1)
        counts = np.bincount(b.encode(synthetic.column(column.name)), minlength=b.size)
        s = counts / max(synthetic.n_rows, 1)
        x = np.arange(b.size)
        ax.bar(x - 0.2, r, width=0.4, label="real")
        ax.bar(x + 0.2, s, width=0.4, label="synthetic")
        ax.set_title(column.name, fontsize=9)
        ax.set_xticks(x)
        ax.set_xticklabels(_labels(b), fontsize=6, rotation=60)
    axes.ravel()[0].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _labels(b: object) -> list[str]:
    from cairn.synth.bins import Binning

    assert isinstance(b, Binning)
    if b.edges is not None:
        names = [f"{v:.3g}" for v in b.edges[:-1]]
    elif b.categories:
        names = [c[:10] for c in b.categories]
    else:
        names = [f"{v:g}" for v in b.values]
    return names + (["NA"] if b.has_missing else [])
