"""The second domain of issue 13 (point 5): packaged vs adapted models on HotpotQA text nobody
here tuned on; single-hop synthetic questions from the supporting sentences, their look-alikes,
and real HotpotQA questions about entities absent from the collection (``cairn_eval.adapt_hotpot``).

The adapted model is *transferred*: a version made by ``cairn adapt`` on another collection
(e.g. the SQuAD fit articles), used here as it is, with its own support model and threshold.

Run: ``python bench/adapt_hotpot.py --adapted fit18.sqlite.adapted/v2 --examples 300
--absent 100 --limit 300 --out hotpot_adapt.json`` (the collection, its KB and its synthetic
pairs are made once under ``--work`` and reused).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

from cairn.answer.adapted import load_version, packaged_models
from cairn.knowledge import open_kb
from cairn_eval import adapt_data
from cairn_eval.adapt import ask_all
from cairn_eval.adapt_hotpot import (
    COLLECTION,
    HOTPOT,
    absent_entity_questions,
    by_edit,
    collection_docs,
    write_collection,
)
from cairn_eval.metrics import summarize_latencies
from cairn_eval.qa import score_at


def say(stage: str, done: int, total: int | None) -> None:
    if total and (done == total or done % 50 == 0):
        sys.stderr.write(f"{stage}: {done}/{total}\n")


def _adapted(args: argparse.Namespace) -> Any:
    if args.reader_file is None:
        return load_version(args.adapted)
    from cairn.answer.adapted import Models
    from cairn.answer.reader import Reader
    from cairn.answer.verify import default_model

    return Models(Reader(args.reader_file), default_model(), "partial", "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--data", type=Path, default=HOTPOT)
    ap.add_argument("--adapted", type=Path, help="a version folder (transferred)")
    ap.add_argument("--prepare", action="store_true", help="only make the KB and the pairs")
    ap.add_argument("--models", default="packaged,adapted", help="which to ask, comma-separated")
    ap.add_argument(
        "--outcomes", type=Path, help="folder: each model's answers, kept and reused (rescored)"
    )
    ap.add_argument(
        "--reader-file",
        type=Path,
        help="ask with this adapted reader and the packaged support (a version still being "
        "made); keep the answers with --outcomes, rescore them once the version is stored",
    )
    ap.add_argument("--examples", type=int, default=300, help="examples whose sentences we keep")
    ap.add_argument("--absent", type=int, default=100, help="absent-entity questions")
    ap.add_argument("--limit", type=int, default=300, help="synthetic questions asked")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--work", type=Path, default=Path("/tmp/adapt-hotpot"))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    if not set(names) <= {"packaged", "adapted"}:
        ap.error(f"--models {args.models!r}: choose from packaged, adapted")
    if args.adapted is None and "adapted" in names and not args.prepare:
        ap.error("--adapted VERSION_FOLDER is needed for the adapted model (or --prepare)")
    from cairn.synthetic.dataset import build_pairs, collection_texts, read_jsonl, write_jsonl

    data = json.loads(args.data.read_text(encoding="utf-8"))
    docs = collection_docs(data[: args.examples])
    corpus = write_collection(docs, args.work / "hotpot.jsonl")
    report: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_start": os.getloadavg(),
        "collection": f"supporting sentences of HotpotQA examples 1-{args.examples}: "
        f"{len(docs)} documents",
        "adapted": str(args.adapted) if args.adapted else None,
    }
    with open_kb(args.work / "kb.sqlite") as kb:
        kb.ingest([corpus], collection=COLLECTION, license="CC-BY-SA-4.0", graph=False)
        pairs_file = args.work / "pairs.jsonl"
        if not pairs_file.is_file():
            t = time.monotonic()
            write_jsonl(build_pairs(list(collection_texts(kb, COLLECTION))), pairs_file)
            report["pairs_seconds"] = round(time.monotonic() - t)
        pairs = read_jsonl(pairs_file)
        if args.prepare:
            return 0
        versions = {n: packaged_models() if n == "packaged" else _adapted(args) for n in names}
        synthetic = adapt_data.held_out(pairs, args.limit, args.seed)
        edits = {f"q{i}": p.edit or "" for i, p in enumerate(pairs)}
        absent = absent_entity_questions(data[args.examples :], docs, args.absent, args.seed)
        edits.update({a.qid: "absent entity" for a in absent})
        report["questions"] = {
            "synthetic_answerable": sum(i.answerable for i in synthetic),
            "synthetic_lookalikes": sum(not i.answerable for i in synthetic),
            "absent_entity": len(absent),
            "pairs_made": len(pairs),
        }
        for m in versions.values():  # model loading is not latency
            ask_all(kb, synthetic[:1], m, COLLECTION, "warm-up", lambda *a: None)
        rows = {}
        for name, m in versions.items():
            kept = args.outcomes / f"{name}.pkl" if args.outcomes else None
            if kept is not None and kept.is_file():
                with kept.open("rb") as f:
                    outs = pickle.load(f)  # our own file, written below; rescored here
            else:
                outs = ask_all(kb, synthetic + absent, m, COLLECTION, name, say)
                if kept is not None:
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    with kept.open("wb") as f:
                        pickle.dump(outs, f)
            if [o.item.qid for o in outs] != [i.qid for i in synthetic + absent]:
                sys.exit(f"{kept} holds other questions: remove it or match the options")
            syn = outs[: len(synthetic)]
            rows[name] = {
                "threshold": m.model.threshold,
                "synthetic": score_at(m.model, syn, m.model.threshold),
                "with_absent": score_at(m.model, outs, m.model.threshold),
                "absent_abstained": score_at(m.model, outs[len(synthetic) :], m.model.threshold)[
                    "abstention_unanswerable"
                ],
                "abstained_by_kind": by_edit(outs, edits, m.model),
                "latency_ms": summarize_latencies([o.ms for o in outs]),
            }
            sys.stderr.write(f"{name}: {json.dumps(rows[name])}\n")
    report["models"] = rows
    report["load_average_end"] = os.getloadavg()
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
