"""Fit the call gate (:mod:`cairn.command.call_gate`) on design data only, and write it.

    python -m cairn_eval.call_gate_fit [--save] [--rows rows.jsonl]

Training rows, each one request against its candidate operations:

* BFCL's six categories, even (design) ids only: an operation fits every request of simple,
  multiple, live_simple and live_multiple, none fits irrelevance and live_irrelevance;
* Cairn's own design requests (the spoken set's design documents, ``bench/spoken_api``), with
  all three documents registered: an operation fits each;
* the command set's ``dev`` requests that are not API calls (search, ask, chart, ...), against
  the same three documents: none fits.

Each of these eight groups weighs the same in the fit. The cut is chosen on out-of-fold
probabilities (5 folds): the one that maximises BFCL's mean design accuracy over the six
categories, where a request is right as BFCL scores it (the fast path's call checked by BFCL's
own checker; no call on the irrelevance categories), among the cuts that keep both irrelevance
categories at >= 0.87 and Cairn's own non-API requests at >= 0.95 correctly not called.
BFCL's odd ids, the spoken set's report document and the command set's test split are never
read here.
"""

from __future__ import annotations

import argparse
import json
import zlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from cairn.command.call_gate import FEATURES, WEIGHTS_PATH, CallGate, features
from cairn.command.schema_match import Match, OperationIndex
from cairn_eval.logistic import fit_logistic

BFCL = ("simple", "multiple", "irrelevance", "live_simple", "live_multiple", "live_irrelevance")
OWN_POSITIVE, OWN_NEGATIVE = "own_requests", "own_not_api"
MIN_REFUSED = 0.87  # the irrelevance target
# a question to the user's own sources taken by an API is worse than a missed call (the user
# can name the operation): the command set's non-API requests keep a stricter floor
MIN_REFUSED_OWN = 0.95
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Row:
    group: str
    id: str
    fits: bool  # an operation fits the request
    called: bool  # the fast path's best candidate gives a call (not a question)
    right: bool  # ... and that call is what the benchmark expects
    features: dict[str, float]


def _row(
    group: str, rid: str, fits: bool, index: OperationIndex, text: str, today: date | None = None
) -> tuple[Row, Match] | None:
    """The request's features and what the fast path's best candidate would do if called."""
    cands = index.candidates(text, today)
    if not cands:
        return None
    found = OperationIndex._command(cands, text)
    called = found.command is not None and found.command.intent == "call_api"
    return Row(group, rid, fits, called, False, features(cands, text)), found


def bfcl_rows() -> Iterator[Row]:
    from bfcl_eval.constants.enums import Language  # type: ignore[import-untyped]

    from cairn.models.embed import packaged_minilm
    from cairn_eval import functions as F

    encoder = packaged_minilm()
    checker = F._checker()
    for category in BFCL:
        irrelevant = "irrelevance" in category
        for item, answer in F.load_items(category, "dev"):
            index = F.index_for(item, encoder)
            text = F._request(item)
            made = _row(category, item["id"], not irrelevant, index, text, F.BFCL_TODAY)
            if made is None:
                continue
            row, found = made
            if row.called and not irrelevant:
                out = F._decoded(found)
                got = checker(
                    item["function"], out, answer, Language.PYTHON, F.CATEGORIES[category], F._MODEL
                )
                row.right = bool(got["valid"])
            yield row


def own_rows() -> Iterator[Row]:
    from cairn.command.operations import from_api_tool
    from cairn.models.embed import packaged_minilm
    from cairn.tools.openapi import load_document, parse_spec
    from cairn.tools.registry import ApiTool
    from cairn_eval.spoken_api import load_requests

    folder = REPO / "bench" / "spoken_api"
    names = ("markets", "nyair", "history")
    ops = []
    for name in names:
        spec = parse_spec(load_document(folder / f"{name}.openapi.json"))
        ops += from_api_tool(ApiTool(name, spec, ()))
    index = OperationIndex(ops, packaged_minilm())
    for name in names:
        for req in load_requests(folder / f"{name}.requests.jsonl"):
            if req.split != "design":
                continue
            made = _row(OWN_POSITIVE, req.id, True, index, req.text)
            if made is not None:
                row, found = made
                cmd = found.command
                row.right = bool(
                    row.called
                    and cmd is not None
                    and cmd.api_operation == f"{name}.{req.operation}"
                )
                yield row
    commands = REPO / "src" / "cairn" / "command" / "commands.jsonl"
    for line in commands.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["split"] != "dev" or item["gold"]["intent"] == "call_api":
            continue
        made = _row(OWN_NEGATIVE, item["id"], False, index, item["text"])
        if made is not None:
            yield made[0]


def _matrix(rows: Sequence[Row]) -> np.ndarray:
    return np.array([[1.0, *(r.features[k] for k in FEATURES)] for r in rows])


