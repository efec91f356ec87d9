"""Discretising columns into a few codes (a marginal's cells) and back.

Missing values get a code of their own, so a model keeps how often, and alongside what,
a value is missing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cairn.synth.table import Column, Kind, Table


@dataclass(frozen=True)
class Binning:
    """How one column maps to codes ``0..size-1``; the last code is 'missing' if any."""

    name: str
    kind: Kind
    edges: np.ndarray | None  # numeric kinds with more distinct values than bins
    values: tuple[float, ...]  # numeric kinds with few distinct values: one code each
    categories: tuple[str, ...]  # categorical
    has_missing: bool
    decimals: int = 6

    @property
    def n_values(self) -> int:
        if self.edges is not None:
            return len(self.edges) - 1
        return len(self.values) if self.kind is not Kind.categorical else len(self.categories)

    @property
    def size(self) -> int:
        return self.n_values + int(self.has_missing)

    def encode(self, column: Column) -> np.ndarray:
        missing = column.missing()
        if self.kind is Kind.categorical:
            index = {c: i for i, c in enumerate(self.categories)}
            codes = np.array([index.get(v, 0) for v in column.labels], dtype=np.int64)
        elif self.edges is not None:
            x = np.nan_to_num(column.numbers, nan=float(self.edges[0]))
            codes = np.clip(np.searchsorted(self.edges, x, side="right") - 1, 0, self.n_values - 1)
        else:
            vals = np.asarray(self.values)
            x = np.nan_to_num(column.numbers, nan=vals[0])
            codes = np.abs(x[:, None] - vals[None, :]).argmin(axis=1)
        codes = codes.astype(np.int64)
        if self.has_missing:
            codes[missing] = self.n_values
        return codes

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> Column:
        missing = codes >= self.n_values
        safe = np.minimum(codes, max(self.n_values - 1, 0))
        if self.kind is Kind.categorical:
            labels = ["" if m else self.categories[c] for c, m in zip(safe, missing, strict=True)]
            return Column(self.name, self.kind, labels=labels)
        if self.edges is not None:
            lo, hi = self.edges[safe], self.edges[safe + 1]
            x = lo + rng.random(len(codes)) * (hi - lo)
            x = np.round(x, self.decimals if self.kind is Kind.numeric else 0)
        else:
            x = np.asarray(self.values, dtype=float)[safe]
        x = x.astype(float)
        x[missing] = np.nan
        return Column(self.name, self.kind, numbers=x, decimals=self.decimals)


def binning(column: Column, bins: int, *, quantile: bool = False) -> Binning:
    """Equal-width bins over the column's range (``quantile``: equal-count bins); numeric
    columns with at most ``bins`` distinct values keep each value."""
    missing = column.missing()
    has_missing = bool(missing.any())
    if column.kind is Kind.categorical:
        cats = sorted({v for v in column.labels if v})
        return Binning(column.name, column.kind, None, (), tuple(cats or [""]), has_missing)
    present = column.numbers[~missing]
    if present.size == 0:
        return Binning(column.name, column.kind, None, (0.0,), (), has_missing)
    distinct = np.unique(present)
    if len(distinct) <= bins:
        return Binning(
            column.name, column.kind, None, tuple(float(v) for v in distinct), (), has_missing
        )
    if quantile:
        edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)))
    else:
        edges = np.linspace(float(present.min()), float(present.max()), bins + 1)
    edges[-1] = np.nextafter(edges[-1], np.inf)
    return Binning(column.name, column.kind, edges, (), (), has_missing, column.decimals)


def modelled_columns(table: Table) -> list[Column]:
    """The columns a model fits: identifiers are regenerated, never modelled."""
    return [c for c in table.columns if c.kind is not Kind.identifier]


def fresh_identifiers(column: Column, n: int) -> Column:
    """New ids ``syn-000001`` ...: an identifier column's values are never copied."""
    width = max(6, len(str(n)))
    return Column(
        column.name, Kind.identifier, labels=[f"syn-{i:0{width}d}" for i in range(1, n + 1)]
    )


def assemble(template: Table, made: dict[str, Column], n: int) -> Table:
    """The synthetic table in the source's column order."""
    cols = []
    for c in template.columns:
        cols.append(made[c.name] if c.name in made else fresh_identifiers(c, n))
    return Table(cols, template.name)
