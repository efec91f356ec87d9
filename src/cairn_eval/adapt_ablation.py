"""What ``cairn adapt`` gains, separated (issue 13, point 4), and how well the support score
tells SQuAD 2.0's adversarial unanswerable questions from answerable ones.

* ``refit_support``: the support refit ``cairn adapt`` does, for any reader: the same held-out
  synthetic questions of the version's ``fit`` part (same split, same sample), asked of the
  knowledge base the version was made from with that reader, and a support model and threshold
  fitted on them. With the packaged reader it gives the "packaged reader + refitted support"
  row, which tells the reader's gain from the refit's.
* ``gold_paragraph_scores`` / ``gold_auc``: no retrieval; for each question, the support score
  of the best sentence of its own (gold) paragraph, read by the given reader and support model
  as ``ask`` reads a hit; AUC of answerable against unanswerable questions. SQuAD 2.0's
  unanswerable questions were written against that paragraph to look answerable by it, so this
  measures the check alone, without search luck.
* ``run_configs``: the report questions asked with each (reader, support) pair, scored as
  ``cairn eval qa`` scores them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cairn.answer.reader import SentenceReader
from cairn.answer.span_rank import SpanRanker
from cairn.answer.types import Candidate
from cairn.answer.verify import SupportModel
from cairn.kb.types import ChunkRecord, Consent
from cairn.search.types import SearchHit
from cairn_eval.qa import COLLECTION, Outcome, QAItem, score_at

Say = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class Config:
    """One row of the ablation: which reader reads, which support model decides."""

    name: str
    reader: SentenceReader | None
    model: SupportModel
    ranker: SpanRanker | None = None  # the short-answer ranker; None: the packaged one


def refit_support(
    fit_kb: Any,
    version: Path,
    reader: SentenceReader | None,
    *,
    questions: int,
    seed: int = 13,
    collection: str | None = None,
    say: Say | None = None,
) -> tuple[SupportModel, dict[str, Any]]:
    """A support model and threshold refitted, as ``cairn adapt`` refits them, on the held-out
    synthetic ``fit`` questions of ``version`` (its ``synthetic.jsonl``), asked of ``fit_kb``
    with ``reader``; and its figures on those questions (fit figures, not a result)."""
    from cairn.answer.adapted import Models
    from cairn.answer.verify import default_model
    from cairn.synthetic.dataset import collection_texts, read_jsonl
    from cairn_eval import adapt_data
    from cairn_eval.adapt import ask_all
    from cairn_eval.qa import fit_support

    synthetic = read_jsonl(version / "synthetic.jsonl")
    docs = list(collection_texts(fit_kb, collection))
    parts = adapt_data.split(synthetic, len(docs))
    items = adapt_data.held_out(parts["fit"], questions, seed)
    quiet: Say = say or (lambda stage, done, total: None)
    interim = Models(reader, default_model(), "refit", "")
    out = ask_all(fit_kb, items, interim, collection, "support refit", quiet)
    model = fit_support(
        out, note=f"refitted on {len(out)} held-out synthetic questions of {version.name}"
    )
    return model, score_at(model, out, model.threshold)


def _paragraph_hit(item: QAItem, title: str, text: str) -> SearchHit:
    chunk = ChunkRecord(
        chunk_id=0,
        document_id=0,
        doc_key=item.doc_key,
        title=title,
        source_id=0,
        source_uri=item.doc_key,
        collection=COLLECTION,
        license=None,
        consent=Consent.unknown,
        start=0,
        end=len(text),
        text=text,
    )
    return SearchHit(chunk=chunk, score=1.0, rank=1)


def gold_paragraph_candidates(
    kb: Any,
    items: Sequence[QAItem],
    paragraphs: Mapping[str, tuple[str, str]],
    config: Config,
    say: Say | None = None,
) -> list[list[Candidate]]:
    """Per question, the candidate sentences of its gold paragraph (``paragraphs``: doc key ->
    (title, text)), read by the config's reader as ``ask`` reads a single hit holding the
    whole paragraph."""
    from cairn.answer.ask import rank_candidates
    from cairn.answer.question import analyse

    out = []
    for n, item in enumerate(items):
        title, text = paragraphs[item.doc_key]
        hit = _paragraph_hit(item, title, text)
        info = analyse(item.question)
        out.append(rank_candidates(info, [hit], kb, model=config.model, reader=config.reader))
        if say is not None:
            say(f"gold paragraphs ({config.name})", n + 1, len(items))
    return out


def best_support(model: SupportModel, candidates: Sequence[Sequence[Candidate]]) -> list[float]:
    """Per question, the support score of its best candidate under ``model`` (0.0: none)."""
    return [max((model.score(c.features) for c in cs), default=0.0) for cs in candidates]


def gold_paragraph_scores(
    kb: Any,
    items: Sequence[QAItem],
    paragraphs: Mapping[str, tuple[str, str]],
    config: Config,
    say: Say | None = None,
) -> list[float]:
    """Per question, the support score of the best candidate sentence of its gold paragraph
    under the config's models; 0.0 when no sentence qualifies."""
    cands = gold_paragraph_candidates(kb, items, paragraphs, config, say)
    return best_support(config.model, cands)


