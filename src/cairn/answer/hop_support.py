"""The second hop under the single-hop discipline: sentences found cheaply, support scored jointly.

A two-hop answer rests on two sentences, so the support check reads them together: the same
answer-sentence reader (``reader.py``) reads the question with both sentences (each after its
document title, first hop first), and the same support model (``verify.py``) scores features
computed over both (term overlap over the two sentences and their chunks, the answer span found
in the second one, the first hop's encoder cosine and rank). The answer is given only when that
support reaches the same threshold a single-hop answer needs; otherwise ``ask`` goes on as if
there were no second hop. ``context_read.py`` does the same for a sentence read with the one
before it.

Second-hop sentences are gathered without the sentence encoder (it is the slowest step of a
hop): every sentence of the bridge's search hits, pre-ranked by the question's term coverage,
and then only the reader decides. Span candidates (spaCy) are memoised per ``ask`` call
(:class:`MemoSpans`), so the first hop's entities are not parsed twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from cairn.answer.evidence import coverage
from cairn.answer.question import QuestionInfo, stems
from cairn.answer.reader import SentenceReader, pair_text
from cairn.answer.span import SpanCandidate, SpanSource
from cairn.answer.types import Evidence
from cairn.answer.verify import SupportModel, features


class MemoSpans(SpanSource):
    """A span source that parses each distinct sentence once (for one ``ask`` call)."""

    def __init__(self, inner: SpanSource) -> None:
        self.inner = inner
        self.name = inner.name
        self._memo: dict[str, list[SpanCandidate]] = {}

    def candidates(self, sentences: Sequence[str]) -> list[list[SpanCandidate]]:
        new = list(dict.fromkeys(s for s in sentences if s not in self._memo))
        if new:
            self._memo.update(zip(new, self.inner.candidates(new), strict=True))
        return [self._memo[s] for s in sentences]


@dataclass(frozen=True)
class HopPair:
    """Two sentences an answer would cite (first hop, second hop), the bridge that led from
    one to the other (None for the two sides of a comparison) and the answer span found."""

    first: Evidence
    bridge: str | None
    second: Evidence
    span: SpanCandidate | None
    type_fit: float = 1.0


@dataclass(frozen=True)
class ScoredPair:
    pair: HopPair
    support: float
    features: dict[str, float]


def joint_passage(one: Evidence, two: Evidence) -> str:
    """What the reader reads for a two-hop answer: both sentences, each after its title."""
    return f"{pair_text(one.title or '', one.text)} {pair_text(two.title or '', two.text)}"


def score_pairs(
    info: QuestionInfo,
    pairs: Sequence[HopPair],
    *,
    reader: SentenceReader | None,
    model: SupportModel,
    chunk_texts: Mapping[tuple[int, int], str],
    others: Sequence[Evidence] = (),
) -> list[ScoredPair]:
    """Each pair's support from the single-hop support model, over both sentences, best first."""
    if not pairs:
        return []
    passages = [joint_passage(p.first, p.second) for p in pairs]
    logits = reader.logits(info.text, passages).tolist() if reader else [0.0] * len(pairs)
    out = []
    for p, logit in zip(pairs, logits, strict=True):
        one, two = p.first, p.second
        both = f"{one.text} {two.text}"
        chunks = " ".join(
            chunk_texts.get((e.document_id, e.chunk_start), e.text) for e in (one, two)
        )
        joint = replace(
            one,
            text=both,
            overlap=coverage(info, stems(both)),
            context_overlap=coverage(info, stems(chunks)),
        )  # rank, cosine and score (the margin over other documents) stay the first hop's
        rivals = [o for o in others if o.document_id not in (one.document_id, two.document_id)]
        feats = features(info, joint, chunks, p.type_fit, p.span is not None, rivals, logit)
        out.append(ScoredPair(p, model.score(feats), feats))
    out.sort(key=lambda s: -s.support)
    return out
