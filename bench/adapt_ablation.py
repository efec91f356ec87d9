"""What `cairn adapt` gains, separated (issue 13, point 4), and the adversarial AUC within gold
paragraphs (issue 13 target), on the SQuAD 2.0 report articles 9-16; every config in one run.

Configs (``--configs``, comma-separated):

* ``packaged``: packaged reader + packaged support model (fitted on SQuAD fit articles 7-8);
* ``packaged+refit``: packaged reader + a support model refitted as ``cairn adapt`` refits it
  (the version's held-out synthetic ``fit`` questions, asked of ``--fit-kb`` with this reader);
* ``adapted``: the version's reader, support model and short-answer ranker;
* ``adapted+packaged-support``: the version's reader with the packaged support model.

Each reader asks the report questions once, with the first of its configs' support models; the
other config with the same reader rescores those candidates (``score_config``: as ``cairn eval
qa --fit`` scores its refitted model; only the second read and second hop, tried when the
asking model abstains, can differ). ``--auc`` adds, per config, the AUC of the best
gold-paragraph sentence's support score, answerable vs unanswerable (no retrieval; exact per
config). ``--refit-cache`` keeps the refitted support model for later runs. Nothing here is
fitted on the report articles.

Run: ``python bench/adapt_ablation.py --report-kb squad16.sqlite --fit-kb fit18.sqlite
--adapted fit18.sqlite.adapted/v1 --limit-report 300 --auc --out ablation.json``.
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

from cairn.answer.adapted import load_version
from cairn.answer.reader import packaged_reader
from cairn.answer.verify import SupportModel, default_model
from cairn.knowledge import open_kb
from cairn_eval.adapt_ablation import (
    Config,
    best_support,
    gold_auc,
    gold_paragraph_candidates,
    refit_support,
    run_config,
    score_config,
)
from cairn_eval.qa import DEFAULT_DATA, load_squad, subsample

ALL = ("packaged", "packaged+refit", "adapted", "adapted+packaged-support")


def say(stage: str, done: int, total: int | None) -> None:
    if total and (done == total or done % 50 == 0):
        sys.stderr.write(f"{stage}: {done}/{total}\n")


def _refit(args: argparse.Namespace) -> tuple[SupportModel, dict[str, Any]]:
    """The packaged reader's support refit (``refit_support``), or the cached one."""
    cache = args.refit_cache
    if cache is not None and cache.is_file():
        saved = json.loads(cache.read_text(encoding="utf-8"))
        return SupportModel.from_json(json.dumps(saved["model"])), saved["fit"]
    assert args.adapted is not None and args.fit_kb is not None
    with open_kb(args.fit_kb, must_exist=True) as fit_kb:
        model, fit_fig = refit_support(
            fit_kb,
            args.adapted,
            packaged_reader(),
            questions=args.refit_questions,
            seed=args.seed,
            say=say,
        )
    if cache is not None:
        body = {"model": json.loads(model.to_json()), "fit": fit_fig}
        cache.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    return model, fit_fig


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--report-kb", type=Path, required=True, help="KB of all 16 articles")
    ap.add_argument("--fit-kb", type=Path, help="the KB the version was adapted on")
    ap.add_argument("--adapted", type=Path, help="a version folder written by cairn adapt")
    ap.add_argument("--squad", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--limit-report", type=int, default=300)
    ap.add_argument("--configs", default=",".join(ALL))
    ap.add_argument("--refit-questions", type=int, default=200)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--auc", action="store_true")
    ap.add_argument("--refit-cache", type=Path, help="JSON: the refitted support, reused")
    ap.add_argument(
        "--outcomes", type=Path, help="folder: each reader's answers, kept and reused (rescored)"
    )
    ap.add_argument(
        "--reader-file",
        type=Path,
        help="the adapted reader of a version still being made (its support is not there yet): "
        "only with --configs adapted+packaged-support and --outcomes",
    )
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [n for n in names if n not in ALL]
    if unknown:
        ap.error(f"unknown config {unknown[0]!r}: choose from {', '.join(ALL)}")
    needs_version = any(n != "packaged" for n in names)
    if needs_version and args.adapted is None:
        ap.error("--adapted VERSION_FOLDER is needed for every config but 'packaged'")
    no_cache = args.refit_cache is None or not args.refit_cache.is_file()
    if "packaged+refit" in names and args.fit_kb is None and no_cache:
        ap.error("packaged+refit needs --fit-kb (the KB the version was adapted on)")
    squad = load_squad(args.squad)
    fit_names = set(squad.articles[:8])
    report: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_start": os.getloadavg(),
        "report_articles": sorted(set(squad.articles) - fit_names),
        "adapted": str(args.adapted) if args.adapted else None,
    }
    if args.reader_file is not None and (names != [ALL[3]] or args.outcomes is None):
        ap.error("--reader-file goes with --configs adapted+packaged-support and --outcomes")
    if args.adapted is not None and args.reader_file is None:
        meta = json.loads((args.adapted / "manifest.json").read_text(encoding="utf-8"))
        seen = set(meta.get("source_titles", [])) - fit_names
        if seen:
            sys.exit(f"{args.adapted} was adapted on report articles: {sorted(seen)}")
        report["manifest_training"] = meta.get("training")
    items = subsample([i for i in squad.items if i.article not in fit_names], args.limit_report)
    paragraphs = {key: (title, text) for key, title, text in squad.paragraphs}
    configs: list[Config] = []
    version = None
    if args.reader_file is not None:
        from cairn.answer.adapted import Models
        from cairn.answer.reader import Reader

        version = Models(Reader(args.reader_file), default_model(), "partial", "")
    elif args.adapted is not None:
        version = load_version(args.adapted)
    for name in names:
        if name == "packaged":
            configs.append(Config(name, packaged_reader(), default_model()))
        elif name == "packaged+refit":
            model, fit_fig = _refit(args)
            report["packaged_refit_support"] = {
                "model": json.loads(model.to_json()),
                "fit": fit_fig,
            }
            configs.append(Config(name, packaged_reader(), model))
        elif name == "adapted":
            assert version is not None
            configs.append(Config(name, version.reader, version.model, version.ranker))
        else:
            assert version is not None
            configs.append(Config(name, version.reader, default_model(), version.ranker))
    rows: dict[str, object] = {}
    with open_kb(args.report_kb, must_exist=True) as kb:
        kb.embedder.warm_up()
        for c in configs:  # model loading is not latency
            run_config(kb, items[:1], c)
        asked: dict[str, tuple[str, list[Any], list[Any]]] = {}  # by reader: one pass each
        for c in configs:
            kind = c.name.split("+")[0]  # which reader: packaged or adapted
            kept = args.outcomes / f"{kind}.pkl" if args.outcomes else None
            if kind not in asked and kept is not None and kept.is_file():
                with kept.open("rb") as f:
                    asked[kind] = pickle.load(f)  # our own file, written below
                if [o.item.qid for o in asked[kind][1]] != [i.qid for i in items]:
                    sys.exit(f"{kept} holds other questions: remove it or match --limit-report")
            if kind not in asked:
                outs = run_config(kb, items, c, say=say)
                gold = gold_paragraph_candidates(kb, items, paragraphs, c, say) if args.auc else []
                asked[kind] = (c.name, outs, gold)
                if kept is not None:
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    with kept.open("wb") as f:
                        pickle.dump(asked[kind], f)
            first, outs, gold = asked[kind]
            row = score_config(c, outs)
            row["asked_with"] = first
            if args.auc and gold:
                row["gold_paragraph"] = gold_auc(items, best_support(c.model, gold))
            rows[c.name] = row
            sys.stderr.write(f"{c.name}: {json.dumps(row)}\n")
    report["questions"] = len(items)
    report["configs"] = rows
    report["load_average_end"] = os.getloadavg()
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
