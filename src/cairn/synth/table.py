"""A typed table read from CSV or JSONL: numeric, integer, date and categorical columns with
missing values, plus the checks that keep bad input from crashing a generator."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np

from cairn.errors import CairnError

MAX_BYTES = 200_000_000  # read at most this much: bigger tables need a sample (--max-bytes)
MAX_CATEGORIES = 64  # more distinct values: the rarest are merged into OTHER
IDENTIFIER_SHARE = 0.5  # more distinct strings than this share of rows: an identifier
OTHER = "(other)"


class SynthError(CairnError):
    """A table cannot be synthesised or compared as given."""


class Kind(StrEnum):
    numeric = "numeric"  # float
    integer = "integer"
    date = "date"  # ISO dates, held as days since 1970-01-01
    categorical = "categorical"
    identifier = "identifier"  # (nearly) unique strings: never copied, replaced by new ids


@dataclass
class Column:
    """One column: ``values`` holds floats (NaN = missing) for numeric kinds, else strings
    ('' = missing)."""

    name: str
    kind: Kind
    numbers: np.ndarray = field(default_factory=lambda: np.zeros(0))
    labels: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why a column was changed (merged, ...)
    decimals: int = 6  # numeric: the most decimals a source value shows (values are rounded)

    @property
    def is_numeric(self) -> bool:
        return self.kind in (Kind.numeric, Kind.integer, Kind.date)

    def __len__(self) -> int:
        return len(self.numbers) if self.is_numeric else len(self.labels)

    def missing(self) -> np.ndarray:
        if self.is_numeric:
            return np.asarray(np.isnan(self.numbers), dtype=bool)
        return np.array([v == "" for v in self.labels], dtype=bool)

    def take(self, index: np.ndarray) -> Column:
        if self.is_numeric:
            return Column(
                self.name,
                self.kind,
                numbers=self.numbers[index],
                notes=self.notes,
                decimals=self.decimals,
            )
        return Column(
            self.name, self.kind, labels=[self.labels[i] for i in index], notes=self.notes
        )


@dataclass
class Table:
    columns: list[Column]
    name: str = "table"

    @property
    def n_rows(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise SynthError("unknown-column", f"column {name!r} is not in {self.name} ({self.names})")

    def take(self, index: np.ndarray) -> Table:
        return Table([c.take(index) for c in self.columns], self.name)

    def notes(self) -> list[str]:
        return [f"{c.name}: {n}" for c in self.columns for n in c.notes]


# --------------------------------------------------------------------------- reading


def read_table(path: Path, *, max_bytes: int = MAX_BYTES) -> Table:
    """Read a CSV or JSONL file into typed columns; a clear SynthError for anything unusable."""
    header, rows = read_rows(path, max_bytes=max_bytes)
    return table_from_rows(header, rows, name=path.stem)


def read_like(path: Path, template: Table, *, max_bytes: int = MAX_BYTES) -> Table:
    """Read a table with ``template``'s columns, each parsed as the template's kind."""
    header, rows = read_rows(path, max_bytes=max_bytes)
    if header != template.names:
        raise SynthError(
            "columns-differ",
            f"{path}: columns {header} differ from {template.name}'s {template.names}",
        )
    columns = []
    for i, like in enumerate(template.columns):
        raw = ["" if r[i].strip().lower() in _MISSING else r[i].strip() for r in rows]
        if not like.is_numeric:
            columns.append(Column(like.name, like.kind, labels=raw))
            continue
        parse = _date if like.kind is Kind.date else _number
        numbers = []
        for row_number, v in enumerate(raw, start=2):
            x = parse(v) if v else math.nan
            if x is None:
                raise SynthError(
                    "bad-value",
                    f"{path}: line {row_number}: {like.name}={v!r} is not a {like.kind.value}",
                )
            numbers.append(x)
        columns.append(Column(like.name, like.kind, numbers=np.array(numbers, dtype=float)))
    return Table(columns, path.stem)


def read_rows(path: Path, *, max_bytes: int = MAX_BYTES) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a CSV/TSV/JSONL file, after a size check made before reading."""
    if not path.is_file():
        raise SynthError("not-found", f"{path}: no such file")
    size = path.stat().st_size
    if size > max_bytes:
        raise SynthError(
            "too-large",
            f"{path}: {size / 1e6:.0f} MB is over the {max_bytes / 1e6:.0f} MB limit; "
            "synthesise from a sample of the rows (or raise --max-bytes)",
        )
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".tsv", ".jsonl"):
        raise SynthError("bad-format", f"{path}: expected a .csv, .tsv or .jsonl table")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise SynthError("not-utf8", f"{path}: not UTF-8 text ({err.reason})") from None
    return _read_jsonl(path, text) if suffix == ".jsonl" else _read_csv(path, text)


