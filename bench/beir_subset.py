"""A small BEIR folder cut from a large one, for an A/B of two code versions in one sitting.

Keeps the first ``--queries`` queries of the split's qrels (in file order), every document they
judge, and then the corpus's first other documents until there are ``--docs``; queries are
copied whole (the loader keeps only the judged ones). Deterministic: the same arguments give
the same folder.

    python bench/beir_subset.py ../shared/benchdata/scifact /tmp/sf-sub --queries 100 --docs 700
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def cut(src: Path, out: Path, queries: int, docs: int, split: str = "test") -> tuple[int, int]:
    """Write the subset; return (queries kept, documents kept)."""
    head, *rows = [r for r in (src / "qrels" / f"{split}.tsv").read_text().splitlines() if r]
    order: list[str] = []
    for r in rows:
        q = r.split("\t")[0]
        if q not in order:
            order.append(q)
    kept_q = set(order[:queries])
    judged = [r for r in rows if r.split("\t")[0] in kept_q]
    relevant = {r.split("\t")[1] for r in judged}
    corpus = [json.loads(line) for line in (src / "corpus.jsonl").open(encoding="utf-8")]
    kept = {str(d["_id"]) for d in corpus if str(d["_id"]) in relevant}
    for d in corpus:
        if len(kept) >= docs:
            break
        kept.add(str(d["_id"]))
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    (out / "qrels" / f"{split}.tsv").write_text(head + "\n" + "\n".join(judged) + "\n")
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for d in corpus:
            if str(d["_id"]) in kept:
                f.write(json.dumps(d) + "\n")
    shutil.copy(src / "queries.jsonl", out / "queries.jsonl")
    return len(kept_q), len(kept)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--docs", type=int, default=700)
    p.add_argument("--split", default="test")
    a = p.parse_args()
    print(cut(a.src, a.out, a.queries, a.docs, a.split))


if __name__ == "__main__":
    main()
