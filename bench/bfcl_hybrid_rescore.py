"""The hybrid at given (or fitted) cut-offs, from the records of `cairn eval functions
--engine all --records FILE` (decoding is greedy, so an item routed to the LLM gets exactly the
recorded front-runner reply). Fit on the dev half's records only; apply to the report half's.

Run: ``python bench/bfcl_hybrid_rescore.py dev.jsonl --fit`` then
``python bench/bfcl_hybrid_rescore.py report.jsonl --call C --none N``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cairn.command.tool_hybrid import DEFAULT_CUTOFFS, Cutoffs
from cairn_eval.functions_engines import ItemRecord, fit_cutoffs, rescore


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("records", type=Path)
    ap.add_argument("--fit", action="store_true", help="fit the cut-offs on these records")
    ap.add_argument("--call", type=float, default=DEFAULT_CUTOFFS.call)
    ap.add_argument("--none", type=float, default=DEFAULT_CUTOFFS.none)
    ap.add_argument(
        "--llm-rate",
        type=float,
        default=None,
        help="fit with this LLM accuracy (measured on the same half) where a record has none",
    )
    ap.add_argument(
        "--min-irrelevance",
        type=float,
        default=None,
        help="fit only cut-offs that keep each irrelevance category at this accuracy (or at "
        "the fast path's, where that is lower)",
    )
    args = ap.parse_args()
    lines = args.records.read_text(encoding="utf-8").splitlines()
    records = [ItemRecord(**json.loads(line)) for line in lines if line.strip()]
    cut = Cutoffs(call=args.call, none=args.none)
    if args.fit:
        cut, acc = fit_cutoffs(records, args.llm_rate, args.min_irrelevance)
        print(json.dumps({"fitted": {"call": cut.call, "none": cut.none}, "mean_acc": acc}))
    for row in rescore(records, cut):
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
