"""`cairn_eval.qa`: grounded question answering on SQuAD 2.0 (answerable + unanswerable).

All paragraphs are ingested as one collection (one JSONL record per paragraph, ``_id`` =
``Article#index``). The first half of the articles (in file order) is for fitting: the reader
(``cairn_eval.reader_train``) is trained on the first of them (its ``train_articles``), the
support model's weights and threshold on the rest; every figure is reported on the other half,
which neither saw:

* answerable questions: share answered with a cited sentence that contains a gold answer
  (the gold answer's offsets fall inside the cited span of the right paragraph), and the short
  span's exact match / F1 under SQuAD normalisation;
* unanswerable questions: abstention rate;
* overall accuracy (answered-and-grounded, or correctly abstained) against always-abstain;
* precision of the answers given, and a risk-coverage table across thresholds;
* latency of ``ask`` (p50 / p95).

Run: ``python -m cairn_eval.qa --kb /tmp/squad-kb.sqlite --out report.json [--fit]``.
"""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cairn.answer.ask import ask
from cairn.answer.reader import Reader, SentenceReader, packaged_reader
from cairn.answer.types import Candidate
from cairn.answer.verify import FEATURES, WEIGHTS_PATH, SupportModel, default_model
from cairn.knowledge import KnowledgeBase, open_kb
from cairn.models.packaged import note_written
from cairn_eval.metrics import summarize_latencies

DEFAULT_DATA = Path("../shared/benchdata/squad2-dev-half/dev-v2.0.json")
COLLECTION = "squad2"


@dataclass(frozen=True)
class QAItem:
    qid: str
    question: str
    article: str
    doc_key: str
    answers: tuple[tuple[str, int], ...]  # (text, start offset in the paragraph); () if none

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass
class Outcome:
    """One question run through ``ask`` with explain=True (all candidates kept)."""

    item: QAItem
    candidates: list[Candidate]
    grounded: list[bool]  # per candidate: its sentence holds a gold answer
    ms: float


@dataclass
class Squad:
    articles: list[str]
    paragraphs: list[tuple[str, str, str]]  # (doc_key, title, context)
    items: list[QAItem] = field(default_factory=list)


def load_squad(path: Path = DEFAULT_DATA) -> Squad:
    data = json.loads(path.read_text(encoding="utf-8"))
    squad = Squad([], [])
    for art in data["data"]:
        title = art["title"]
        squad.articles.append(title)
        for i, para in enumerate(art["paragraphs"]):
            key = f"{title}#{i}"
            squad.paragraphs.append((key, title, para["context"]))
            for qa in para["qas"]:
                answers = tuple(
                    dict.fromkeys((a["text"], int(a["answer_start"])) for a in qa["answers"])
                )
                squad.items.append(QAItem(qa["id"], qa["question"], title, key, answers))
    return squad