def gold_auc(items: Sequence[QAItem], scores: Sequence[float]) -> dict[str, Any]:
    """AUC of the scores, answerable (positive) against unanswerable questions."""
    from cairn.synth.report import auc

    pos = np.array([s for it, s in zip(items, scores, strict=True) if it.answerable])
    neg = np.array([s for it, s in zip(items, scores, strict=True) if not it.answerable])
    if not len(pos) or not len(neg):
        raise ValueError("the AUC needs answerable and unanswerable questions")
    return {
        "auc": round(auc(pos, neg), 4),
        "answerable": len(pos),
        "unanswerable": len(neg),
        "median_answerable": round(float(np.median(pos)), 4),
        "median_unanswerable": round(float(np.median(neg)), 4),
    }


def run_config(
    kb: Any, items: Sequence[QAItem], config: Config, k: int = 5, say: Say | None = None
) -> list[Outcome]:
    """The questions asked of ``kb`` with the config's models (as ``run_questions`` does, and
    with the config's short-answer ranker)."""
    from cairn.answer.ask import answer_question
    from cairn_eval.qa import _holds_gold

    out = []
    for n, item in enumerate(items):
        t = time.perf_counter()
        ans = answer_question(
            kb,
            item.question,
            collections=(COLLECTION,),
            k=k,
            explain=True,
            model=config.model,
            reader=config.reader,
            span_ranker=config.ranker,
        )
        ms = (time.perf_counter() - t) * 1000
        cands = list(ans.candidates)
        out.append(Outcome(item, cands, [_holds_gold(item, c) for c in cands], ms))
        if say is not None:
            say(config.name, n + 1, len(items))
    return out


def score_config(config: Config, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """``cairn eval qa``'s figures for one config, with the precision at half coverage.

    ``outcomes`` may come from asking with another support model and the same reader: each
    candidate is then rescored with the config's model (as ``cairn eval qa --fit`` scores the
    report with its refitted model); only the second read and the second hop, which ``ask``
    tries when the asking model's best candidate falls short, can differ."""
    from cairn_eval.metrics import summarize_latencies

    row = score_at(config.model, outcomes, config.model.threshold)
    row["precision_at_half_coverage"] = precision_at_coverage(config.model, outcomes, 0.5)
    row["latency_ms"] = summarize_latencies([o.ms for o in outcomes])
    return row


def precision_at_coverage(
    model: SupportModel, outcomes: Sequence[Outcome], coverage: float
) -> dict[str, float] | None:
    """The precision of answers given at the highest threshold that still answers at least
    ``coverage`` of the answerable questions (read off the curve; None if never reached)."""
    best = None
    for thr in np.linspace(0.0, 1.0, 201):
        s = score_at(model, outcomes, float(thr))
        if s["coverage_answerable"] >= coverage:
            best = {
                "threshold": round(float(thr), 3),
                "coverage_answerable": s["coverage_answerable"],
                "precision": s["precision"],
            }
    return best
