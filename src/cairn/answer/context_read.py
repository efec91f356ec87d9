"""A second read with the sentence before: "Each crane lifts up to 45 tonnes." answers "How much
can each *new* crane lift?" when the sentence before says "The port ordered three new cranes".

The support model scores one sentence at a time, so a question word that the sentence leaves
to its neighbour ("new", a name replaced by "it") counts as missing, and a plain answer is
lost. When the best candidate falls short of the threshold, the best few are read again
together with the sentence before them in the same chunk, only where that sentence holds
question words the candidate lacks: term overlap over both sentences and the reader's logit
on both (the same reader and support model, no new weights). A candidate that then passes is
cited with both sentences, so the quote holds everything the answer rests on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from cairn.answer.evidence import coverage
from cairn.answer.question import QuestionInfo, stems
from cairn.answer.reader import SentenceReader, pair_text
from cairn.answer.types import Candidate, Evidence
from cairn.answer.verify import SupportModel, features
from cairn.text.sentences import split_sentences

REREAD = 3  # candidates read again with their previous sentence


def with_previous(ev: Evidence, chunk_text: str) -> Evidence | None:
    """``ev`` widened to start at the previous sentence of its chunk, or None (first one)."""
    offset = ev.start - ev.chunk_start
    before = [s for s in split_sentences(chunk_text) if s.end <= offset]
    if not before:
        return None
    start = before[-1].start
    end = ev.end - ev.chunk_start
    return replace(ev, start=ev.chunk_start + start, text=chunk_text[start:end])


def reread(
    info: QuestionInfo,
    candidates: Sequence[Candidate],
    chunk_texts: Mapping[tuple[int, int], str],
    evidence: Sequence[Evidence],
    reader: SentenceReader | None,
    model: SupportModel,
) -> list[Candidate]:
    """The best candidates rescored with the sentence before them; those that gain nothing
    from it are left out."""
    if reader is None:
        return []
    pairs: list[tuple[Candidate, Evidence]] = []
    for cand in candidates[:REREAD]:
        ev = cand.evidence
        chunk = chunk_texts.get((ev.document_id, ev.chunk_start))
        if chunk is None or ev.overlap >= 1.0:
            continue
        wide = with_previous(ev, chunk)
        if wide is None:
            continue
        overlap = coverage(info, stems(wide.text))
        if overlap <= ev.overlap:
            continue  # the sentence before adds none of the missing words
        pairs.append((cand, replace(wide, overlap=overlap)))
    if not pairs:
        return []
    logits = reader.logits(info.text, [pair_text(w.title or "", w.text) for _, w in pairs])
    out = []
    for (cand, wide), logit in zip(pairs, logits.tolist(), strict=True):
        chunk = chunk_texts[(wide.document_id, wide.chunk_start)]
        f = cand.features
        feats = features(
            info,
            wide,
            chunk,
            f.get("type_fit", 0.0),
            f.get("has_span", 0.0) > 0,
            evidence,
            logit,
        )
        out.append(replace(cand, evidence=wide, support=model.score(feats), features=feats))
    out.sort(key=lambda c: -c.support)
    return out
