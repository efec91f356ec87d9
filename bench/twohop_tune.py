"""Tune two-hop evidence on the EVEN-numbered HotpotQA questions only (odd ones are reported).

For each question: the single-hop answer (``ask(two_hop=False)``) and the two-hop answer with
every bar off (``two_hop.bridge_bar`` / ``comparison_bar`` return 0, so the best pair comes back
with its joint support), then a sweep of the bridge bar (``BRIDGE_SUPPORT``) and the comparison
bar (``COMPARISON_SUPPORT``). Writes the per-question rows to ``--out`` (JSONL). The same rows
for SQuAD's fit articles come from ``bench/twohop_squad.py --articles fit --out ...`` run with
the bars off the same way; the bars were chosen on both (BENCHMARKS.md, two-hop section).

    python bench/twohop_tune.py --limit 120 --out /tmp/twohop-tune.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from cairn.answer import two_hop
from cairn.answer.ask import ask
from cairn.knowledge import open_kb
from cairn_eval.hotpot import COLLECTION, DEFAULT_DATA, contains_answer, load_hotpot


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kb", type=Path, default=Path("/tmp/twohop-kb.sqlite"))
    ap.add_argument("--limit", type=int, default=120)
    ap.add_argument("--out", type=Path, default=Path("/tmp/twohop-tune.jsonl"))
    args = ap.parse_args()
    items = [it for i, it in enumerate(load_hotpot(DEFAULT_DATA)) if i % 2 == 0][: args.limit]
    two_hop.bridge_bar = lambda threshold: 0.0  # type: ignore[assignment]
    two_hop.comparison_bar = lambda threshold: 0.0  # type: ignore[assignment]
    rows = []
    with open_kb(args.kb) as kb:
        ask(kb, items[0].question, collections=(COLLECTION,))
        for it in items:
            one = ask(kb, it.question, collections=(COLLECTION,), two_hop=False)
            t = time.perf_counter()
            two = ask(kb, it.question, collections=(COLLECTION,), two_hop=True)
            ms = (time.perf_counter() - t) * 1000
            rows.append(
                {
                    "q": it.question,
                    "one_answered": not one.abstained,
                    "one_trusted": not one.abstained and one.short_answer is not None,
                    "one_hit": not one.abstained
                    and contains_answer(" ".join(c.quote for c in one.citations), it.answer),
                    "kind": two.reason if two.chain else "",
                    "joint": two.support,
                    "two_hit": bool(two.chain)
                    and contains_answer(" ".join(c.quote for c in two.citations), it.answer),
                    "ms": ms,
                }
            )
    args.out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    sweep(rows)
    return 0


def sweep(rows: list[dict[str, Any]]) -> None:
    n = len(rows)
    for bridge in (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.33):
        for comp in (0.0, 0.2, 0.33):
            answered = hits = 0
            for r in rows:
                bar = comp if r["kind"] == "two-hop-comparison" else bridge
                if r["kind"] and r["joint"] >= bar:
                    answered += 1
                    hits += bool(r["two_hit"])
                elif r["one_answered"]:
                    answered += 1
                    hits += bool(r["one_hit"])
            print(
                f"bridge>={bridge} comparison>={comp}: answered {answered / n:.3f} "
                f"hit_all {hits / n:.3f} precision {hits / max(answered, 1):.3f}"
            )


if __name__ == "__main__":
    raise SystemExit(main())
