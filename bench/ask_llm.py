"""Latency and sentence-check figures of ``ask`` without an LLM and with real ones.

Questions: SQuAD 2.0 dev-half report articles (answerable, evenly spaced), keeping the first
``--n`` that the extractive path answers (the model is only called for those). Each LLM
spec (``local``, a ``.gguf`` path, an ``http://.../v1`` URL) runs the same questions after one
warm-up question; per spec: latency p50 / p95, generated sentences and how many passed the
support check, why the rest were dropped, answers that fell back to the extractive answer
(model failure) or abstained (nothing passed), and whether a gold answer string is in the text.

Run: ``python bench/ask_llm.py --kb /tmp/squad-kb.sqlite --llm local --llm /tmp/qwen.gguf``
(the SQuAD KB comes from ``cairn eval qa``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from cairn.answer import ask
from cairn.knowledge import open_kb
from cairn.models.llm import LLM, load_llm
from cairn_eval.metrics import summarize_latencies
from cairn_eval.qa import COLLECTION, DEFAULT_DATA, load_squad, normalize_answer, subsample


def pick_questions(kb: Any, data: Path, n: int, pool: int) -> list[tuple[str, list[str]]]:
    squad = load_squad(data)
    fit = set(squad.articles[:8])
    items = [i for i in squad.items if i.article not in fit and i.answerable]
    out = []
    for item in subsample(items, pool):
        a = ask(kb, item.question, collections=(COLLECTION,))
        if not a.abstained:
            out.append((item.question, [t for t, _ in item.answers]))
        if len(out) == n:
            break
    return out


def run(kb: Any, questions: list[tuple[str, list[str]]], llm: LLM | None) -> dict[str, Any]:
    if llm is not None:
        llm.warm_up()
    ask(kb, questions[0][0], collections=(COLLECTION,), llm=llm)  # warm-up, not timed
    ms: list[float] = []
    c: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    samples: list[dict[str, str]] = []
    for q, golds in questions:
        t = time.perf_counter()
        a = ask(kb, q, collections=(COLLECTION,), llm=llm)
        ms.append((time.perf_counter() - t) * 1000)
        c["generative"] += a.mode == "generative" and not a.abstained
        c["fallback_extractive"] += a.reason.startswith("generation failed")
        c["abstained_unsupported"] += a.reason == "unsupported-generation"
        c["abstained"] += a.abstained
        c["sentences"] += len(a.checks)
        c["passed"] += sum(ch.passed for ch in a.checks)
        c["verbatim"] += sum(ch.reason == "verbatim" for ch in a.checks)
        for ch in a.checks:
            if not ch.passed:
                dropped[ch.reason.split(" (")[0].split(" not in")[0][:40]] += 1
        text = normalize_answer(a.text)
        c["gold_in_text"] += any(normalize_answer(g) in text for g in golds)
        if a.reason.startswith("generation failed"):
            c[f"fallback:{a.reason.split('(')[1].split(':')[0]}"] += 1
        if len(samples) < 4:
            samples.append({"question": q, "answer": a.text, "reason": a.reason})
    return {
        "llm": llm.name if llm else "none (extractive)",
        "questions": len(questions),
        "latency_ms": {k: round(v, 1) for k, v in summarize_latencies(ms).items()},
        **dict(c),
        "dropped_reasons": dict(dropped.most_common()),
        "samples": samples,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--kb", default="/tmp/squad-kb.sqlite")
    ap.add_argument("--squad", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--pool", type=int, default=120)
    ap.add_argument("--llm", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    with open_kb(args.kb) as kb:
        questions = pick_questions(kb, args.squad, args.n, args.pool)
        results = [run(kb, questions, None)]
        for spec in args.llm:
            results.append(run(kb, questions, load_llm(spec, timeout=args.timeout)))
            print(json.dumps(results[-1], indent=1), flush=True)
    text = json.dumps({"questions": [q for q, _ in questions], "runs": results}, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
