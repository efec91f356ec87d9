"""Tune two-hop evidence on the EVEN-numbered HotpotQA questions only (odd ones are reported).

For each question: the single-hop answer (``ask(two_hop=False)``) and the two-hop answer with
the reader threshold off (``BRIDGE_LOGIT = -inf``), then a sweep of the threshold. Writes the
per-question rows to ``--out`` (JSONL) and prints the sweep.

    python bench/twohop_tune.py --limit 200 --out /tmp/twohop-tune.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from cairn.answer import two_hop
from cairn.answer.ask import ask
from cairn.eval.hotpot import COLLECTION, DEFAULT_DATA, contains_answer, load_hotpot
from cairn.knowledge import open_kb


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kb", type=Path, default=Path("/tmp/twohop-kb.sqlite"))
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--out", type=Path, default=Path("/tmp/twohop-tune.jsonl"))
    args = ap.parse_args()
    items = [it for i, it in enumerate(load_hotpot(DEFAULT_DATA)) if i % 2 == 0][: args.limit]
    two_hop.BRIDGE_LOGIT = -math.inf
    rows = []
    cache = {}
    if args.out.is_file():  # single-hop answers do not change between tuning runs
        cache = {r["q"]: r for r in map(json.loads, args.out.read_text().splitlines())}
    with open_kb(args.kb) as kb:
        ask(kb, items[0].question, collections=(COLLECTION,))
        for it in items:
            old = cache.get(it.question)
            if old is None:
                one = ask(kb, it.question, collections=(COLLECTION,), two_hop=False)
                cited = " ".join(c.quote for c in one.citations)
                one_answered = not one.abstained
                one_hit = one_answered and contains_answer(cited, it.answer)
            else:
                one_answered, one_hit = old["one_answered"], old["one_hit"]
            t = time.perf_counter()
            two = ask(kb, it.question, collections=(COLLECTION,))
            ms = (time.perf_counter() - t) * 1000
            rows.append(
                {
                    "q": it.question,
                    "gold": it.answer,
                    "type": it.type,
                    "one_answered": one_answered,
                    "one_hit": one_hit,
                    "two": bool(two.chain),
                    "two_reason": two.reason,
                    "two_support": two.support,
                    "two_hit": bool(two.chain)
                    and contains_answer(" ".join(c.quote for c in two.citations), it.answer),
                    "two_short": two.short_answer,
                    "ms": ms,
                }
            )
    args.out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    sweep(rows)
    return 0


def sweep(rows: list[dict[str, object]]) -> None:
    n = len(rows)
    for thr in (-math.inf, -2, -1, 0, 1, 2, 3, 4):
        p = 1 / (1 + math.exp(-thr)) if thr != -math.inf else 0.0
        answered = hits = 0
        for r in rows:
            use_two = r["two"] and (
                r["two_reason"] == "two-hop-comparison" or float(str(r["two_support"])) >= p
            )
            if use_two:
                answered += 1
                hits += bool(r["two_hit"])
            elif r["one_answered"]:
                answered += 1
                hits += bool(r["one_hit"])
        print(
            f"logit>={thr}: answered {answered / n:.3f} hit_all {hits / n:.3f} "
            f"precision {hits / max(answered, 1):.3f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
