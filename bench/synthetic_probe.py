"""`ask` on synthetic questions made from text nobody here tuned on (HotpotQA's supporting
Wikipedia sentences): does it answer the answerable ones with the constructed span, and
abstain on their look-alikes?

The collection: the supporting sentences of the first ``--examples`` HotpotQA questions, one
document per Wikipedia title. The questions: ``cairn.synthetic`` pairs made from it. Run the
same command with another ``PYTHONPATH`` for a same-run peer (e.g. the main branch).

Run: ``python bench/synthetic_probe.py --make --examples 150 --n 120 --out probe.json``; then
``PYTHONPATH=<other checkout>/src python bench/synthetic_probe.py --n 120`` asks the same pairs
with another version of ``ask``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

HOTPOT = Path("../shared/benchdata/hotpotqa-1000/test.json")  # as cairn_eval.hotpot


def make(data_path: Path, examples: int, work: Path) -> None:
    """Write the collection (one file per title) and the synthetic pairs into ``work``."""
    from cairn.synthetic.dataset import SourceText, build_pairs, write_jsonl

    data = json.loads(data_path.read_text(encoding="utf-8"))[:examples]
    docs: dict[str, list[str]] = {}
    for ex in data:
        for ev in ex["evidence"]:
            title, _, text = ev.partition(" | ")
            if text and text not in docs.setdefault(title, []):
                docs[title].append(text)
    (work / "docs").mkdir(parents=True, exist_ok=True)
    sources = []
    for i, (title, sents) in enumerate(docs.items()):
        f = work / "docs" / f"doc{i:04d}.txt"
        f.write_text(" ".join(sents), encoding="utf-8")
        sources.append(SourceText(" ".join(sents), str(f), title))
    write_jsonl(build_pairs(sources), work / "pairs.jsonl")


def probe(work: Path, n: int) -> dict[str, object]:
    """``ask`` on ``n`` answerable pairs and ``n`` look-alikes (plain JSON: runs on any branch)."""
    import cairn
    from cairn.answer import ask

    rows = [json.loads(x) for x in (work / "pairs.jsonl").read_text().splitlines() if x]
    rng = random.Random(13)
    yes = [p for p in rows if p["answerable"]]
    no = [p for p in rows if not p["answerable"]]
    rng.shuffle(yes)
    rng.shuffle(no)
    yes, no = yes[:n], no[:n]
    files = sorted((work / "docs").glob("*.txt"))
    with tempfile.TemporaryDirectory() as tmp, cairn.open(Path(tmp) / "kb.sqlite") as kb:
        kb.ingest(files, graph=False, license="CC-BY-SA-4.0")
        ask(kb, "warm up?")
        ms: list[float] = []
        answered = exact = inside = shown = 0
        for p in yes:
            t = time.perf_counter()
            a = ask(kb, p["question"])
            ms.append(1000 * (time.perf_counter() - t))
            if a.abstained:
                continue
            answered += 1
            if a.short_answer:
                shown += 1
                exact += a.short_answer == p["answer"]
                inside += a.short_answer in a.citations[0].quote
        by_edit: dict[str, list[int]] = {}
        for p in no:
            t = time.perf_counter()
            a = ask(kb, p["question"])
            ms.append(1000 * (time.perf_counter() - t))
            by_edit.setdefault(p["edit"] or "", []).append(int(a.abstained))
    abstained = sum(sum(v) for v in by_edit.values())
    return {
        "date": time.strftime("%Y-%m-%d"),
        "collection": f"{len(files)} documents",
        "pairs": {"answerable": len(yes), "lookalikes": len(no), "made": len(rows)},
        "answerable_answered": round(answered / max(1, len(yes)), 3),
        "short_answer_shown_of_answered": round(shown / max(1, answered), 3),
        "short_answer_exact_of_shown": round(exact / max(1, shown), 3),
        "short_answer_inside_quote_of_shown": round(inside / max(1, shown), 3),
        "lookalikes_abstained": round(abstained / max(1, len(no)), 3),
        "lookalikes_abstained_by_edit": {k: f"{sum(v)}/{len(v)}" for k, v in by_edit.items()},
        "ask_ms_p50": round(statistics.median(ms), 1) if ms else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=HOTPOT)
    ap.add_argument("--examples", type=int, default=150)
    ap.add_argument("--work", type=Path, default=Path("/tmp/synthetic-probe"))
    ap.add_argument("--make", action="store_true", help="write the collection and the pairs")
    ap.add_argument("--n", type=int, default=120, help="answerable and look-alikes, each")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    if args.make:
        make(args.data, args.examples, args.work)
    report = probe(args.work, args.n)
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
