"""Two-hop evidence: answers that need a second sentence, found through a bridge entity.

Two kinds of question get a second retrieval (``second_hop``):

* **bridge**: the best single-hop sentence names an entity the question does not (a *bridge*,
  "... professor at Moscow State University") but holds no span of the answer type the
  question asks for. Each bridge entity (spaCy entities of the first-hop sentences, and their
  document titles) seeds one more keyword search; the second-hop sentence must name the
  bridge (in its text or its document's title), come from another document with another title,
  hold a span of the answer type that is not a question word or the bridge, and, with the
  first hop, name most of the question's names. The pairs left are scored by the single-hop
  support model read over both sentences (``hop_support.py``); the best one answers when it
  reaches ``BRIDGE_SUPPORT``. The answer cites both sentences.
* **comparison**: "which is older, X or Y", "were both X and Y ...". Each side is searched on
  its own; the best sentence naming that side with a value of the compared kind (a date for
  older/first, a number for more/larger) is cited, and the answer states each side's value
  (and which side wins, when the values can be compared). "Both" questions answer "yes" only
  when each side's sentence holds every compared term; otherwise there is no two-hop answer.
  The two sides' sentences are scored the same way (``COMPARISON_SUPPORT``).

No answer comes from a second hop that does not hold one: when nothing passes, ``second_hop``
returns None and ``ask`` abstains as before. Nothing here knows about any one collection.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from cairn.answer.evidence import hit_sentences, select_evidence
from cairn.answer.hop_support import HopPair, score_pairs
from cairn.answer.question import AnswerType, QuestionInfo, analyse, stem, stems
from cairn.answer.reader import SentenceReader
from cairn.answer.span import SpanCandidate, SpanSource, choose_span
from cairn.answer.span_check import checked_span, relabelled
from cairn.answer.types import Answer, Candidate, Citation, Evidence, HopLink
from cairn.answer.verify import SupportModel
from cairn.knowledge import KnowledgeBase
from cairn.search.types import Mode, SearchHit

# Chosen on the even-numbered HotpotQA questions and SQuAD's fit articles only (BENCHMARKS.md,
# two-hop section). A two-hop answer's support is the single-hop support model's, read over
# both sentences (hop_support.py); the joint reading scores lower than a single sentence that
# holds the whole answer, so its bar is fitted apart from the single-hop threshold.
BRIDGE_SUPPORT = 0.15  # joint support a bridge answer needs
COMPARISON_SUPPORT = 0.0  # joint support a comparison answer needs
ACCOUNTED = 2 / 3  # share of the question's names and numbers the two hops must name
MAX_BRIDGES = 4  # bridge entities tried per question
HOP1_SENTENCES = 2  # first-hop sentences whose entities may be bridges
HOP2_HITS = 3  # search hits per bridge
HOP2_READ = 8  # second-hop sentences parsed for a span; those with one are read jointly
HOP2_MODE = Mode.keyword  # a bridge is a name: BM25 finds its document without the encoder
_NOT_BRIDGES = frozenset(
    {"DATE", "TIME", "CARDINAL", "ORDINAL", "PERCENT", "MONEY", "QUANTITY", "NP"}
)
_SIDE_PREFIX = re.compile(r"^(?:the|a|an|between|either)\s+", re.IGNORECASE)
_OR_SIDES = (
    re.compile(r"[,:]\s*(?P<a>[^,?]+?),?\s+or\s+(?P<b>[^,?]+?)\s*\??$"),  # "..., X or Y?"
    re.compile(r"^(?P<a>[^,?]+?),?\s+or\s+(?P<b>[^,?]+?)\s*[,:]\s*\w"),  # "X or Y, which ..."
    re.compile(r"^(?:which|who|what)\b[^,?]*,\s*(?P<a>[^,?]+?),?\s+or\s+(?P<b>[^,?]+?),"),
    re.compile(r"^between\s+(?P<a>[^,?]+?)\s+and\s+(?P<b>[^,?]+?),", re.IGNORECASE),
)
_AND_SIDES = re.compile(
    r"^(?:are|were|is|was|do|did|does|have|has|had)\s+(?:both\s+)?(?P<a>.+?)\s+and\s+(?P<b>.+?)"
    r"\s+(?:both|the same|from the same|of the same|in the same|each|also)\b",
    re.IGNORECASE,
)
_EARLY = frozenset(["older", "oldest", "earlier", "earliest", "first", "before", "elder", "eldest"])
_LATE = frozenset(
    ["younger", "youngest", "later", "latest", "last", "after", "newer", "newest", "recently"]
)
_MORE = frozenset(
    [
        "more",
        "most",
        "larger",
        "largest",
        "bigger",
        "biggest",
        "taller",
        "longer",
        "higher",
        "greater",
    ]
)
_LESS = frozenset(["less", "fewer", "smaller", "smallest", "shorter", "lower", "least"])
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_YEAR = re.compile(r"\b(1\d{3}|20\d{2})\b")


@dataclass(frozen=True)
class Comparison:
    sides: tuple[str, str]
    both: bool  # "were both X and Y ...": a yes/no question


def comparison_sides(question: str) -> Comparison | None:
    """The two things a question compares, or None ("..., X or Y?" / "are X and Y both ...")."""
    q = " ".join(question.split())
    m = next((m for p in _OR_SIDES if (m := p.search(q))), None)
    both = False
    if m is None:
        m = _AND_SIDES.search(q)
        both = m is not None
    if m is None:
        return None
    a, b = (_SIDE_PREFIX.sub("", m.group(g).strip(" \"'")) for g in ("a", "b"))
    if not a or not b or a.lower() == b.lower():
        return None
    return Comparison((a, b), both)


def second_hop(
    kb: KnowledgeBase,
    info: QuestionInfo,
    first: Sequence[Candidate],
    *,
    collections: Sequence[str],
    spans: SpanSource,
    reader: SentenceReader | None,
    model: SupportModel,
    threshold: float,
    hits: Sequence[SearchHit] = (),
    evidence: Sequence[Evidence] = (),
) -> Answer | None:
    """A two-hop answer citing both sentences, or None when no second hop holds one.

    A bridge answer must reach ``bridge_bar(threshold)`` under ``model`` read over both
    sentences (``hop_support.py``); one that does replaces the single-hop answer."""
    chunks = {(h.chunk.document_id, h.chunk.start): h.chunk.text for h in hits}
    comp = comparison_sides(info.text)
    if comp is not None:
        return _compare(
            kb, info, comp, collections=collections, spans=spans, reader=reader, model=model,
            threshold=threshold, chunks=chunks, evidence=evidence,
        )  # fmt: skip
    if not first or info.answer_type is AnswerType.reason:
        return None
    bar = bridge_bar(threshold)
    return _bridge(
        kb, info, first, collections=collections, spans=spans, reader=reader, model=model,
        bar=bar, threshold=threshold, chunks=chunks, evidence=evidence,
    )  # fmt: skip


def bridge_bar(threshold: float) -> float:
    """The joint support a bridge answer needs (``BRIDGE_SUPPORT``, or the single-hop
    ``threshold`` when that is lower)."""
    return min(BRIDGE_SUPPORT, threshold)


def comparison_bar(threshold: float) -> float:
    """The joint support a comparison answer needs."""
    return min(COMPARISON_SUPPORT, threshold)


def needs_second_hop(info: QuestionInfo) -> bool:
    """True unless the question asks why/how (no typed answer for a second hop to find).

    A second hop cites the best single-hop sentence as its first hop, so it never cites less;
    when it finds no second sentence that holds an answer, ``ask`` goes on as before.
    """
    return info.answer_type is not AnswerType.reason or comparison_sides(info.text) is not None


# -- bridge questions ---------------------------------------------------------------------
def _bridges(
    info: QuestionInfo, first: Sequence[Candidate], found: Sequence[list[SpanCandidate]]
) -> list[tuple[Candidate, str]]:
    """(first-hop candidate, bridge entity) pairs: names the question does not mention."""
    q_stems = stems(info.text)
    out: list[tuple[Candidate, str]] = []
    seen: set[str] = set()
    for cand, ents in zip(first, found, strict=True):
        if not _about(info, cand.evidence):
            continue
        names = [e.text for e in ents if e.label not in _NOT_BRIDGES]
        title = cand.evidence.title
        if title:
            names.append(title)
        for name in names:
            name_stems = stems(name)
            key = name.lower()
            if not name_stems or key in seen or len(name_stems & q_stems) >= len(name_stems):
                continue
            seen.add(key)
            out.append((cand, name))
    return out[:MAX_BRIDGES]


def _name_stems(info: QuestionInfo) -> set[str]:
    """Stems of the names and numbers in the question (its weighted terms)."""
    return {t.stem for t in info.terms if t.weight > 1.0}


def _about(info: QuestionInfo, ev: Evidence) -> bool:
    """A first hop names something the question names (when the question names anything)."""
    names = _name_stems(info)
    return not names or bool(names & (stems(ev.text) | stems(ev.title or "")))


def _accounted(info: QuestionInfo, one: Evidence, two: Evidence) -> bool:
    """The two hops together name at least two thirds of the question's names and numbers."""
    names = _name_stems(info)
    have = stems(one.text) | stems(one.title or "") | stems(two.text) | stems(two.title or "")
    return len(names & have) >= ACCOUNTED * len(names)