def _read_csv(path: Path, text: str) -> tuple[list[str], list[list[str]]]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    if path.suffix.lower() == ".csv":
        first = text.partition("\n")[0]
        delimiter = max(",;\t|", key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        rows = [r for r in reader if r]
    except csv.Error as err:
        raise SynthError("bad-csv", f"{path}: line {reader.line_num}: {err}") from None
    if not rows:
        raise SynthError("empty", f"{path}: the table is empty (no header, no rows)")
    header = [h.strip() for h in rows[0]]
    width = len(header)
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise SynthError(
                "bad-csv", f"{path}: line {i}: {len(row)} fields where the header has {width}"
            )
    return header, rows[1:]


def _read_jsonl(path: Path, text: str) -> tuple[list[str], list[list[str]]]:
    header: list[str] = []
    records: list[dict[str, object]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            raise SynthError("bad-json", f"{path}: line {number}: {err.msg}") from None
        if not isinstance(value, dict):
            raise SynthError("bad-json", f"{path}: line {number}: expected a JSON object")
        for key in value:
            if key not in header:
                header.append(key)
        records.append(value)
    rows = [[_cell(r.get(k)) for k in header] for r in records]
    return header, rows


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def table_from_rows(header: list[str], rows: list[list[str]], *, name: str = "table") -> Table:
    if not header or not any(h for h in header):
        raise SynthError("empty", f"{name}: the table has no columns")
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise SynthError("bad-header", f"{name}: column {dup!r} appears twice in the header")
    if len(rows) < 2:
        raise SynthError("empty", f"{name}: {len(rows)} data rows; a model needs at least 2")
    columns = [infer_column(h, [r[i].strip() for r in rows]) for i, h in enumerate(header)]
    return Table(columns, name)


_MISSING = {"", "na", "nan", "null", "none", "n/a", "."}


def infer_column(name: str, raw: list[str]) -> Column:
    """The column's kind from its values: all numbers -> numeric/integer; all ISO dates ->
    date; many distinct strings -> identifier; else categorical. Mixed numbers and words
    are categorical (explained in notes)."""
    values = ["" if v.lower() in _MISSING else v for v in raw]
    present = [v for v in values if v]
    if not present:
        return Column(name, Kind.categorical, labels=values, notes=["all values missing"])
    numbers = [_number(v) for v in present]
    if all(x is not None for x in numbers):
        arr = np.array([math.nan if v == "" else _number(v) for v in values], dtype=float)
        finite = arr[~np.isnan(arr)]
        kind = Kind.integer if np.all(finite == np.round(finite)) else Kind.numeric
        n = len(values)
        row_number = len(present) == n > 2 and finite.max() - finite.min() + 1 == n
        if kind is Kind.integer and row_number and len(np.unique(finite)) == n:
            note = "distinct consecutive integers: a row id; synthetic rows get new ids"
            return Column(name, Kind.identifier, labels=values, notes=[note])
        decimals = max(
            (len(v.partition(".")[2]) for v in present if "e" not in v.lower()), default=6
        )
        return Column(name, kind, numbers=arr, decimals=min(decimals, 6))
    dates = [_date(v) for v in present]
    if all(d is not None for d in dates):
        arr = np.array([math.nan if v == "" else _date(v) for v in values], dtype=float)
        return Column(name, Kind.date, numbers=arr)
    notes = []
    n_numbers = sum(x is not None for x in numbers)
    if n_numbers:
        notes.append(
            f"mixed types ({n_numbers} numbers, {len(present) - n_numbers} words): "
            "treated as categorical"
        )
    counts = Counter(present)
    if len(counts) > max(MAX_CATEGORIES, IDENTIFIER_SHARE * len(present)):
        notes.append(
            f"{len(counts)} distinct values in {len(present)} rows: an identifier; "
            "synthetic rows get new ids, no value is copied"
        )
        return Column(name, Kind.identifier, labels=values, notes=notes)
    if len(counts) > MAX_CATEGORIES:
        keep = {v for v, _ in counts.most_common(MAX_CATEGORIES - 1)}
        values = [v if v in keep or not v else OTHER for v in values]
        notes.append(
            f"{len(counts)} distinct values: the {len(counts) - len(keep)} rarest merged "
            f"into {OTHER!r}"
        )
    return Column(name, Kind.categorical, labels=values, notes=notes)


def _number(v: str) -> float | None:
    try:
        x = float(v)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


_EPOCH = dt.date(1970, 1, 1)


def _date(v: str) -> float | None:
    if len(v) != 10 or v[4] != "-":
        return None
    try:
        return float((dt.date.fromisoformat(v) - _EPOCH).days)
    except ValueError:
        return None


# --------------------------------------------------------------------------- writing


def format_value(column: Column, i: int) -> str:
    if not column.is_numeric:
        return column.labels[i]
    x = column.numbers[i]
    if math.isnan(x):
        return ""
    if column.kind is Kind.date:
        return (_EPOCH + dt.timedelta(days=round(x))).isoformat()
    if column.kind is Kind.integer:
        return str(round(x))
    return str(round(float(x), column.decimals))


def rows_of(table: Table) -> list[list[str]]:
    return [[format_value(c, i) for c in table.columns] for i in range(table.n_rows)]


def write_csv(table: Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(table.names)
        writer.writerows(rows_of(table))
    tmp.replace(path)
