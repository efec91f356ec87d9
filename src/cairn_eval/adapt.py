"""``cairn adapt``: fine-tune the reader and refit the support model on a knowledge base's own
synthetic questions, and store the result beside it as a new version (``cairn.answer.adapted``).

Steps: (1) synthetic questions from the collection's sentences (``cairn.synthetic``), split by
document into train / fit / report (``adapt_data.py``), optionally with the labelled SQuAD 2.0 *fit*
articles (never the report articles); (2) fine-tune the reader from the packaged reader's
weights (recovered from its ONNX file) or the float32 base, within the time budget, resumable
(``reader_loop.py``); (3) export it (int8-stored ONNX, as the packaged one); (4) ask the ``fit``
questions of the knowledge base with it and refit the support model and threshold on them;
(5) ask the ``report`` questions with the adapted and with the packaged models and record both
in the manifest; (6) make the new version active.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cairn.answer.adapted import Models, adapted_root, next_version, packaged_models, set_active
from cairn.errors import ConfigError
from cairn_eval import adapt_data

SUPPORT_QUESTIONS = 300  # held-out questions asked to refit the support model (and to report)
SECONDS_PER_QUESTION = 0.4  # the least the budget keeps back per question asked after training
TIMED_QUESTIONS = 3  # asked before training, to learn what the asks after it will cost
SQUAD_FIT_ARTICLES = range(8)  # the first half in file order; cairn_eval.qa reports on the rest

Progress = Callable[[str, int, int | None], None]  # (stage, done, total)


@dataclass(frozen=True)
class AdaptOptions:
    collection: str | None = None
    with_squad_fit: bool = False
    squad_data: Path | None = None
    start: str = "packaged"  # or "base": the float32 all-MiniLM-L6-v2 with a fresh head
    budget_minutes: float = 20.0
    epochs: float = 2.0
    lr: float = 5e-5
    seed: int = 13
    max_sentences: int | None = None
    support_questions: int = SUPPORT_QUESTIONS
    report_questions: int | None = None  # held-out questions for the manifest (None: as above)
    layers: int | None = None  # keep only the first N encoder layers (tests: a tiny stand-in)
    max_steps_this_run: int | None = None  # tests: stop as a kill would


@dataclass
class AdaptResult:
    version: str | None  # None: stopped before the end (rerun to continue)
    folder: Path | None
    manifest: dict[str, Any] = field(default_factory=dict)


def check_writable(root: Path) -> None:
    """Fail early, with one line, when the adapted models would have nowhere to go."""
    parent = root if root.is_dir() else root.parent
    if not os.access(parent, os.W_OK):
        raise ConfigError(
            "kb-read-only",
            f"cannot store adapted models in {root}: {parent} is not writable "
            "(adapting writes beside the knowledge base; nothing was changed)",
        )


def check_train_extra() -> None:
    """Fail early, with one line, when the ``train`` extra is missing."""
    from cairn_eval.reader_train import _jax

    _jax()
    try:
        import onnx  # noqa: F401
        import safetensors  # noqa: F401
    except ImportError as err:
        raise ConfigError(
            "no-train-extra", f"adapting needs {err.name}: pip install 'cairn[train]'"
        ) from err


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fingerprint(opts: AdaptOptions, docs: Sequence[Any]) -> str:
    h = hashlib.sha256()
    for d in docs:
        h.update(f"{d.source}\x1f{d.doc_key}\x1f{len(d.text)}\x1e".encode())
    settings = [opts.collection, opts.with_squad_fit, opts.start, opts.epochs, opts.lr]
    settings += [opts.seed, opts.max_sentences, opts.layers]
    h.update(json.dumps(settings, default=str).encode())
    return h.hexdigest()


def adapt(kb: Any, opts: AdaptOptions, progress: Progress | None = None) -> AdaptResult:
    """Run the steps of the module docstring; see ``AdaptOptions``."""
    from cairn.synthetic.dataset import (
        build_pairs,
        collection_texts,
        load_nlp,
        read_jsonl,
        write_jsonl,
    )

    t0 = time.monotonic()
    budget_s = opts.budget_minutes * 60.0
    say = progress or (lambda stage, done, total: None)
    root = adapted_root(kb.store)
    check_writable(root)
    docs = list(collection_texts(kb, opts.collection))
    if not docs:  # said before the missing extra: there is nothing to adapt to yet
        where = f"collection {opts.collection!r}" if opts.collection else "knowledge base"
        raise ConfigError(
            "empty-kb", f"the {where} has no documents: add some with `cairn ingest PATH` first"
        )
    check_train_extra()
    work = root / "work"
    work.mkdir(parents=True, exist_ok=True)
    fingerprint = _fingerprint(opts, docs)
    if (work / "fingerprint").is_file() and (work / "fingerprint").read_text() != fingerprint:
        shutil.rmtree(work)  # a different collection or settings: start over
        work.mkdir(parents=True)
    (work / "fingerprint").write_text(fingerprint, encoding="utf-8")
    dataset = work / "synthetic.jsonl"
    if dataset.is_file():
        synthetic = read_jsonl(dataset)
    else:
        say("questions", 0, opts.max_sentences)
        synthetic = build_pairs(
            docs,
            nlp=load_nlp(),
            seed=opts.seed,
            max_sentences=opts.max_sentences,
            progress=lambda n: say("questions", n, opts.max_sentences),
        )
        write_jsonl(synthetic, dataset)
    parts = adapt_data.split(synthetic, len(docs))
    pairs = adapt_data.reader_pairs(parts["train"], docs, opts.seed)
    squad_pairs = _squad_pairs(opts) if opts.with_squad_fit else []
    if not pairs and not squad_pairs:
        raise ConfigError(
            "no-questions",
            f"no synthetic questions could be made from {len(docs)} documents "
            "(they need declarative sentences: who did what, when, where, how many)",
        )
    base, init = _start_weights(opts)
    reported = opts.support_questions if opts.report_questions is None else opts.report_questions
    reserve = _ask_seconds(kb, parts, opts) * (opts.support_questions + 2 * reported)
    from cairn_eval.reader_loop import fit

    result = fit(
        pairs + squad_pairs,
        base,
        init=init,
        epochs=opts.epochs,
        lr=opts.lr,
        seed=opts.seed,
        budget_s=max(30.0, budget_s - (time.monotonic() - t0) - reserve),
        checkpoint=work / "checkpoint.pkl",
        fingerprint=fingerprint,
        progress=lambda done, total, loss: say("training", done, total),
        max_steps_this_run=opts.max_steps_this_run,
    )
    if opts.max_steps_this_run is not None and not result.finished:
        return AdaptResult(None, None, {"steps": result.steps, "total": result.total})
    version = next_version(root)
    folder = root / version
    tmp = root / f".{version}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    from cairn_eval.reader_train import export

    meta = {"name": f"cairn-reader-adapted-{version}", "seed": opts.seed, "steps": result.steps}
    export(result.params, base, tmp / "reader.onnx", meta)
    from cairn.answer.reader import Reader

    reader = Reader(tmp / "reader.onnx")
    asked = _support_and_report(kb, opts, parts, reader, say)
    (tmp / "support.json").write_text(asked["support"].to_json() + "\n", encoding="utf-8")
    say("span ranker", 0, 1)
    ranker, span_metrics = _span_ranker(parts, opts)
    files = ["reader.onnx", "support.json", "synthetic.jsonl"]
    if ranker is not None:
        (tmp / "span_rank.json").write_text(ranker.to_json() + "\n", encoding="utf-8")
        files.append("span_rank.json")
    say("span ranker", 1, 1)
    shutil.copyfile(dataset, tmp / "synthetic.jsonl")
    manifest = {
        "version": version,
        "started_from": opts.start,
        "collection": opts.collection,
        "documents": len(docs),
        "source_titles": sorted({d.title for d in docs if d.title})[:1000],
        "synthetic_questions": len(synthetic),
        "split": {k: len(v) for k, v in parts.items()},
        "split_by": "document" if len(docs) >= adapt_data.MIN_DOCS_FOR_DOC_SPLIT else "sentence",
        "reader_pairs": {"synthetic": len(pairs), "squad_fit": len(squad_pairs)},
        "squad_fit_articles": list(SQUAD_FIT_ARTICLES) if opts.with_squad_fit else [],
        "seed": opts.seed,
        "epochs": opts.epochs,
        "lr": opts.lr,
        "budget_minutes": opts.budget_minutes,
        "training": {
            "steps": result.steps,
            "schedule_steps": result.total,
            "resumed_from": result.resumed_from,
            "finished_schedule": result.finished,
            "seconds_this_run": round(result.seconds),
            "last_loss": round(result.last_loss, 4),
        },
        "held_out": asked["metrics"],
        "span_ranker": span_metrics,
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - t0),
        "files": {n: _sha(tmp / n) for n in files},
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, folder)
    set_active(root, version)
    shutil.rmtree(work, ignore_errors=True)
    return AdaptResult(version, folder, manifest)


def _ask_seconds(kb: Any, parts: dict[str, list[Any]], opts: AdaptOptions) -> float:
    """Seconds per held-out question on this machine now (a few timed asks, models warm)."""
    items = adapt_data.held_out(parts["fit"], TIMED_QUESTIONS + 1, opts.seed)
    if len(items) < 2:
        return SECONDS_PER_QUESTION
    quiet: Progress = lambda stage, done, total: None  # noqa: E731
    ask_all(kb, items[:1], packaged_models(), opts.collection, "warm-up", quiet)
    t = time.monotonic()
    ask_all(kb, items[1:], packaged_models(), opts.collection, "timing", quiet)
    return max(SECONDS_PER_QUESTION, (time.monotonic() - t) / (len(items) - 1))


def _squad_pairs(opts: AdaptOptions) -> list[Any]:
    from cairn_eval.qa import DEFAULT_DATA
    from cairn_eval.reader_train import build_pairs

    path = opts.squad_data or DEFAULT_DATA
    if not path.is_file():
        raise ConfigError(
            "no-squad", f"--with-squad-fit needs SQuAD 2.0 dev at {path} (give --squad-data FILE)"
        )
    return build_pairs(path, list(SQUAD_FIT_ARTICLES))


def _span_ranker(parts: dict[str, list[Any]], opts: AdaptOptions) -> tuple[Any, dict[str, Any]]:
    """The short-answer ranker refitted on the synthetic pairs (and the SQuAD fit articles'
    gold sentences with ``--with-squad-fit``); see ``cairn_eval.span_fit.fit_adapted``."""
    from cairn_eval.qa import DEFAULT_DATA, load_squad
    from cairn_eval.span_fit import fit_adapted, gold_sentences

    extra: list[tuple[str, str, tuple[str, ...]]] = []
    if opts.with_squad_fit:
        squad = load_squad(opts.squad_data or DEFAULT_DATA)
        extra = gold_sentences(squad, [squad.articles[i] for i in SQUAD_FIT_ARTICLES])
    return fit_adapted(parts, extra)


def _start_weights(opts: AdaptOptions) -> tuple[dict[str, Any], dict[str, Any] | None]:
    from cairn.answer.reader import READER_PATH
    from cairn_eval.reader_loop import params_from_onnx
    from cairn_eval.reader_train import find_base, load_base

    base = load_base(find_base())
    if opts.start not in ("packaged", "base"):
        raise ConfigError("bad-start", f"--start {opts.start!r}: must be 'packaged' or 'base'")
    init = params_from_onnx(READER_PATH, base) if opts.start == "packaged" else None
    if opts.layers is not None:
        from cairn_eval.reader_train import initial_params

        init = init or initial_params(base, opts.seed)
        init = {**init, "layers": init["layers"][: opts.layers]}
    return base, init


def _support_and_report(
    kb: Any, opts: AdaptOptions, parts: dict[str, list[Any]], reader: Any, say: Progress
) -> dict[str, Any]:
    """Refit the support model on ``fit``; the ``report`` figures of both models."""
    from cairn.answer.verify import default_model
    from cairn_eval.qa import fit_support, score_at

    fit_items = adapt_data.held_out(parts["fit"], opts.support_questions, opts.seed)
    reported = opts.support_questions if opts.report_questions is None else opts.report_questions
    rep_items = adapt_data.held_out(parts["report"], reported, opts.seed)
    interim = Models(reader, default_model(), "new", "")
    fit_out = ask_all(kb, fit_items, interim, opts.collection, "support fit", say)
    if fit_out:
        support = fit_support(
            fit_out,
            note=f"refitted by cairn adapt on {len(fit_out)} held-out synthetic questions",
        )
    else:
        support = default_model()
    adapted = Models(reader, support, "adapted", "")
    rep_new = ask_all(kb, rep_items, adapted, opts.collection, "report (adapted)", say)
    packaged = packaged_models()
    rep_old = ask_all(kb, rep_items, packaged, opts.collection, "report (packaged)", say)
    return {
        "support": support,
        "metrics": {
            "questions": {"fit": len(fit_out), "report": len(rep_new)},
            "adapted": score_at(support, rep_new, support.threshold) if rep_new else {},
            "packaged": score_at(packaged.model, rep_old, packaged.model.threshold)
            if rep_old
            else {},
        },
    }


def ask_all(
    kb: Any,
    items: Sequence[adapt_data.HeldOut],
    models: Models,
    collection: str | None,
    stage: str,
    say: Progress,
) -> list[Any]:
    """Each held-out question asked of the knowledge base, as ``cairn_eval.qa`` outcomes (a
    candidate is grounded when its sentence holds the question's answer)."""
    from cairn.answer.ask import ask
    from cairn_eval.qa import Outcome, QAItem

    out = []
    for n, it in enumerate(items):
        t = time.perf_counter()
        ans = ask(
            kb,
            it.question,
            collections=(collection,) if collection else (),
            explain=True,
            model=models.model,
            reader=models.reader,
        )
        ms = (time.perf_counter() - t) * 1000
        answers = (
            ((it.answer, it.answer_start),) if it.answer and it.answer_start is not None else ()
        )
        item = QAItem(it.qid, it.question, it.source, it.doc_key, answers)
        grounded = [
            bool(answers)
            and c.evidence.source == it.source
            and c.evidence.doc_key == it.doc_key
            and c.evidence.start <= (it.answer_start or 0) < c.evidence.end
            for c in ans.candidates
        ]
        out.append(Outcome(item, list(ans.candidates), grounded, ms))
        say(stage, n + 1, len(items))
    return out
