"""Does two-hop evidence change single-paragraph answers?

SQuAD 2.0 report articles (9-16 of the dev half; nothing was fitted on them), the same KB and
questions, ``ask(two_hop=True)`` against ``ask(two_hop=False)`` in one run, interleaved:
answered rate on answerable and on unanswerable questions, and how many answers quote a
sentence that holds a gold answer. ``--articles fit`` asks the fit articles (1-8) instead:
two-hop settings are tuned there (``--bars-off --out rows.jsonl`` records every second hop's
joint support), never on the report articles.

Run: ``python bench/twohop_squad.py --kb /tmp/squad16.sqlite --limit 150`` (the KB is made
by ``cairn eval qa --kb ...``; the corpus is ingested when the KB lacks it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cairn.answer import two_hop
from cairn.answer.ask import ask
from cairn.knowledge import open_kb
from cairn_eval.qa import (
    COLLECTION,
    DEFAULT_DATA,
    load_squad,
    normalize_answer,
    subsample,
    write_corpus,
)


@dataclass
class Tally:
    ans_answered: int = 0
    ans_held: int = 0
    unans_answered: int = 0
    ms: list[float] = field(default_factory=list)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=150)
    ap.add_argument("--fit-articles", type=int, default=8)
    ap.add_argument("--articles", choices=("report", "fit"), default="report")
    ap.add_argument("--out", type=Path, default=None, help="per-question rows (JSONL)")
    ap.add_argument(
        "--bars-off", action="store_true", help="tuning: every second hop, with its support"
    )
    args = ap.parse_args()
    if args.bars_off:
        two_hop.bridge_bar = lambda threshold: 0.0  # type: ignore[assignment]
        two_hop.comparison_bar = lambda threshold: 0.0  # type: ignore[assignment]
    squad = load_squad(DEFAULT_DATA)
    fit = set(squad.articles[: args.fit_articles])
    asked = [i for i in squad.items if (i.article in fit) == (args.articles == "fit")]
    items = subsample(asked, args.limit)
    rows: list[dict[str, Any]] = []
    tally = {"two_hop": Tally(), "single": Tally()}
    with open_kb(args.kb) as kb:
        if not kb.stats().documents:
            kb.ingest(
                [write_corpus(squad, Path("/tmp/squad-corpus/squad.jsonl"))],
                collection=COLLECTION,
                graph=False,
            )
        ask(kb, "warm up the models?", collections=(COLLECTION,))
        for item in items:
            for mode, flag in (("two_hop", True), ("single", False)):
                t = time.perf_counter()
                a = ask(kb, item.question, collections=(COLLECTION,), two_hop=flag)
                tally[mode].ms.append((time.perf_counter() - t) * 1000)
                quotes = normalize_answer(" ".join(c.quote for c in a.citations))
                held = any(normalize_answer(g) in quotes for g, _ in item.answers)
                rows.append(
                    {"q": item.question, "mode": mode, "answerable": item.answerable,
                     "abstained": a.abstained, "reason": a.reason, "chain": bool(a.chain),
                     "support": a.support, "short": a.short_answer, "held": held}
                )  # fmt: skip
                if a.abstained:
                    continue
                if not item.answerable:
                    tally[mode].unans_answered += 1
                    continue
                tally[mode].ans_answered += 1
                tally[mode].ans_held += held
    n_ans = sum(i.answerable for i in items)
    n_un = len(items) - n_ans
    out: dict[str, Any] = {
        "articles": args.articles,
        "questions": len(items),
        "answerable": n_ans,
        "unanswerable": n_un,
    }
    for mode, c in tally.items():
        given = c.ans_answered + c.unans_answered
        out[mode] = {
            "coverage_of_answerable": round(c.ans_answered / max(n_ans, 1), 3),
            "answered_unanswerable": round(c.unans_answered / max(n_un, 1), 3),
            "precision_of_answers_given": round(c.ans_held / max(given, 1), 3),
            "p50_ms": round(statistics.median(c.ms)),
        }
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
