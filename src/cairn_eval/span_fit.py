"""Fit and measure the learned short-answer choice (``cairn.answer.span_rank``) on SQuAD 2.0.

Each answerable question is paired with the sentence of its paragraph that holds its first
gold answer (the gold answer sentence is *given*: this measures the span choice alone, not
retrieval or the support check). The ranker is fitted on the fit articles 1-8 only; ``--report``
then scores, on the report articles 9-16 and in the same run, the learned choice against
``checked_span`` (what ``ask`` showed before) and ``choose_span`` (before issue 13):

* exact match / F1 over all questions (no short answer counts as wrong), as ``cairn eval qa``;
* how often a short answer is shown, and the exact match of the ones shown (its precision);
* the ceiling: the share of questions where some candidate span is a gold answer.

Run: ``python -m cairn_eval.span_fit --save`` (rewrites ``span_rank.json``) and
``python -m cairn_eval.span_fit --report --out report.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cairn.answer.question import QuestionInfo, analyse
from cairn.answer.span import SpanCandidate, SpanSource, choose_span
from cairn.answer.span_check import checked_span, relabelled
from cairn.answer.span_rank import FEATURES, WEIGHTS_PATH, Ranked, SpanRanker, rank_features
from cairn.models.packaged import note_written
from cairn.text.sentences import split_sentences
from cairn_eval.qa import DEFAULT_DATA, Squad, exact_match, f1_score, load_squad, normalize_answer

FIT_ARTICLES = 8


@dataclass(frozen=True)
class SpanExample:
    """A question, the sentence holding its answer, its gold answers and candidate spans."""

    info: QuestionInfo
    sentence: str
    golds: tuple[str, ...]
    cands: tuple[SpanCandidate, ...]
    ranked: tuple[Ranked, ...]

    def gold_rows(self) -> list[bool]:
        g = {normalize_answer(t) for t in self.golds}
        return [normalize_answer(r.span.text) in g for r in self.ranked]


def gold_sentences(squad: Squad, articles: Sequence[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(question, sentence, gold answers inside it) for each answerable question of
    ``articles`` whose first gold answer lies within one sentence."""
    names = set(articles)
    contexts = {key: text for key, _, text in squad.paragraphs}
    splits: dict[str, list[tuple[int, int]]] = {}
    out = []
    for it in squad.items:
        if it.article not in names or not it.answers:
            continue
        text = contexts[it.doc_key]
        if it.doc_key not in splits:
            splits[it.doc_key] = [(s.start, s.end) for s in split_sentences(text)]
        first, start = it.answers[0]
        sent = next(
            ((a, b) for a, b in splits[it.doc_key] if a <= start and start + len(first) <= b),
            None,
        )
        if sent is None:
            continue
        a, b = sent
        golds = tuple(dict.fromkeys(t for t, s in it.answers if a <= s and s + len(t) <= b))
        out.append((it.question, text[a:b], golds))
    return out


def build_examples(
    rows: Sequence[tuple[str, str, tuple[str, ...]]], spans: SpanSource
) -> list[SpanExample]:
    found = spans.candidates([s for _, s, _ in rows])
    out = []
    for (question, sentence, golds), cands in zip(rows, found, strict=True):
        info = analyse(question)
        ranked = rank_features(info, sentence, cands)
        out.append(SpanExample(info, sentence, golds, tuple(cands), tuple(ranked)))
    return out


