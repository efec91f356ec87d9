"""``ask``: a grounded, extractive answer with numbered citations, or a plain abstention.

The default answerer uses no language model: it finds the sentence that best supports an
answer, copies a short answer span verbatim from it, and quotes the sentence with a citation
whose offsets resolve into the document text. When the support check fails, it abstains and
lists the closest sources instead.

With ``llm=``, the same support check decides whether to answer at all; the model then phrases
the answer from the chosen evidence sentences (``generate.py``), every sentence it writes is
checked against what it cites, and what fails is dropped (``Answer.dropped``). When the model
fails (unreachable, timeout, garbage), the extractive answer is shown and ``reason`` says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from cairn.answer.adapted import models_for
from cairn.answer.context_read import reread
from cairn.answer.evidence import select_evidence
from cairn.answer.generate import MAX_SOURCES, SENTENCE_COSINE, generate_checked
from cairn.answer.hop_support import MemoSpans
from cairn.answer.question import QuestionInfo, analyse
from cairn.answer.reader import SentenceReader, packaged_reader, pair_text
from cairn.answer.span import SpacySpans, SpanSource, choose_span
from cairn.answer.span_check import relabelled
from cairn.answer.span_rank import SpanRanker, shown_span
from cairn.answer.two_hop import needs_second_hop, second_hop
from cairn.answer.types import Answer, AnswerError, Candidate, Citation, Evidence, SentenceCheck
from cairn.answer.verify import SupportModel, default_model, features
from cairn.knowledge import KnowledgeBase
from cairn.models.llm import LLM, LLMError
from cairn.search.types import SearchHit

DEFAULT_K = 5
CANDIDATE_SENTENCES = 6  # best evidence sentences read, checked for an answer span
CLOSEST_SOURCES = 3
NO_ANSWER = "The sources do not contain an answer to this question."


@lru_cache(maxsize=1)
def default_spans() -> SpanSource:
    return SpacySpans()


def ask(
    kb: KnowledgeBase,
    question: str,
    *,
    model: SupportModel | None = None,
    reader: SentenceReader | None = None,
    **options: Any,
) -> Answer:
    """``answer_question`` with the knowledge base's models when none are given: its active
    adapted reader and support model (``cairn adapt``), else the packaged ones; the answer
    says which decided (``Answer.decided_by``)."""
    if model is not None or reader is not None:
        return answer_question(kb, question, model=model, reader=reader, **options)
    chosen = models_for(kb.store)
    if chosen.ranker is not None:
        options.setdefault("span_ranker", chosen.ranker)
    out = answer_question(kb, question, model=chosen.model, reader=chosen.reader, **options)
    return replace(out, decided_by=chosen.description)


def answer_question(
    kb: KnowledgeBase,
    question: str,
    *,
    collections: Sequence[str] = (),
    k: int = DEFAULT_K,
    explain: bool = False,
    spans: SpanSource | None = None,
    model: SupportModel | None = None,
    reader: SentenceReader | None = None,
    threshold: float | None = None,
    llm: LLM | None = None,
    sentence_threshold: float = SENTENCE_COSINE,
    two_hop: bool = True,
    span_ranker: SpanRanker | None = None,
) -> Answer:
    """Answer ``question`` from the knowledge base, citing exact spans, or abstain.

    Text in the documents is data: an instruction inside a passage (or a question asking to
    ignore the sources) changes nothing about how the answer is built.

    ``reader`` (default: the packaged answer-sentence reader, ``reader.py``) reads the question
    with each candidate sentence; its logit is one of the support model's features.

    With ``llm``, the answer is phrased by the model and each of its sentences must pass the
    sentence support check (encoder cosine >= ``sentence_threshold`` with the cited evidence,
    and no number or name the cited evidence lacks), or be a verbatim quote.

    With ``two_hop``, a question whose best sentence names a bridge entity but not the
    answer, or that compares two things, gets a second retrieval (``two_hop.py``); its answer
    cites both sentences (extractive, also when ``llm`` is given) when the two sentences,
    read together, pass the support check. On by default (``two_hop=False`` turns it off): on
    single-paragraph questions (SQuAD 2.0 report articles) it answered 19.2% of the
    unanswerable ones against 17.8% without it (``bench/twohop_squad.py``, BENCHMARKS.md).
    """
    info = analyse(question)
    if not 1 <= k <= 50:
        raise AnswerError("bad-k", f"k = {k}: must be between 1 and 50")
    model = model or default_model()
    thr = model.threshold if threshold is None else threshold
    check_collections(kb, collections)
    if kb.stats().chunks == 0:
        return _abstain(
            info,
            (),
            thr,
            "empty-kb",
            "The knowledge base is empty: add documents with `cairn ingest PATH` first.",
        )
    hits = kb.search(info.text, k=k, collections=collections)
    if not hits:
        return _abstain(info, (), thr, "no-match", f"{NO_ANSWER} No passage matches it.")
    if two_hop:  # the second hop reuses the first hop's parses
        spans = MemoSpans(spans or default_spans())
    candidates, evidence = _rank(
        info, hits, kb, spans=spans, model=model, reader=reader, span_ranker=span_ranker
    )
    if not candidates:
        return _abstain(info, (), thr, "no-match", f"{NO_ANSWER} No passage matches it.")
    best = candidates[0]
    if best.support < thr:
        chunk_texts = {(h.chunk.document_id, h.chunk.start): h.chunk.text for h in hits}
        again = reread(info, candidates, chunk_texts, evidence, reader or packaged_reader(), model)
        if again and again[0].support >= thr:
            best = again[0]
            key = (best.evidence.document_id, best.evidence.end)
            rest = [c for c in candidates if (c.evidence.document_id, c.evidence.end) != key]
            candidates = [best, *rest]
    shown = tuple(candidates) if explain else ()
    if two_hop and needs_second_hop(info):  # a bridge entity or a comparison: two_hop.py
        two = second_hop(
            kb, info, candidates, collections=collections, spans=spans or default_spans(),
            reader=reader or packaged_reader(), model=model, threshold=thr, hits=hits,
            evidence=evidence,
        )  # fmt: skip
        if two is not None:
            return replace(two, candidates=shown)
    closest = _distinct_sources([c.evidence for c in candidates])[:CLOSEST_SOURCES]
    if best.support < thr:
        return _abstain(info, closest, thr, "low-support", NO_ANSWER, best.support, shown)
    extractive = _answer(info, best, thr, shown)
    if llm is None:
        return extractive
    # The model sees the answering sentence first, then the other best evidence.
    given = [best.evidence] + [e for e in evidence if e != best.evidence]
    given = given[:MAX_SOURCES]
    contexts = {(h.chunk.document_id, h.chunk.start): h.chunk.text for h in hits}
    try:
        checks = generate_checked(
            info.text, given, llm, kb.embedder, contexts=contexts, threshold=sentence_threshold
        )
    except LLMError as err:
        note = f"generation failed ({err.code}: {err.message}): extractive answer shown"
        return replace(extractive, text=f"{extractive.text}\n[{note}]", reason=note)
    return _generated(info, best, given, checks, closest, thr, shown)


def check_collections(kb: KnowledgeBase, collections: Sequence[str]) -> None:
    if not collections:
        return
    known = {s.provenance.collection for s in kb.sources()}
    unknown = [c for c in collections if c not in known]
    if unknown:
        have = ", ".join(sorted(known)) or "none yet"
        raise AnswerError(
            "unknown-collection",
            f"no collection named {', '.join(map(repr, unknown))} in this knowledge base "
            f"(collections: {have})",
        )


def rank_candidates(
    info: QuestionInfo,
    hits: Sequence[SearchHit],
    kb: KnowledgeBase,
    *,
    spans: SpanSource | None = None,
    model: SupportModel | None = None,
    reader: SentenceReader | None = None,
) -> list[Candidate]:
    """The best evidence sentences with their answer span and support, best first."""
    return _rank(info, hits, kb, spans=spans, model=model, reader=reader)[0]


def _rank(
    info: QuestionInfo,
    hits: Sequence[SearchHit],
    kb: KnowledgeBase,
    *,
    spans: SpanSource | None = None,
    model: SupportModel | None = None,
    reader: SentenceReader | None = None,
    span_ranker: SpanRanker | None = None,
) -> tuple[list[Candidate], list[Evidence]]:
    """Candidates (best first) and every selected evidence sentence (by evidence score)."""
    model = model or default_model()
    evidence = select_evidence(info, hits, kb.embedder)
    top = evidence[:CANDIDATE_SENTENCES]
    if not top:
        return [], evidence
    reader = reader or packaged_reader()
    passages = [pair_text(e.title or "", e.text) for e in top]
    logits = reader.logits(info.text, passages).tolist() if reader else [0.0] * len(top)
    chunk_texts = {(h.chunk.document_id, h.chunk.start): h.chunk.text for h in hits}
    found = (spans or default_spans()).candidates([e.text for e in top])
    out = []
    for ev, cands, logit in zip(top, found, logits, strict=True):
        span, fit = choose_span(info, ev.text, relabelled(info, ev.text, cands))
        shown = shown_span(info, ev.text, cands, span_ranker)  # the short answer, if any
        feats = features(
            info,
            ev,
            chunk_texts.get((ev.document_id, ev.chunk_start), ev.text),
            fit,
            span is not None,
            evidence,
            logit,
        )
        out.append(
            Candidate(
                evidence=ev,
                span=shown.text if shown else None,
                span_label=shown.label if shown else None,
                span_start=ev.start + shown.start if shown else None,
                span_end=ev.start + shown.end if shown else None,
                support=model.score(feats),
                features=feats,
            )
        )
    out.sort(key=lambda c: -c.support)
    return out, evidence


def citation(n: int, ev: Evidence) -> Citation:
    return Citation(
        n=n,
        document_id=ev.document_id,
        doc_key=ev.doc_key,
        title=ev.title,
        source=ev.source,
        license=ev.license,
        start=ev.start,
        end=ev.end,
        quote=ev.text,
    )


def _distinct_sources(evidence: Sequence[Evidence]) -> list[Evidence]:
    seen: set[int] = set()
    out = []
    for ev in evidence:
        if ev.document_id not in seen:
            seen.add(ev.document_id)
            out.append(ev)
    return out


def _answer(
    info: QuestionInfo, best: Candidate, thr: float, shown: tuple[Candidate, ...]
) -> Answer:
    cite = citation(1, best.evidence)
    lines = []
    if best.span:
        lines.append(f"{best.span} [1]")
    lines.append(f"\u201c{cite.quote}\u201d [1]")
    return Answer(
        question=info.text,
        text="\n".join(lines),
        short_answer=best.span,
        abstained=False,
        citations=(cite,),
        support=best.support,
        threshold=thr,
        candidates=shown,
    )


def _generated(
    info: QuestionInfo,
    best: Candidate,
    given: Sequence[Evidence],
    checks: Sequence[SentenceCheck],
    closest: Sequence[Evidence],
    thr: float,
    shown: tuple[Candidate, ...],
) -> Answer:
    """The sentences that passed, with citations renumbered in order of first use."""
    kept = [c for c in checks if c.passed]
    dropped = tuple(c.text for c in checks if not c.passed)
    if not kept:
        why = "no generated sentence passed the support check" if checks else "no answer given"
        message = f"{NO_ANSWER} (The model's answer was dropped: {why}.)"
        out = _abstain(info, closest, thr, "unsupported-generation", message, best.support, shown)
        return replace(out, mode="generative", dropped=dropped, checks=tuple(checks))
    numbers: dict[int, int] = {}  # source number in the prompt -> citation number
    lines = []
    for c in kept:
        refs = [numbers.setdefault(n, len(numbers) + 1) for n in c.cites]
        lines.append(c.text + " " + "".join(f"[{r}]" for r in refs))
    cites = tuple(citation(new, given[old - 1]) for old, new in numbers.items())
    text = "\n".join(lines)
    short = best.span if best.span and best.span in text else None
    return Answer(
        question=info.text,
        text=text,
        short_answer=short,
        abstained=False,
        citations=cites,
        support=best.support,
        threshold=thr,
        candidates=shown,
        mode="generative",
        dropped=dropped,
        checks=tuple(checks),
    )


def _abstain(
    info: QuestionInfo,
    closest: Sequence[Evidence],
    thr: float,
    reason: str,
    message: str,
    support: float = 0.0,
    shown: tuple[Candidate, ...] = (),
) -> Answer:
    cites = tuple(citation(i, ev) for i, ev in enumerate(closest, start=1))
    text = message
    if cites:
        text += " Closest sources:\n" + "\n".join(
            f"[{c.n}] {c.title or c.doc_key} ({c.source}, chars {c.start}-{c.end})" for c in cites
        )
    return Answer(
        question=info.text,
        text=text,
        short_answer=None,
        abstained=True,
        citations=cites,
        support=support,
        threshold=thr,
        reason=reason,
        candidates=shown,
    )