def _same_topic(one: Evidence, two: Evidence) -> bool:
    """Both sentences come from documents with the same title (parts of one article): a
    second hop leads to another document, about something else."""
    a, b = (" ".join((e.title or "").lower().split()) for e in (one, two))
    return bool(a) and a == b


def _titled(bridge: str, ev: Evidence) -> bool:
    """The sentence's document is about the bridge (its title holds the bridge's words)."""
    return stems(bridge) <= stems(ev.title or "")


def _names(bridge: str, ev: Evidence) -> bool:
    """The sentence or its document's title names the bridge (most of its words)."""
    b = stems(bridge)
    have = stems(ev.text) | stems(ev.title or "")
    return len(b & have) >= max(1, math.ceil(0.6 * len(b)))


def _bridge(
    kb: KnowledgeBase,
    info: QuestionInfo,
    first: Sequence[Candidate],
    *,
    collections: Sequence[str],
    spans: SpanSource,
    reader: SentenceReader | None,
    model: SupportModel,
    bar: float,
    threshold: float,
    chunks: dict[tuple[int, int], str],
    evidence: Sequence[Evidence],
) -> Answer | None:
    hop1 = [c for c in first if _about(info, c.evidence)][:HOP1_SENTENCES]
    pairs = _bridges(info, hop1, spans.candidates([c.evidence.text for c in hop1]))
    reached: dict[tuple[int, int], tuple[Candidate, str, Evidence]] = {}
    for cand, bridge in pairs:
        hits = kb.search(
            f"{bridge} {info.text}", k=HOP2_HITS, collections=collections, mode=HOP2_MODE
        )
        hits = [h for h in hits if h.chunk.document_id != cand.evidence.document_id]
        chunks.update({(h.chunk.document_id, h.chunk.start): h.chunk.text for h in hits})
        for ev in hit_sentences(info, hits):
            key = (ev.document_id, ev.start)
            if not _names(bridge, ev) or not _accounted(info, cand.evidence, ev):
                continue
            if _same_topic(cand.evidence, ev):  # another part of the first hop's document
                continue
            # A sentence reached through several bridges keeps the one its document is about.
            if key not in reached or (_titled(bridge, ev) and not _titled(reached[key][1], ev)):
                reached[key] = (cand, bridge, ev)
    rows = sorted(reached.values(), key=lambda r: -r[2].score)[:HOP2_READ]
    if not rows:
        return None
    found = spans.candidates([ev.text for _, _, ev in rows])
    typed: list[HopPair] = []
    for (cand, bridge, ev), ents in zip(rows, found, strict=True):
        named = stems(bridge)  # the bridge itself is never the answer
        own = [e for e in ents if not stems(e.text) <= named]
        span = checked_span(info, ev.text, own)
        if span is not None:
            fit = choose_span(info, ev.text, relabelled(info, ev.text, own))[1]
            typed.append(HopPair(cand.evidence, bridge, ev, span, fit))
    scored = score_pairs(
        info, typed, reader=reader, model=model, chunk_texts=chunks, others=evidence
    )
    if not scored or scored[0].support < bar:
        return None
    best = scored[0]
    span = best.pair.span
    assert span is not None  # only typed pairs are scored
    return _two_cited(
        info,
        best.pair.first,
        best.pair.second,
        best.pair.bridge,
        short=span.text,
        lines=[f"{span.text} [2]"],
        support=best.support,
        threshold=threshold,
        reason="two-hop",
    )


