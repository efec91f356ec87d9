"""`ask` latency with an adapted reader vs the packaged one, interleaved question by question
so both see the same machine load (issue 13: p50 <= 300 ms with the adapted model).

Run: ``python bench/adapt_latency.py --kb KB --adapted KB.adapted/v1 --n 40 [--collection C]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from cairn.answer.adapted import load_version, packaged_models
from cairn.answer.ask import ask
from cairn.knowledge import open_kb
from cairn_eval.qa import load_squad, subsample


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--kb", type=Path, required=True)
    ap.add_argument("--adapted", type=Path, required=True)
    ap.add_argument(
        "--squad", type=Path, default=Path("../shared/benchdata/squad2-dev-half/dev-v2.0.json")
    )
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--collection", default="squad2")
    args = ap.parse_args()
    squad = load_squad(args.squad)
    report = set(squad.articles[8:])
    items = subsample([i for i in squad.items if i.article in report], args.n)
    adapted = load_version(args.adapted)
    packaged = packaged_models()
    times: dict[str, list[float]] = {"adapted": [], "packaged": []}
    with open_kb(args.kb) as kb:
        for m in (adapted, packaged):  # model loading is not latency
            ask(kb, "warm up?", collections=(args.collection,), model=m.model, reader=m.reader)
        for n, it in enumerate(items):
            order = [("adapted", adapted), ("packaged", packaged)]
            for name, m in order if n % 2 == 0 else order[::-1]:
                t = time.perf_counter()
                ask(kb, it.question, collections=(args.collection,), model=m.model, reader=m.reader)
                times[name].append((time.perf_counter() - t) * 1000)
    out = {k: {"p50_ms": round(statistics.median(v), 1), "n": len(v)} for k, v in times.items()}
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
