"""The default private generator (mst with consistent estimates and stratified sampling):
columns and kinds kept, refused consent, epsilon checks, determinism, privacy accounting,
and that it is closer to the real table than the first mst at the same budget."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from tests.test_synth import patients
from tests.test_synth_kb import open_kb, runner, wards

from cairn.cli import app
from cairn.synth.mst import fit_mst
from cairn.synth.mst_consistent import fit_consistent_mst, nested_bins, systematic_counts
from cairn.synth.report import compare, split
from cairn.synth.service import fit_and_sample, synthesize
from cairn.synth.table import Kind, SynthError, read_like, read_table, rows_of, write_csv


def test_columns_kinds_and_missing_values_are_kept(tmp_path: Path) -> None:
    real = read_table(patients(tmp_path / "p.csv"))
    syn = fit_consistent_mst(real, epsilon=1.0).sample(300)
    assert syn.names == real.names and syn.n_rows == 300
    write_csv(syn, tmp_path / "s.csv")
    again = read_like(tmp_path / "s.csv", real)  # every value parses as its column's kind
    assert [c.kind for c in again.columns] == [c.kind for c in real.columns]
    assert set(again.column("sick").labels) <= {"yes", "no"}
    assert 0.03 < again.column("chol").missing().mean() < 0.45
    ages = again.column("age").numbers
    assert ages.min() >= 20 and ages.max() <= 89 and np.all(ages == np.round(ages))
    assert again.column("id").labels[0] == "syn-000001"
    assert again.column("seen").kind is Kind.date


def test_refused_consent_is_refused(tmp_path: Path) -> None:
    table = wards(tmp_path / "wards.csv")
    with open_kb(tmp_path) as kb:
        kb.ingest([table], consent="refused")
        with pytest.raises(SynthError, match="consent is 'refused'"):
            synthesize(str(table), kb=kb, generator="mst", epsilon=1.0)
    assert not list(tmp_path.glob("*synthetic*"))


@pytest.mark.parametrize("epsilon", [0.0, -1.0, math.nan, math.inf, 100.5])
def test_bad_epsilon_is_refused(tmp_path: Path, epsilon: float) -> None:
    real = read_table(patients(tmp_path / "p.csv", n=50))
    with pytest.raises(SynthError, match="--epsilon"):
        fit_consistent_mst(real, epsilon=epsilon)


def test_service_offers_the_new_and_the_old_mst(tmp_path: Path) -> None:
    real = read_table(patients(tmp_path / "p.csv", n=200))
    for generator in ("mst", "mst-v1"):
        syn, delta = fit_and_sample(real, generator=generator, epsilon=1.0, rows=50)
        assert syn.n_rows == 50 and delta is not None and 0 < delta <= 1e-6
        with pytest.raises(SynthError, match="needs a privacy budget"):
            fit_and_sample(real, generator=generator, epsilon=None, rows=50)


@pytest.mark.parametrize("generator", ["mst", "mst-v1"])
def test_cli_runs_both_private_generators_with_the_default_epsilon(
    tmp_path: Path, generator: str
) -> None:
    source = patients(tmp_path / "p.csv", n=200)
    kb = str(tmp_path / "kb.sqlite")
    args = ["synth", str(source), "--generator", generator, "--no-ingest", "--kb", kb, "--json"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    made = json.loads(r.stdout)
    assert (made["generator"], made["epsilon"], made["rows"]) == (generator, 1.0, 200)
    assert made["path"].endswith(f"p.synthetic-{generator}.csv")
    r = runner.invoke(app, [*args[:-1], "--epsilon", "0"])
    assert r.exit_code == 2 and "--epsilon 0.0: use a number in (0, 100]" in r.output


def test_same_seed_same_table_other_seed_other_table(tmp_path: Path) -> None:
    real = read_table(patients(tmp_path / "p.csv", n=400))
    a = rows_of(fit_consistent_mst(real, epsilon=1.0, seed=7).sample(200))
    b = rows_of(fit_consistent_mst(real, epsilon=1.0, seed=7).sample(200))
    c = rows_of(fit_consistent_mst(real, epsilon=1.0, seed=8).sample(200))
    assert a == b
    assert a != c


@pytest.mark.parametrize(("epsilon", "columns"), [(0.5, 6), (1.0, 6), (4.0, 1)])
def test_privacy_accounting_spends_the_budget_and_no_more(
    tmp_path: Path, epsilon: float, columns: int
) -> None:
    real = read_table(patients(tmp_path / "p.csv", n=300))
    if columns == 1:
        real.columns = [real.column("age")]
    model = fit_consistent_mst(real, epsilon=epsilon)
    assert model.rho_spent <= model.rho_budget * (1 + 1e-9)
    assert model.rho_spent >= model.rho_budget * 0.999  # nothing measured outside the ledger


def test_systematic_counts_are_exact_and_within_one_row() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        p = rng.dirichlet(np.ones(7))
        n = int(rng.integers(1, 500))
        counts = systematic_counts(p, n, rng)
        assert counts.sum() == n and counts.min() >= 0
        assert np.all(np.abs(counts - n * p) < 1.0 + 1e-9)
    assert systematic_counts(np.array([0.5, 0.5]), 0, rng).sum() == 0
    assert [nested_bins(k) for k in (0, 2, 4, 5, 9, 10, 40)] == [2, 2, 4, 5, 5, 10, 10]


def test_closer_to_the_real_table_than_the_first_mst(tmp_path: Path) -> None:
    real = read_table(patients(tmp_path / "p.csv", n=3000))
    train, hold = split(real, 0.3)
    new, old = [], []
    for seed in range(3):
        syn = fit_consistent_mst(train, epsilon=1.0, seed=seed).sample(train.n_rows)
        new.append(compare(train, syn, hold)["fidelity"]["mean_2way_tvd"])
        syn = fit_mst(train, epsilon=1.0, seed=seed).sample(train.n_rows)
        old.append(compare(train, syn, hold)["fidelity"]["mean_2way_tvd"])
    assert float(np.median(new)) < float(np.median(old))