# -- comparison questions -----------------------------------------------------------------
def _side_evidence(
    kb: KnowledgeBase,
    info: QuestionInfo,
    side: str,
    other: str,
    *,
    collections: Sequence[str],
    spans: SpanSource,
) -> tuple[Evidence, SpanCandidate | None] | None:
    """The best sentence naming ``side`` about what the question asks, with its value."""
    asked = analyse(_without(info.text, other))
    hits = kb.search(f"{side} {asked.text}", k=HOP2_HITS, collections=collections)
    evidence = [e for e in select_evidence(asked, hits, kb.embedder, limit=6) if _names(side, e)]
    if not evidence:
        return None
    found = spans.candidates([e.text for e in evidence])
    for ev, ents in zip(evidence, found, strict=True):
        value = _value(asked, ev.text, ents, side)
        if value is not None:
            return ev, value
    return evidence[0], None


def _value(
    info: QuestionInfo, sentence: str, ents: Sequence[SpanCandidate], side: str
) -> SpanCandidate | None:
    lower = {w.lower() for w in re.findall(r"\w+", info.text)}
    if lower & (_EARLY | _LATE) or info.answer_type is AnswerType.date:
        dated = [e for e in ents if e.label == "DATE" and _YEAR.search(e.text)]
        return dated[0] if dated else None
    if lower & (_MORE | _LESS) or info.answer_type is AnswerType.number:
        nums = [e for e in ents if e.label in ("CARDINAL", "QUANTITY", "MONEY", "PERCENT")]
        return nums[0] if nums else None
    span = checked_span(info, sentence, ents)
    if span is not None and not stems(span.text) <= stems(side):
        return span
    return None