def fit_ranker(
    examples: Sequence[SpanExample], *, l2: float = 1e-3, steps: int = 1500, lr: float = 0.05
) -> tuple[dict[str, float], float]:
    """Listwise softmax (candidates + "none") by full-batch Adam; the target is the gold
    candidates (their probabilities summed), or "none" when no candidate is a gold answer."""
    index = {f: i for i, f in enumerate(FEATURES)}
    rows, gold, group = [], [], []
    for g, ex in enumerate(examples):
        for r, is_gold in zip(ex.ranked, ex.gold_rows(), strict=True):
            v = np.zeros(len(FEATURES))
            for k, val in r.features.items():
                v[index[k]] = val
            rows.append(v)
            gold.append(is_gold)
            group.append(g)
    x = np.array(rows)
    y = np.array(gold, dtype=float)
    grp = np.array(group)
    n = len(examples)
    has_gold = np.bincount(grp, weights=y, minlength=n) > 0
    params = np.zeros(len(FEATURES) + 1)  # weights, then the "none" score
    m = np.zeros_like(params)
    v2 = np.zeros_like(params)
    for t in range(1, steps + 1):
        w, none = params[:-1], params[-1]
        s = x @ w
        top = np.maximum(np.full(n, none), _group_max(s, grp, n))
        e = np.exp(s - top[grp])
        e_none = np.exp(none - top)
        z = np.bincount(grp, weights=e, minlength=n) + e_none
        p = e / z[grp]
        p_none = e_none / z
        p_gold = np.bincount(grp, weights=p * y, minlength=n)
        p_gold = np.where(has_gold, p_gold, p_none)
        q = np.where(y > 0, p / np.maximum(p_gold[grp], 1e-12), 0.0)  # target share per row
        grad_s = (p - q) / n
        grad_none = float(np.sum(p_none - np.where(has_gold, 0.0, 1.0)) / n)
        grad = np.concatenate([x.T @ grad_s + l2 * w, [grad_none]])
        m = 0.9 * m + 0.1 * grad
        v2 = 0.999 * v2 + 0.001 * grad**2
        params -= lr * (m / (1 - 0.9**t)) / (np.sqrt(v2 / (1 - 0.999**t)) + 1e-8)
    weights = {f: float(params[i]) for f, i in index.items()}
    return weights, float(params[-1])


def _group_max(s: np.ndarray, grp: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -np.inf)
    np.maximum.at(out, grp, s)
    return out


def choose_threshold(ranker: SpanRanker, examples: Sequence[SpanExample]) -> float:
    """The probability above which showing a span gains most: right shown minus wrong shown."""
    picks = [_pick(ranker, ex) for ex in examples]
    best_thr, best = 0.0, -1e9
    for thr in np.linspace(0.0, 0.9, 91):
        gain = sum((1 if right else -1) for p, right in picks if p >= thr)
        if gain > best:
            best_thr, best = float(thr), gain
    return round(best_thr, 3)


def _pick(ranker: SpanRanker, ex: SpanExample) -> tuple[float, bool]:
    """(probability, right) of the ranker's best span, before the threshold."""
    span, p = ranker.best(ex.ranked)
    return p, span is not None and bool(exact_match(span.text, ex.golds))


def score(spans: Sequence[str | None], examples: Sequence[SpanExample]) -> dict[str, Any]:
    n = len(examples)
    shown = [(s, ex) for s, ex in zip(spans, examples, strict=True) if s]
    em = sum(exact_match(s, ex.golds) for s, ex in shown)
    f1 = sum(f1_score(s, ex.golds) for s, ex in shown)
    return {
        "questions": n,
        "exact_match": round(em / n, 4) if n else 0.0,
        "f1": round(f1 / n, 4) if n else 0.0,
        "shown": round(len(shown) / n, 4) if n else 0.0,
        "exact_match_of_shown": round(em / len(shown), 4) if shown else 0.0,
        "f1_of_shown": round(f1 / len(shown), 4) if shown else 0.0,
    }


def compare(ranker: SpanRanker, examples: Sequence[SpanExample]) -> dict[str, Any]:
    """Learned vs checked (``ask`` before) vs unchecked choice, on the same examples."""
    learned, top, checked, unchecked = [], [], [], []
    for ex in examples:
        got, p = ranker.best(ex.ranked)
        top.append(got.text if got else None)
        learned.append(got.text if got and p >= ranker.threshold else None)
        c = checked_span(ex.info, ex.sentence, ex.cands)
        checked.append(c.text if c else None)
        rel = relabelled(ex.info, ex.sentence, ex.cands)
        u = choose_span(ex.info, ex.sentence, rel)[0]
        unchecked.append(u.text if u else None)
    ceiling = sum(any(ex.gold_rows()) for ex in examples)
    return {
        "learned": score(learned, examples),
        "learned, best span always shown (no threshold)": score(top, examples),
        "checked_span (before)": score(checked, examples),
        "choose_span (before issue 13)": score(unchecked, examples),
        "ceiling_some_candidate_is_gold": round(ceiling / len(examples), 4) if examples else 0,
    }


