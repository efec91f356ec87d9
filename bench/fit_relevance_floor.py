"""Fit the dense-similarity floor below which a search hit with no keyword match is not shown.

`cairn search` shows a hit when it matches a query word (BM25), shares an entity with the query
(graph), or its dense cosine reaches the floor. The floor is fitted on SciFact **train**: the
cosine that keeps 98% of the judged-relevant (claim, abstract) pairs. It is reported on SciFact
**test** (never fitted there): the share of relevant pairs kept, and the share of random
(claim, other abstract) pairs cut. Abstracts are embedded as the first chunk would be (title,
newline, the first 1,200 characters), so a multi-chunk document's best chunk can only score
higher than measured here.

    python bench/fit_relevance_floor.py --beir ../shared/benchdata/scifact --queries 120

``--queries`` samples that many judged queries per split (seeded), to bound the run time.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

from cairn.models.embed import packaged_minilm
from cairn_eval.beir import iter_corpus, load_beir

KEEP = 0.98  # share of relevant train pairs the floor keeps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--beir", type=Path, required=True)
    ap.add_argument("--queries", type=int, default=120, help="queries sampled per split")
    a = ap.parse_args()
    train, test = load_beir(a.beir, "train"), load_beir(a.beir, "test")
    corpus = {doc_id: (title, text) for doc_id, title, text in iter_corpus(train.corpus_path)}
    ids = sorted(corpus)
    rng = random.Random(0)

    def pairs(ds_qrels: dict[str, dict[str, int]]) -> tuple[list[tuple[str, str]], ...]:
        chosen = sorted(rng.sample(sorted(ds_qrels), min(a.queries, len(ds_qrels))))
        ds_qrels = {q: ds_qrels[q] for q in chosen}
        rel = [(q, d) for q, docs in sorted(ds_qrels.items()) for d, g in docs.items() if g > 0]
        rnd = []
        for q, docs in sorted(ds_qrels.items()):
            d = rng.choice(ids)
            while d in docs:
                d = rng.choice(ids)
            rnd.append((q, d))
        return rel, rnd

    tr_rel, tr_rnd = pairs(train.qrels)
    te_rel, te_rnd = pairs(test.qrels)
    emb = packaged_minilm()
    queries = train.queries | test.queries
    need_q = sorted({q for q, _ in tr_rel + tr_rnd + te_rel + te_rnd})
    need_d = sorted({d for _, d in tr_rel + tr_rnd + te_rel + te_rnd if d in corpus})
    qv = dict(zip(need_q, emb.embed_batch([queries[q] for q in need_q]), strict=True))
    texts = [(f"{corpus[d][0]}\n" if corpus[d][0] else "") + corpus[d][1][:1200] for d in need_d]
    vectors = []
    for i in range(0, len(texts), 64):
        vectors.extend(emb.embed_batch(texts[i : i + 64]))
        print(f"embedded {min(i + 64, len(texts))}/{len(texts)}", file=sys.stderr, flush=True)
    dv = dict(zip(need_d, vectors, strict=True))

    def cos(ps: list[tuple[str, str]]) -> np.ndarray:
        return np.array([float(qv[q] @ dv[d]) for q, d in ps if d in dv])

    floor = float(np.quantile(cos(tr_rel), 1 - KEEP))
    rel, rnd = cos(te_rel), cos(te_rnd)
    print(
        json.dumps(
            {
                "floor": round(floor, 3),
                "fitted_on": f"train: {len(tr_rel)} relevant pairs (keep {KEEP:.0%})",
                "queries_per_split": a.queries,
                "test_relevant_kept": round(float((rel >= floor).mean()), 4),
                "test_random_cut": round(float((rnd < floor).mean()), 4),
                "test_pairs": {"relevant": len(rel), "random": len(rnd)},
                "train_random_cut": round(float((cos(tr_rnd) < floor).mean()), 4),
            }
        )
    )


if __name__ == "__main__":
    main()
