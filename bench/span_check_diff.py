"""Unchecked vs checked short answer on SQuAD 2.0 *fit* articles 7-8 (never the report ones).

For every ``--step``-th answerable question of those articles: the best candidate sentence
(`rank_candidates`), then the span `choose_span` picks (what `ask` showed before issue 13) and
the one `checked_span` keeps (type, unit and role checked), each scored by exact match against
the gold answers. Prints the questions where the two differ.

Run: ``python bench/span_check_diff.py --kb /tmp/squad-kb.sqlite`` (a KB `cairn eval qa` built)
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from cairn.answer.ask import default_spans, rank_candidates
from cairn.answer.question import analyse
from cairn.answer.span import choose_span
from cairn.answer.span_check import checked_span, relabelled
from cairn.knowledge import open_kb
from cairn_eval.qa import DEFAULT_DATA, load_squad


def _norm(s: str) -> str:
    s = re.sub(r"[^\w\s]", "", s.lower())
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", s).split())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kb", type=Path, default=Path("/tmp/squad-kb.sqlite"))
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--step", type=int, default=6)
    ap.add_argument("--limit", type=int, default=45)
    args = ap.parse_args()
    squad = load_squad(args.data)
    fit = set(squad.articles[6:8])  # the support model's fit articles (not the reader's)
    items = [i for i in squad.items if i.article in fit and i.answers][:: args.step]
    items = items[: args.limit]
    before = after = read = 0
    with open_kb(args.kb) as kb:
        for it in items:
            info = analyse(it.question)
            cands = rank_candidates(info, kb.search(info.text, k=5), kb)
            if not cands:
                continue
            read += 1
            text = cands[0].evidence.text
            spans = default_spans().candidates([text])[0]
            old = choose_span(info, text, relabelled(info, text, spans))[0]
            new = checked_span(info, text, spans)
            gold = {_norm(t) for t, _ in it.answers}
            o = bool(old and _norm(old.text) in gold)
            n = bool(new and _norm(new.text) in gold)
            before, after = before + o, after + n
            if o != n:
                print(f"{o} -> {n} | {it.question} | {old and old.text} | {new and new.text}")
    print(f"exact match, best sentence: unchecked {before}, checked {after} of {read}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
