"""`cairn synth` as a library call: find the source, check its consent, fit a generator,
write the synthetic table with its provenance, and record it in the knowledge base."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.kb.types import Consent, Source
from cairn.synth.copula import fit_copula
from cairn.synth.figure import marginals_figure
from cairn.synth.mst import fit_mst
from cairn.synth.mst_consistent import fit_consistent_mst
from cairn.synth.report import compare, split
from cairn.synth.table import MAX_BYTES, SynthError, Table, read_like, read_table, write_csv

if TYPE_CHECKING:
    from cairn.knowledge import KnowledgeBase

Progress = Callable[[str, int, int], None]
GENERATORS = ("mst", "mst-v1", "copula")
PRIVATE_GENERATORS = ("mst", "mst-v1")  # mst-v1: the first MST (tree projection only)
MAX_ROWS = 1_000_000


def _no_progress(step: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class SynthResult:
    """What was written, and where it came from."""

    path: str
    provenance_path: str
    derived_from: str  # the real source's path or URL
    derived_from_id: int | None  # its id in the knowledge base, when it is there
    derived_from_sha256: str
    generator: str
    epsilon: float | None  # None: not differentially private
    delta: float | None
    rows: int
    columns: list[str]
    created: str  # ISO 8601 UTC
    license: str | None  # the source's: a synthetic table is no more permissive
    consent: str
    synthetic: bool = True
    source_id: int | None = None  # the synthetic table's own id once ingested
    holdout_rows: int | None = None  # rows kept out of fitting for the report
    report_path: str | None = None
    figure_path: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_source(ref: str, kb: KnowledgeBase | None) -> tuple[Path, Source | None]:
    """The table file behind ``ref`` (a KB source id, path or URL, or a plain path) and its
    KB record if it has one."""
    path = Path(ref).expanduser()
    source = None
    if kb is not None:
        key: str | int = int(ref) if ref.isdigit() and not path.exists() else ref
        if path.exists():
            key = str(path.resolve())
        source = kb.store.get_source(key)
    if source is not None:
        path = Path(source.uri)
        if not path.is_file():
            raise SynthError(
                "source-file-missing",
                f"source {source.id} ({source.uri}): its file is no longer on disk; "
                "synthesis reads the original table",
            )
        return path, source
    if not path.is_file():
        where = " in the knowledge base or on disk" if kb is not None else " on disk"
        raise SynthError("not-found", f"{ref}: no such source{where}")
    return path.resolve(), None


def synthetic_path(source: Path, generator: str, out: Path | None) -> Path:
    """``out``, or ``<stem>.synthetic-<generator>.csv`` beside the source; the name always
    contains 'synthetic', so every citation of it says so."""
    if out is None:
        return source.with_name(f"{source.stem}.synthetic-{generator}.csv")
    if out.suffix.lower() != ".csv":
        raise SynthError("bad-output", f"-o {out}: the synthetic table is written as .csv")
    if "synthetic" not in out.name.lower():
        out = out.with_name(f"{out.stem}.synthetic.csv")
    return out


def fit_and_sample(
    table: Table,
    *,
    generator: str,
    epsilon: float | None,
    rows: int,
    delta: float | None = None,
    seed: int = 0,
    progress: Progress = _no_progress,
) -> tuple[Table, float | None]:
    """A synthetic table of ``rows`` rows, and the delta used (None when not private)."""
    if generator not in GENERATORS:
        raise SynthError("bad-generator", f"--generator {generator!r}: use one of {GENERATORS}")
    if not 1 <= rows <= MAX_ROWS:
        raise SynthError("bad-rows", f"--rows {rows}: use 1 to {MAX_ROWS:,}")
    if generator in PRIVATE_GENERATORS:
        if epsilon is None:
            raise SynthError(
                "bad-epsilon", f"--epsilon: the {generator} generator needs a privacy budget"
            )
        fit = fit_consistent_mst if generator == "mst" else fit_mst
        model = fit(table, epsilon=epsilon, delta=delta, seed=seed, progress=progress)
        return model.sample(rows), model.delta
    if epsilon is not None:
        raise SynthError(
            "bad-epsilon",
            "--epsilon: the copula generator is not differentially private; use --generator mst",
        )
    return fit_copula(table, seed=seed, progress=progress).sample(rows), None


def synthesize(
    ref: str,
    *,
    kb: KnowledgeBase | None = None,
    generator: str = "mst",
    epsilon: float | None = 1.0,
    delta: float | None = None,
    rows: int | None = None,
    out: Path | None = None,
    seed: int = 0,
    max_bytes: int = MAX_BYTES,
    ingest: bool = True,
    holdout: float | None = None,
    target: str | None = None,
    progress: Progress = _no_progress,
) -> SynthResult:
    """Fit ``generator`` on the table ``ref`` and write a synthetic table with provenance.

    Refuses sources whose consent is refused. With a knowledge base and ``ingest``, the
    synthetic table becomes a source of its own, under the real source's licence, consent,
    owner and collection, with the real source as its source URL. With ``holdout`` (a share
    of rows), the generator is fitted on the rest and a report (JSON + PNG) compares the
    synthetic table with the rows it was fitted on and with the hold-out."""
    path, source = resolve_source(ref, kb)
    if source is not None and source.provenance.consent is Consent.refused:
        raise SynthError(
            "consent-refused",
            f"source {source.id} ({source.uri}): its consent is 'refused'; "
            "no synthetic data is made from it",
        )
    table = read_table(path, max_bytes=max_bytes)
    held = None
    if holdout is not None:
        table, held = split(table, holdout, seed=seed)
    n = rows if rows is not None else table.n_rows
    synthetic, used_delta = fit_and_sample(
        table,
        generator=generator,
        epsilon=epsilon,
        rows=n,
        delta=delta,
        seed=seed,
        progress=progress,
    )
    target_path = synthetic_path(path, generator, out)
    if target_path.resolve() == path.resolve():
        raise SynthError("bad-output", f"-o {target_path}: would overwrite the source")
    write_csv(synthetic, target_path)
    prov = source.provenance if source is not None else None
    result = SynthResult(
        path=str(target_path.resolve()),
        provenance_path=str(target_path.with_name(target_path.name + ".provenance.json").resolve()),
        derived_from=source.uri if source is not None else str(path),
        derived_from_id=source.id if source is not None else None,
        derived_from_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        generator=generator,
        epsilon=epsilon if generator in PRIVATE_GENERATORS else None,
        delta=used_delta,
        rows=n,
        columns=table.names,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        license=prov.license if prov else None,
        consent=prov.consent.value if prov else Consent.unknown.value,
        notes=table.notes(),
        holdout_rows=held.n_rows if held is not None else None,
    )
    if held is not None:
        report = compare(table, synthetic, held, target=target, seed=seed)
        report["synthetic"] = result.path
        report_path = target_path.with_name(target_path.stem + ".report.json")
        figure = marginals_figure(
            table,
            synthetic,
            target_path.with_name(target_path.stem + ".report.png"),
            title=f"{path.name}: real (fitted rows) vs {generator}",
        )
        report_path.write_text(json.dumps(report, indent=2) + "\n")
        result = SynthResult(
            **{**asdict(result), "report_path": str(report_path), "figure_path": str(figure)}
        )
    if kb is not None and ingest:
        kb.ingest(
            [target_path],
            collection=prov.collection if prov else "default",
            license=result.license,
            source_url=Path(result.derived_from).resolve().as_uri()
            if not result.derived_from.startswith(("http://", "https://"))
            else result.derived_from,
            owner=prov.owner if prov else None,
            consent=result.consent,
        )
        made = kb.store.get_source(result.path)
        result = SynthResult(**{**asdict(result), "source_id": made.id if made else None})
    Path(result.provenance_path).write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return result


def is_synthetic(uri: str) -> bool:
    """Whether a source's path names a synthetic table (as ``synthesize`` writes them)."""
    return "synthetic" in Path(uri).name.lower()


def report_tables(
    real: Path,
    synthetic: Path,
    *,
    holdout: Path | None = None,
    target: str | None = None,
    out: Path | None = None,
    figure: Path | None = None,
    max_bytes: int = MAX_BYTES,
) -> dict[str, Any]:
    """Compare a synthetic table with the real rows it was fitted on (and a real hold-out,
    when given); write the JSON report and the PNG of marginals side by side."""
    real_table = read_table(real, max_bytes=max_bytes)
    syn_table = read_like(synthetic, real_table, max_bytes=max_bytes)
    held = read_like(holdout, real_table, max_bytes=max_bytes) if holdout else None
    report = compare(real_table, syn_table, held, target=target)
    report["real"], report["synthetic"] = str(real), str(synthetic)
    out = out or synthetic.with_name(synthetic.stem + ".report.json")
    figure = figure or out.with_suffix(".png")
    marginals_figure(real_table, syn_table, figure, title=f"{real.name} vs {synthetic.name}")
    report["figure"] = str(figure)
    out.write_text(json.dumps(report, indent=2) + "\n")
    report["report"] = str(out)
    return report