def write_corpus(squad: Squad, path: Path) -> Path:
    """One JSONL record per paragraph; unchanged content keeps its hash (ingest skips it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"_id": key, "title": title, "text": text}, ensure_ascii=False)
        for key, title, text in squad.paragraphs
    ]
    body = "\n".join(lines) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != body:
        path.write_text(body, encoding="utf-8")
    return path


# -- SQuAD answer normalisation (as in the official evaluation script) ------------------------
def normalize_answer(s: str) -> str:
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def exact_match(pred: str, golds: Sequence[str]) -> float:
    return float(any(normalize_answer(pred) == normalize_answer(g) for g in golds))


def f1_score(pred: str, golds: Sequence[str]) -> float:
    best = 0.0
    p = normalize_answer(pred).split()
    for g in golds:
        t = normalize_answer(g).split()
        common = Counter(p) & Counter(t)
        same = sum(common.values())
        if same == 0:
            continue
        prec, rec = same / len(p), same / len(t)
        best = max(best, 2 * prec * rec / (prec + rec))
    return best


# -- running ----------------------------------------------------------------------------------
def run_questions(
    kb: KnowledgeBase,
    items: Sequence[QAItem],
    k: int = 5,
    *,
    progress: bool = True,
    reader: SentenceReader | None = None,
    model: SupportModel | None = None,
) -> list[Outcome]:
    given: dict[str, Any] = {}  # none given: the KB's own models (cairn.answer.adapted)
    if reader is not None:
        given["reader"] = reader
    if model is not None:
        given["model"] = model
    out = []
    for item in items:
        t = time.perf_counter()
        ans = ask(kb, item.question, collections=(COLLECTION,), k=k, explain=True, **given)
        ms = (time.perf_counter() - t) * 1000
        cands = list(ans.candidates)
        grounded = [_holds_gold(item, c) for c in cands]
        out.append(Outcome(item, cands, grounded, ms))
        if progress and len(out) % 100 == 0:
            sys.stderr.write(f"{len(out)}/{len(items)} questions\n")
    return out


def _holds_gold(item: QAItem, c: Candidate) -> bool:
    ev = c.evidence
    if not item.answerable or ev.doc_key != item.doc_key:
        return False
    return any(ev.start <= s and s + len(t) <= ev.end for t, s in item.answers)


def fit_model(
    outcomes: Sequence[Outcome],
    *,
    l2: float = 1e-3,
    steps: int = 3000,
    without: Sequence[str] = (),
) -> SupportModel:
    """Logistic regression (numpy, full-batch gradient descent) on every candidate.

    Features named in ``without`` are left out (weight 0): the ablation rows use it.
    """
    x = np.array(
        [
            [0.0 if f in without else c.features[f] for f in FEATURES]
            for o in outcomes
            for c in o.candidates
        ],
        dtype=float,
    )
    y = np.array([float(g) for o in outcomes for g in o.grounded])
    w = np.zeros(x.shape[1])
    b = 0.0
    lr = 0.5
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        g = p - y
        w -= lr * (x.T @ g / len(y) + l2 * w)
        b -= lr * float(g.mean())
    return SupportModel(dict(zip(FEATURES, map(float, w), strict=True)), b, 0.5)


def decide(model: SupportModel, o: Outcome) -> tuple[float, Candidate | None, bool]:
    """(support, best candidate, grounded) under ``model``."""
    if not o.candidates:
        return 0.0, None, False
    scored = [(model.score(c.features), i) for i, c in enumerate(o.candidates)]
    s, i = max(scored)
    return s, o.candidates[i], o.grounded[i]


def score_at(model: SupportModel, outcomes: Sequence[Outcome], thr: float) -> dict[str, Any]:
    n_ans = sum(o.item.answerable for o in outcomes)
    n_un = len(outcomes) - n_ans
    answered = correct = ans_answered = un_abstained = 0
    em = f1 = 0.0
    for o in outcomes:
        s, cand, grounded = decide(model, o)
        gives = cand is not None and s >= thr
        if o.item.answerable:
            if gives:
                ans_answered += 1
                golds = [t for t, _ in o.item.answers]
                em += exact_match(cand.span or "", golds) if cand else 0.0
                f1 += f1_score(cand.span or "", golds) if cand else 0.0
        elif not gives:
            un_abstained += 1
        if gives:
            answered += 1
            correct += grounded
    right = correct + un_abstained
    return {
        "threshold": round(thr, 3),
        "questions": len(outcomes),
        "answerable": n_ans,
        "unanswerable": n_un,
        "coverage_answerable": _r(ans_answered / n_ans if n_ans else 0.0),
        "answered_grounded_answerable": _r(correct / n_ans if n_ans else 0.0),
        "abstention_unanswerable": _r(un_abstained / n_un if n_un else 0.0),
        "answered": answered,
        "precision": _r(correct / answered if answered else 1.0),
        "overall_accuracy": _r(right / len(outcomes) if outcomes else 0.0),
        "always_abstain_accuracy": _r(n_un / len(outcomes) if outcomes else 0.0),
        "span_exact_match": _r(em / ans_answered if ans_answered else 0.0),
        "span_f1": _r(f1 / ans_answered if ans_answered else 0.0),
        "coverage_all": _r(answered / len(outcomes) if outcomes else 0.0),
    }


def span_choices(
    model: SupportModel, outcomes: Sequence[Outcome], thr: float
) -> dict[str, dict[str, float]]:
    """On the answered answerable questions, the short answer ``ask`` showed and, from the same
    cited sentence in the same run, the learned choice and the one ``checked_span`` (the rule
    before it) would show: exact match / F1 (no short answer counts as wrong), how often a
    span is shown, and the exact match of those shown."""
    from cairn.answer.ask import default_spans
    from cairn.answer.question import analyse
    from cairn.answer.span_check import checked_span
    from cairn.answer.span_rank import shown_span

    answered = []
    for o in outcomes:
        s, cand, _ = decide(model, o)
        if o.item.answerable and cand is not None and s >= thr:
            answered.append((o, cand))
    texts = [c.evidence.text for _, c in answered]
    found = default_spans().candidates(texts) if texts else []
    picks: dict[str, list[str | None]] = {"ask": [], "learned": [], "checked_span (before)": []}
    for (o, cand), text, cands in zip(answered, texts, found, strict=True):
        info = analyse(o.item.question)
        picks["ask"].append(cand.span)
        new = shown_span(info, text, cands)
        old = checked_span(info, text, cands)
        picks["learned"].append(new.text if new else None)
        picks["checked_span (before)"].append(old.text if old else None)
    out = {}
    for name, spans in picks.items():
        golds = [[t for t, _ in o.item.answers] for o, _ in answered]
        shown = [(p, g) for p, g in zip(spans, golds, strict=True) if p]
        em = sum(exact_match(p, g) for p, g in shown)
        n = len(answered)
        out[name] = {
            "answered_answerable": n,
            "span_exact_match": _r(em / n if n else 0.0),
            "span_f1": _r(sum(f1_score(p, g) for p, g in shown) / n if n else 0.0),
            "span_shown": _r(len(shown) / n if n else 0.0),
            "span_exact_match_of_shown": _r(em / len(shown) if shown else 0.0),
        }
    return out


def _r(x: float) -> float:
    return round(float(x), 4)


def risk_coverage(model: SupportModel, outcomes: Sequence[Outcome]) -> list[dict[str, float]]:
    rows = []
    for thr in np.linspace(0.0, 1.0, 41):
        s = score_at(model, outcomes, float(thr))
        rows.append(
            {
                "threshold": s["threshold"],
                "coverage": s["coverage_all"],
                "coverage_answerable": s["coverage_answerable"],
                "precision": s["precision"],
                "overall_accuracy": s["overall_accuracy"],
            }
        )
    return rows


def choose_threshold(model: SupportModel, outcomes: Sequence[Outcome]) -> float:
    """The threshold with the best overall accuracy on the fit questions."""
    best_thr, best_acc = 0.5, -1.0
    for thr in np.linspace(0.05, 0.95, 91):
        acc = score_at(model, outcomes, float(thr))["overall_accuracy"]
        if acc > best_acc:
            best_thr, best_acc = float(thr), acc
    return round(best_thr, 3)


def fit_support(
    outcomes: Sequence[Outcome], *, without: Sequence[str] = (), note: str = ""
) -> SupportModel:
    """``fit_model``, with the threshold of best overall accuracy on the same questions."""
    fitted = fit_model(outcomes, without=without)
    return SupportModel(fitted.weights, fitted.bias, choose_threshold(fitted, outcomes), note)


def subsample(items: Sequence[QAItem], limit: int | None) -> list[QAItem]:
    if not limit or limit >= len(items):
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def run_qa_eval(
    kb: KnowledgeBase,
    *,
    data: Path = DEFAULT_DATA,
    corpus: Path = Path("/tmp/squad-corpus/squad.jsonl"),
    fit_articles: int = 8,
    limit_fit: int | None = None,
    limit_report: int | None = None,
    fit: bool = False,
    save_weights: Path | None = None,
    k: int = 5,
    adapted: Path | None = None,
) -> dict[str, Any]:
    """With ``adapted`` (a version folder written by ``cairn adapt``), its reader and support
    model answer, and the packaged ones answer the same report questions as the peer."""
    if adapted is not None and fit:
        raise ValueError("an adapted model keeps its own support model: do not pass fit")
    squad = load_squad(data)
    path = write_corpus(squad, corpus)
    t = time.perf_counter()
    rep = kb.ingest([path], collection=COLLECTION, license="CC-BY-SA-4.0", graph=False)
    if rep.failed:
        raise RuntimeError(f"ingesting {path} failed: {rep.failed[0].message}")
    ingest_s = time.perf_counter() - t
    fit_names = set(squad.articles[:fit_articles])
    # The support model is fitted on the fit articles the reader was not trained on: the
    # reader's score on its own training questions is overconfident.
    reader: Reader | None = packaged_reader()
    model = default_model()
    if reader is not None:
        reader.warm_up()
    reader_names = set(reader.meta.get("train_articles", [])) if reader else set()
    if adapted is not None:
        meta = json.loads((adapted / "manifest.json").read_text(encoding="utf-8"))
        used = {squad.articles[a] for a in meta.get("squad_fit_articles", [])}
        reader_names |= used | set(meta.get("source_titles", []))
        reader = Reader(adapted / "reader.onnx", expected_sha256=meta["files"]["reader.onnx"])
        model = SupportModel.from_json((adapted / "support.json").read_text(encoding="utf-8"))
    seen = reader_names & (set(squad.articles) - fit_names)
    if seen:
        raise ValueError(f"the reader was trained on report articles: {sorted(seen)}")
    support_names = fit_names - reader_names
    fit_items = subsample([i for i in squad.items if i.article in support_names], limit_fit)
    rep_items = subsample([i for i in squad.items if i.article not in fit_names], limit_report)
    kb.embedder.warm_up()
    ask(kb, "warm up the models?", collections=(COLLECTION,))  # model loading is not latency
    chosen: dict[str, Any] = {"reader": reader, "model": model} if adapted else {}
    fit_out = run_questions(kb, fit_items, k, **chosen)
    if fit:
        model = fit_support(
            fit_out,
            note=f"fitted by cairn_eval.qa on SQuAD 2.0 dev-half articles {sorted(support_names)} "
            f"({len(fit_out)} questions); threshold = best overall accuracy on those",
        )
        if save_weights is not None:
            save_weights.write_text(model.to_json() + "\n", encoding="utf-8")
            note_written(save_weights)
    rep_out = run_questions(kb, rep_items, k, **chosen)
    latency = summarize_latencies([o.ms for o in rep_out])
    peer = None
    if adapted is not None:
        packaged = run_questions(kb, rep_items, k, reader=packaged_reader(), model=default_model())
        peer = {
            "report": score_at(default_model(), packaged, default_model().threshold),
            "latency_ms_report": summarize_latencies([o.ms for o in packaged]),
        }
    ablation = None
    if fit:
        # The same candidates, the support model refitted without the reader's score.
        plain = fit_support(fit_out, without=("reader",))
        ablation = {
            "threshold": plain.threshold,
            "fit": score_at(plain, fit_out, plain.threshold),
            "report": score_at(plain, rep_out, plain.threshold),
        }
    return {
        "dataset": "SQuAD 2.0 dev (CS224N half): 16 articles, 646 paragraphs",
        "reader": {"path": str(reader.path), **reader.meta} if reader else None,
        "reader_articles": sorted(reader_names),
        "fit_articles": sorted(support_names),
        "report_articles": sorted(set(squad.articles) - fit_names),
        "ingest_seconds": round(ingest_s, 1),
        "k": k,
        "model": json.loads(model.to_json()),
        "fit": score_at(model, fit_out, model.threshold),
        "report": score_at(model, rep_out, model.threshold),
        "risk_coverage_fit": risk_coverage(model, fit_out),
        "risk_coverage_report": risk_coverage(model, rep_out),
        "without_reader": ablation,
        "latency_ms_report": latency,
        "span_choice_report": span_choices(model, rep_out, model.threshold),
        "adapted": str(adapted) if adapted else None,
        "packaged_peer": peer,
    }


def plot_risk_coverage(report: dict[str, Any], path: Path) -> Path:
    """Write the risk-coverage curves (fit and report articles) as a PNG (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    try:
        for key, label in (
            ("risk_coverage_fit", "fit articles"),
            ("risk_coverage_report", "report articles (held out)"),
        ):
            rows = [r for r in report.get(key, []) if r["coverage"] > 0]
            if rows:
                ax.plot(
                    [r["coverage"] for r in rows],
                    [r["precision"] for r in rows],
                    marker=".",
                    label=label,
                )
        thr = report.get("model", {}).get("threshold")
        if isinstance(thr, float | int):
            rep = report.get("report", {})
            ax.scatter(
                [rep.get("coverage_all", 0.0)],
                [rep.get("precision", 0.0)],
                color="black",
                zorder=3,
                label=f"chosen threshold {thr:.2f}",
            )
        ax.set_xlabel("coverage (share of questions answered)")
        ax.set_ylabel("precision (answers right and grounded)")
        ax.set_title("Cairn grounded QA on SQuAD 2.0: risk-coverage")
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.0)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower left")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--kb", type=Path, default=Path("/tmp/squad-kb.sqlite"))
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/squad-corpus/squad.jsonl"))
    ap.add_argument("--limit-fit", type=int, default=None)
    ap.add_argument("--limit-report", type=int, default=None)
    ap.add_argument("--fit", action="store_true", help="refit the support model")
    ap.add_argument("--save-weights", action="store_true", help=f"write {WEIGHTS_PATH.name}")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    with open_kb(args.kb) as kb:
        report = run_qa_eval(
            kb,
            data=args.data,
            corpus=args.corpus,
            limit_fit=args.limit_fit,
            limit_report=args.limit_report,
            fit=args.fit,
            save_weights=WEIGHTS_PATH if args.save_weights else None,
        )
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(
        json.dumps(
            {k: report[k] for k in ("fit", "report", "latency_ms_report", "without_reader")},
            indent=1,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
