"""Recall@10 and build time of a usearch HNSW index per connectivity / expansion_add.

A diagnostic for issue #6: the vectors of the 1M-chunk SQLite KB built by
``bench/scale_suite.py`` are indexed directly (cosine, f16 or f32) and searched with the
SciFact *train* claims (those not in the test file; choose settings on these, never on test)
at several ef_search values; recall@10 is against exact search over the same float32 vectors.

    python bench/ann_params.py --kb /tmp/scale/kb.sqlite --connectivity 32 --expansion-add 200 \
        --dtype f32
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import cairn

sys.path.insert(0, str(Path(__file__).parent))
from scale_suite import read_queries, stored_vectors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--kb", default="/tmp/scale/kb.sqlite")
    ap.add_argument("--connectivity", type=int, default=16)
    ap.add_argument("--expansion-add", type=int, default=128)
    ap.add_argument("--dtype", choices=("f16", "f32"), default="f16")
    ap.add_argument("--limit", type=int, default=1_000_000, help="first N stored vectors")
    ap.add_argument(
        "--queries", type=Path, default=Path("../shared/benchdata/scifact/queries.jsonl")
    )
    ap.add_argument(
        "--exclude", type=Path, default=Path("../shared/benchdata/scifact/queries_test.jsonl")
    )
    ap.add_argument("--n-queries", type=int, default=300)
    a = ap.parse_args()
    ids, matrix = stored_vectors(a.kb)
    ids, matrix = ids[: a.limit], matrix[: a.limit]
    queries = read_queries(a.queries, exclude=a.exclude)[: a.n_queries]
    with cairn.open(a.kb) as kb:  # the encoder (onnxruntime) loads before usearch
        vectors = np.stack([kb.embedder.embed_query(q) for q in queries]).astype(np.float32)
    from cairn.kb.vectors import _usearch_index

    exact = np.argpartition(-(vectors @ matrix.T), 10, axis=1)[:, :10]
    t = time.time()
    index = _usearch_index()(
        ndim=matrix.shape[1],
        metric="cos",
        dtype=a.dtype,
        connectivity=a.connectivity,
        expansion_add=a.expansion_add,
    )
    index.add(ids, matrix, threads=2)
    out: dict[str, object] = {
        "connectivity": a.connectivity,
        "expansion_add": a.expansion_add,
        "dtype": a.dtype,
        "queries": len(queries),
        "vectors": len(ids),
        "build_s": round(time.time() - t, 1),
    }
    row_of = {int(c): j for j, c in enumerate(ids)}
    for ef in (128, 256, 400, 600, 800):
        index.expansion_search = ef
        recall, ms = [], []
        for i, v in enumerate(vectors):
            t0 = time.perf_counter()
            keys = index.search(v, 10).keys
            ms.append((time.perf_counter() - t0) * 1000)
            recall.append(len(set(exact[i].tolist()) & {row_of[int(x)] for x in keys}) / 10)
        out[f"ef{ef}"] = {
            "recall@10": round(float(np.mean(recall)), 3),
            "p50_ms": round(float(np.median(ms)), 2),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