def fit_on_squad(
    data: Path = DEFAULT_DATA, spans: SpanSource | None = None
) -> tuple[SpanRanker, list[SpanExample], Squad]:
    from cairn.answer.ask import default_spans

    squad = load_squad(data)
    fit_names = squad.articles[:FIT_ARTICLES]
    examples = build_examples(gold_sentences(squad, fit_names), spans or default_spans())
    weights, none = fit_ranker(examples)
    ranker = SpanRanker(weights, none, 0.5)
    thr = choose_threshold(ranker, examples)
    note = (
        f"fitted by cairn_eval.span_fit on SQuAD 2.0 dev-half fit articles {fit_names} "
        f"({len(examples)} answerable questions, the sentence holding the gold answer); "
        "threshold = most right minus wrong short answers on those"
    )
    return SpanRanker(weights, none, thr, note), examples, squad


def synthetic_rows(pairs: Sequence[Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(question, sentence, answer) of the answerable synthetic pairs (``QAPair``)."""
    return [(p.question, p.sentence, (p.answer,)) for p in pairs if p.answerable and p.answer]


def fit_adapted(
    parts: dict[str, list[Any]], extra: Sequence[tuple[str, str, tuple[str, ...]]] = ()
) -> tuple[SpanRanker | None, dict[str, Any]]:
    """The span ranker ``cairn adapt`` stores: fitted on the ``train`` part's answerable
    synthetic pairs (and ``extra`` rows, e.g. the SQuAD fit articles), its threshold on the
    ``fit`` part, scored with the packaged ranker on the ``report`` part. None when the
    collection gave no answerable pair to learn from (the packaged ranker then stays)."""
    from cairn.answer.ask import default_spans
    from cairn.answer.span_rank import packaged_ranker

    spans = default_spans()
    train = build_examples([*extra, *synthetic_rows(parts.get("train", []))], spans)
    if not train:
        return None, {"train_questions": 0}
    weights, none = fit_ranker(train)
    fit_ex = build_examples(synthetic_rows(parts.get("fit", [])), spans) or train
    thr = choose_threshold(SpanRanker(weights, none, 0.5), fit_ex)
    note = (
        f"fitted by cairn adapt on {len(train)} answerable questions ({len(extra)} from SQuAD "
        f"fit articles); threshold on {len(fit_ex)} held-out synthetic questions"
    )
    ranker = SpanRanker(weights, none, thr, note)
    rep = build_examples(synthetic_rows(parts.get("report", [])), spans)
    metrics: dict[str, Any] = {
        "train_questions": len(train),
        "fit_questions": len(fit_ex),
        "report_questions": len(rep),
        "threshold": thr,
    }
    if rep:
        metrics["adapted"] = compare(ranker, rep)["learned"]
        metrics["packaged"] = compare(packaged_ranker(), rep)["learned"]
    return ranker, metrics


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--save", action="store_true", help=f"write {WEIGHTS_PATH.name}")
    ap.add_argument("--report", action="store_true", help="score on report articles 9-16")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    t = time.perf_counter()
    ranker, fit_examples, squad = fit_on_squad(args.data)
    result: dict[str, Any] = {
        "threshold": ranker.threshold,
        "fit_articles": squad.articles[:FIT_ARTICLES],
        "fit": compare(ranker, fit_examples),
    }
    if args.save:
        WEIGHTS_PATH.write_text(ranker.to_json() + "\n", encoding="utf-8")
        note_written(WEIGHTS_PATH)
    if args.report:
        from cairn.answer.ask import default_spans

        names = squad.articles[FIT_ARTICLES:]
        rep = build_examples(gold_sentences(squad, names), default_spans())
        result["report_articles"] = names
        result["report"] = compare(ranker, rep)
    result["seconds"] = round(time.perf_counter() - t, 1)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
