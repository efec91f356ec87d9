"""Synthetic tables: reading and typing, the two generators, the report, and bad input."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from cairn.synth.copula import fit_copula, norm_cdf, norm_ppf
from cairn.synth.mst import cdp_rho, fit_mst, project_counts
from cairn.synth.report import auc, compare, split
from cairn.synth.table import Kind, SynthError, read_like, read_table, write_csv


def write_rows(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def patients(path: Path, n: int = 600, seed: int = 1) -> Path:
    """A table with every kind: a row id, correlated numbers, a category, dates, missing."""
    rng = np.random.default_rng(seed)
    rows: list[list[object]] = []
    for i in range(n):
        age = int(rng.integers(20, 90))
        weight = round(40 + 0.5 * age + rng.normal(0, 5), 1)
        sick = "yes" if age + rng.normal(0, 10) > 60 else "no"
        day = f"2020-{1 + i % 12:02d}-{1 + i % 28:02d}"
        chol = "" if rng.random() < 0.2 else round(float(rng.normal(200, 30)), 1)
        rows.append([i + 1, age, weight, sick, day, chol])
    return write_rows(path, ["id", "age", "weight", "sick", "seen", "chol"], rows)


def test_columns_are_typed_with_missing_values(tmp_path: Path) -> None:
    t = read_table(patients(tmp_path / "p.csv"))
    kinds = {c.name: c.kind for c in t.columns}
    assert kinds == {
        "id": Kind.identifier,
        "age": Kind.integer,
        "weight": Kind.numeric,
        "sick": Kind.categorical,
        "seen": Kind.date,
        "chol": Kind.numeric,
    }
    assert 0.1 < t.column("chol").missing().mean() < 0.3


@pytest.mark.parametrize("generator", ["mst", "copula"])
def test_synthetic_table_has_the_same_columns_kinds_and_rows(
    tmp_path: Path, generator: str
) -> None:
    real = read_table(patients(tmp_path / "p.csv"))
    model = fit_mst(real, epsilon=1.0) if generator == "mst" else fit_copula(real)
    syn = model.sample(250)
    assert syn.names == real.names and syn.n_rows == 250
    out = tmp_path / "s.csv"
    write_csv(syn, out)
    again = read_like(out, real)  # every value parses as the source column's kind
    assert [c.kind for c in again.columns] == [c.kind for c in real.columns]
    seen = again.column("seen").numbers
    assert np.nanmin(seen) >= np.nanmin(real.column("seen").numbers)
    assert set(again.column("sick").labels) <= {"yes", "no", ""}
    assert 0.03 < again.column("chol").missing().mean() < 0.45  # missing values kept
    assert again.column("id").labels[0].startswith("syn-")  # ids are new, never copied


def test_copula_keeps_a_strong_correlation(tmp_path: Path) -> None:
    real = read_table(patients(tmp_path / "p.csv", n=2000))
    syn = fit_copula(real).sample(2000)
    r = np.corrcoef(syn.column("age").numbers, syn.column("weight").numbers)[0, 1]
    assert r > 0.8


def test_mst_fidelity_grows_with_epsilon(tmp_path: Path) -> None:
    real = read_table(patients(tmp_path / "p.csv", n=3000))
    train, hold = split(real, 0.3)
    tvd = {}
    for eps in (0.05, 20.0):
        syn = fit_mst(train, epsilon=eps, seed=3).sample(train.n_rows)
        tvd[eps] = compare(train, syn, hold)["fidelity"]["mean_2way_tvd"]
    assert tvd[20.0] < tvd[0.05]
    assert tvd[20.0] < 0.15


def test_report_catches_a_copy_and_passes_independent_data(tmp_path: Path) -> None:
    real = read_table(patients(tmp_path / "p.csv", n=800))
    train, hold = split(real, 0.25)
    copied = compare(train, train, hold)
    assert copied["privacy"]["exact_copies"] == train.n_rows
    assert copied["privacy"]["membership_auc"] > 0.9
    syn = fit_mst(train, epsilon=1.0).sample(train.n_rows)
    report = compare(train, syn, hold, target="sick")
    assert report["privacy"]["exact_copies"] <= train.n_rows // 20
    assert 0.3 < report["privacy"]["membership_auc"] < 0.7
    assert report["fidelity"]["utility"]["target"] == "sick"
    assert 0 <= report["fidelity"]["utility"]["train_synthetic_test_real"] <= 1
    assert compare(train, syn)["privacy"].get("membership_auc") is None  # no hold-out


def test_helpers_are_right() -> None:
    assert auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert auc(np.array([1.0]), np.array([1.0])) == 0.5
    z = np.array([-2.0, 0.0, 1.3])
    assert np.allclose(norm_ppf(norm_cdf(z)), z, atol=1e-5)
    assert abs(float(norm_cdf(np.array([1.96]))[0]) - 0.975) < 1e-4
    p = project_counts(np.array([5.0, -3.0, 2.0, 0.5]), 6.0)
    assert p.min() >= 0 and math.isclose(p.sum(), 6.0)
    assert math.isclose(cdp_rho(1.0, 1e-6), 0.017469, rel_tol=1e-3)


# --------------------------------------------------------------------------- bad input


def test_empty_table_is_refused(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(SynthError, match="empty"):
        read_table(tmp_path / "e.csv")
    (tmp_path / "h.csv").write_text("a,b\n")
    with pytest.raises(SynthError, match="0 data rows"):
        read_table(tmp_path / "h.csv")


def test_single_column_works(tmp_path: Path) -> None:
    real = read_table(write_rows(tmp_path / "one.csv", ["x"], [[i % 7] for i in range(300)]))
    for syn in (fit_mst(real, epsilon=1.0).sample(100), fit_copula(real).sample(100)):
        assert syn.names == ["x"] and syn.n_rows == 100
        assert set(np.unique(syn.column("x").numbers)) <= set(range(7))
    assert compare(real, fit_copula(real).sample(300))["fidelity"]["mean_2way_tvd"] is None


def test_fifty_thousand_distinct_strings_become_new_ids(tmp_path: Path) -> None:
    rows = [[f"person-{i:05d}", i % 3] for i in range(50_000)]
    real = read_table(write_rows(tmp_path / "ids.csv", ["name", "group"], rows))
    assert real.column("name").kind is Kind.identifier
    assert any("identifier" in n for n in real.notes())
    syn = fit_mst(real, epsilon=1.0).sample(1000)
    assert not set(syn.column("name").labels) & {r[0] for r in rows}


def test_many_categories_are_bounded(tmp_path: Path) -> None:
    rows = [[f"c{i % 200}"] for i in range(2000)]  # 200 categories, 10 rows each
    col = read_table(write_rows(tmp_path / "c.csv", ["cat"], rows)).column("cat")
    assert col.kind is Kind.categorical and len(set(col.labels)) == 64
    assert "merged" in col.notes[0]


def test_mixed_types_become_categorical_with_a_note(tmp_path: Path) -> None:
    rows = [[v] for v in ["1", "2", "three", "4", "five", "6"] * 20]
    col = read_table(write_rows(tmp_path / "m.csv", ["v"], rows)).column("v")
    assert col.kind is Kind.categorical
    assert "mixed types" in col.notes[0]
    assert fit_mst(read_table(tmp_path / "m.csv"), epsilon=1.0).sample(10).n_rows == 10


def test_a_one_gigabyte_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.truncate(1 << 30)  # a sparse 1 GB file: nothing is written
    with pytest.raises(SynthError, match="1074 MB is over the 200 MB limit"):
        read_table(big)


def test_bad_csv_and_bad_epsilon_have_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("a,b\n1,2\n3\n")
    with pytest.raises(SynthError, match="line 3: 1 fields where the header has 2"):
        read_table(tmp_path / "r.csv")
    real = read_table(patients(tmp_path / "p.csv", n=50))
    with pytest.raises(SynthError, match="--epsilon"):
        fit_mst(real, epsilon=0.0)
    with pytest.raises(SynthError, match=r"age=.old. is not a integer"):
        write_rows(tmp_path / "s.csv", real.names, [["x", "old", "1", "no", "2020-01-01", ""]])
        read_like(tmp_path / "s.csv", real)