def _winner(info: QuestionInfo, sides: tuple[str, str], values: list[str]) -> str | None:
    """The side the question asks for, when both values are comparable."""
    lower = {w.lower() for w in re.findall(r"\w+", info.text)}
    if lower & (_EARLY | _LATE):
        years = [_YEAR.search(v) for v in values]
        if all(years) and years[0] and years[1] and years[0].group() != years[1].group():
            early = 0 if int(years[0].group()) < int(years[1].group()) else 1
            return sides[early if lower & _EARLY else 1 - early]
        return None
    if lower & (_MORE | _LESS):
        nums = [_NUMBER.search(v) for v in values]
        if all(nums) and nums[0] and nums[1]:
            a, b = (float(n.group().replace(",", "")) for n in (nums[0], nums[1]))
            if a != b:
                big = 0 if a > b else 1
                return sides[big if lower & _MORE else 1 - big]
    return None


def _compare(
    kb: KnowledgeBase,
    info: QuestionInfo,
    comp: Comparison,
    *,
    collections: Sequence[str],
    spans: SpanSource,
    reader: SentenceReader | None,
    model: SupportModel,
    threshold: float,
    chunks: dict[tuple[int, int], str],
    evidence: Sequence[Evidence],
) -> Answer | None:
    """The comparison answer when the two sides' sentences, read together, reach the
    single-hop threshold (``comparison_bar``)."""
    found = _comparison(kb, info, comp, collections=collections, spans=spans)
    if found is None:
        return None
    answer, pair = found
    scored = score_pairs(
        info, [pair], reader=reader, model=model, chunk_texts=chunks, others=evidence
    )[0]
    if scored.support < comparison_bar(threshold):
        return None
    return replace(answer, support=scored.support, threshold=threshold)