def _weights(rows: Sequence[Row]) -> np.ndarray:
    count: dict[str, int] = defaultdict(int)
    for r in rows:
        count[r.group] += 1
    w = np.array([1.0 / count[r.group] for r in rows])
    return np.asarray(w * len(w) / w.sum())


def fit_gate(rows: Sequence[Row], *, l2: float = 1e-2) -> tuple[dict[str, float], float]:
    """Weights (in the features' own units) and bias, fitted on standardised features."""
    x = _matrix(rows)
    mu, sd = x[:, 1:].mean(0), x[:, 1:].std(0) + 1e-9
    z = np.hstack([x[:, :1], (x[:, 1:] - mu) / sd])
    y = np.array([float(r.fits) for r in rows])
    coef = fit_logistic(z, y, weights=_weights(rows), l2=l2, steps=6000)
    w = coef[1:] / sd
    bias = float(coef[0] - (w * mu).sum())
    return dict(zip(FEATURES, (float(v) for v in w), strict=True)), bias


def out_of_fold(rows: Sequence[Row], folds: int = 5) -> np.ndarray:
    """Each row's probability from a gate fitted on the other folds."""
    fold = np.array([zlib.crc32(f"{r.group}/{r.id}".encode()) % folds for r in rows])
    probs = np.zeros(len(rows))
    for k in range(folds):
        train = [r for r, f in zip(rows, fold, strict=True) if f != k]
        weights, bias = fit_gate(train)
        gate = CallGate(weights, bias, 0.5)
        for i in np.flatnonzero(fold == k):
            probs[i] = _probability(gate, rows[int(i)])
    return probs


def _probability(gate: CallGate, row: Row) -> float:
    z = gate.bias + sum(gate.weights[k] * row.features[k] for k in FEATURES)
    return float(1.0 / (1.0 + np.exp(-z)))


def accuracy(rows: Sequence[Row], probs: np.ndarray, cut: float) -> dict[str, float]:
    """Per group: the share right at ``cut`` (a call checked right where an operation fits, no
    call where none does; a question counts as no call, as BFCL counts it)."""
    right: dict[str, list[bool]] = defaultdict(list)
    for r, p in zip(rows, probs, strict=True):
        calls = bool(p >= cut) and r.called
        right[r.group].append(calls and r.right if r.fits else not calls)
    return {g: float(np.mean(v)) for g, v in right.items()}


def choose_cut(rows: Sequence[Row], probs: np.ndarray) -> tuple[float, dict[str, float]]:
    best: tuple[float, float, dict[str, float]] | None = None
    for cut in np.round(np.arange(0.05, 0.96, 0.01), 2):
        acc = accuracy(rows, probs, float(cut))
        if min(acc.get(g, 1.0) for g in ("irrelevance", "live_irrelevance")) < MIN_REFUSED:
            continue
        if acc.get(OWN_NEGATIVE, 1.0) < MIN_REFUSED_OWN:
            continue
        mean = float(np.mean([acc[g] for g in BFCL if g in acc]))
        if best is None or mean > best[0]:
            best = (mean, float(cut), acc)
    if best is None:
        raise SystemExit(f"no cut keeps the no-call groups at >= {MIN_REFUSED} / {MIN_REFUSED_OWN}")
    return best[1], best[2]


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--save", action="store_true", help=f"write {WEIGHTS_PATH.name} in place")
    ap.add_argument("--rows", type=Path, help="cache of the training rows (JSON lines)")
    args = ap.parse_args(argv)
    if args.rows and args.rows.is_file():
        rows = [Row(**json.loads(line)) for line in args.rows.read_text().splitlines()]
    else:
        rows = [*own_rows(), *bfcl_rows()]
        if args.rows:
            args.rows.write_text("".join(json.dumps(asdict(r)) + "\n" for r in rows))
    probs = out_of_fold(rows)
    cut, acc = choose_cut(rows, probs)
    weights, bias = fit_gate(rows)
    report: dict[str, Any] = {
        "cut": cut,
        "out_of_fold_accuracy": {g: round(v, 3) for g, v in acc.items()},
        "bfcl_design_mean": round(float(np.mean([acc[g] for g in BFCL])), 3),
        "rows": len(rows),
    }
    print(json.dumps(report, indent=1))
    if args.save:
        from cairn.models.packaged import record_sha256

        note = (
            f"fitted by `python -m cairn_eval.call_gate_fit --save` on {len(rows)} design rows"
            " (BFCL even ids, Cairn's own design requests and non-API commands); cut chosen on"
            f" out-of-fold probabilities: BFCL design mean {report['bfcl_design_mean']}"
        )
        WEIGHTS_PATH.write_text(CallGate(weights, bias, cut, note).to_json() + "\n")
        record_sha256(WEIGHTS_PATH)
        print(f"wrote {WEIGHTS_PATH}")


if __name__ == "__main__":
    main()
