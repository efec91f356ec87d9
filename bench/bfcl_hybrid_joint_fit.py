"""The hybrid's cut-offs fitted on BFCL design records and the spoken set's design split
together (the spoken split is one more category), each irrelevance category kept at or above
``--min-irrelevance``; prints the fast path, the fit and a few fixed pairs.

Run (design data only): ``python bench/bfcl_hybrid_joint_fit.py DEV.jsonl SPOKEN_FAST.json
SPOKEN_HYBRID_ALL.json GATE_P.json`` with the records of ``cairn eval functions --half dev
--engine all --records``, ``spoken_api_bench.py --voices text --out``,
``spoken_api_hybrid_all.py`` and ``spoken_api_gate_p.py``. ``--split report`` (with the history
document's files) replays the report split at ``--call``/``--none``.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from cairn.command.tool_hybrid import Cutoffs
from cairn_eval.functions_engines import ItemRecord, category_accuracy


def spoken_records(fast: Path, hybrid: Path, gate_p: Path, split: str) -> list[ItemRecord]:
    by_fast = {o["text"]: o for o in json.loads(fast.read_text())["outcomes"]}
    by_hybrid = {o["text"]: o for o in json.loads(hybrid.read_text())["outcomes"]}
    seen = {t: (p, intent) for t, p, intent in json.loads(gate_p.read_text())}
    out = []
    for text, o in by_fast.items():
        if o["split"] != split or text not in by_hybrid:
            continue
        p, intent = seen[text]
        out.append(ItemRecord(
            o["id"], f"spoken_{split}", 0.0, False, bool(o["end_to_end"]),
            topk_ok=bool(by_hybrid[text]["end_to_end"]), fast_p=p,
            fast_answered=intent in ("call_api", "clarify"),
        ))  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    for name in ("bfcl", "spoken_fast", "spoken_hybrid", "gate_p"):
        ap.add_argument(name, type=Path)
    ap.add_argument("--split", default="design")
    ap.add_argument("--min-irrelevance", type=float, default=0.83)
    ap.add_argument("--call", type=float, default=None)
    ap.add_argument("--none", type=float, default=None)
    args = ap.parse_args()
    lines = args.bfcl.read_text(encoding="utf-8").splitlines()
    records = [ItemRecord(**json.loads(line)) for line in lines if line.strip()]
    records += spoken_records(args.spoken_fast, args.spoken_hybrid, args.gate_p, args.split)

    def row(tag: str, cut: Cutoffs) -> dict[str, Any]:
        s = category_accuracy(records, cut)
        return {"what": tag, "call": cut.call, "none": cut.none,
                "mean": round(statistics.fmean(s.values()), 3),
                **{c: round(v, 3) for c, v in s.items()}}  # fmt: skip

    print(json.dumps(row("fast", Cutoffs(call=0.0, none=1.0))))
    if args.call is not None and args.none is not None:
        print(json.dumps(row("given", Cutoffs(call=args.call, none=args.none))))
        return
    grid = [round(0.01 * i, 2) for i in range(50, 101)] + [1.01]
    best: tuple[float, float, float] | None = None
    for call in grid:
        for none in grid[:-1]:
            s = category_accuracy(records, Cutoffs(call=call, none=none))
            if any(v < args.min_irrelevance for c, v in s.items() if "irrelevance" in c):
                continue
            key = (round(statistics.fmean(s.values()), 6), -call, none)
            if best is None or key > best:
                best = key
    if best is None:
        raise SystemExit(f"no cut-offs keep irrelevance at {args.min_irrelevance}")
    print(json.dumps(row("fitted", Cutoffs(call=-best[1], none=best[2]))))


if __name__ == "__main__":
    main()