def _comparison(
    kb: KnowledgeBase,
    info: QuestionInfo,
    comp: Comparison,
    *,
    collections: Sequence[str],
    spans: SpanSource,
) -> tuple[Answer, HopPair] | None:
    """The comparison answer and the pair of sentences it rests on (unchecked)."""
    a, b = comp.sides
    got = [
        _side_evidence(kb, info, a, b, collections=collections, spans=spans),
        _side_evidence(kb, info, b, a, collections=collections, spans=spans),
    ]
    if got[0] is None or got[1] is None or got[0][0] == got[1][0]:
        return None
    (ev_a, val_a), (ev_b, val_b) = got[0], got[1]
    kind = "two-hop-comparison"
    if comp.both:
        terms = stems(info.text) - stems(a) - stems(b) - {"both", "same", "are", "were", "the"}
        key = {t.stem for t in info.terms if t.stem in terms}
        if not key or not all(key <= stems(ev.text) | stems(ev.title or "") for ev in (ev_a, ev_b)):
            return None
        yes = _two_cited(info, ev_a, ev_b, None, short="yes", lines=["yes [1][2]"], reason=kind)
        return yes, HopPair(ev_a, None, ev_b, None, 1.0)
    if val_a is None or val_b is None:  # no value to compare: each side's sentence, no verdict
        lines = [f"{a} [1]; {b} [2]"]
        some = _two_cited(info, ev_a, ev_b, None, short=None, lines=lines, reason=kind)
        return some, HopPair(ev_a, None, ev_b, val_a or val_b, 0.0)
    win = _winner(info, (a, b), [val_a.text, val_b.text])
    lines = [f"{a}: {val_a.text} [1]; {b}: {val_b.text} [2]"]
    if win is not None:
        lines.insert(0, f"{win} [{1 if win == a else 2}]")
    both = _two_cited(info, ev_a, ev_b, None, short=win, lines=lines, reason=kind)
    return both, HopPair(ev_a, None, ev_b, val_b if win == b else val_a, 1.0)


# -- building the answer ------------------------------------------------------------------
def _two_cited(
    info: QuestionInfo,
    one: Evidence,
    two: Evidence,
    bridge: str | None,
    *,
    short: str | None,
    lines: list[str],
    reason: str,
    support: float = 0.0,
    threshold: float = 0.0,
) -> Answer:
    cites = (_citation(1, one, hop=1), _citation(2, two, hop=2))
    text = "\n".join([*lines, *(f"\u201c{c.quote}\u201d [{c.n}]" for c in cites)])
    return Answer(
        question=info.text,
        text=text,
        short_answer=short,
        abstained=False,
        citations=cites,
        support=support,
        threshold=threshold,
        reason=reason,
        chain=(HopLink(from_n=1, bridge=bridge, to_n=2),),
    )


def _citation(n: int, ev: Evidence, *, hop: int) -> Citation:
    from cairn.answer.ask import citation  # ask imports this module

    return replace(citation(n, ev), hop=hop)


def _without(text: str, part: str) -> str:
    out = re.sub(re.escape(part), " ", text, flags=re.IGNORECASE)
    out = " ".join(out.split())
    return out if any(stem(w) for w in re.findall(r"\w+", out)) else text
