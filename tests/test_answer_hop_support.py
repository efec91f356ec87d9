"""The second hop's support (answer/hop_support.py): joint reading, memoised spans."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from cairn.answer.hop_support import HopPair, MemoSpans, joint_passage, score_pairs
from cairn.answer.question import analyse
from cairn.answer.span import RuleSpans, SpanCandidate, SpanSource
from cairn.answer.types import Evidence
from cairn.answer.verify import SupportModel


def _ev(doc: int, title: str, text: str, *, cosine: float = 0.5, rank: int = 1) -> Evidence:
    return Evidence(
        document_id=doc, doc_key=f"d{doc}", title=title, source=f"/d{doc}.txt", license=None,
        start=0, end=len(text), text=text, hit_rank=rank, hit_score=1.0, cosine=cosine,
        overlap=0.0, context_overlap=0.0, score=0.6, chunk_start=0, chunk_end=len(text),
    )  # fmt: skip


class CountingSpans(SpanSource):
    name = "counting"

    def __init__(self) -> None:
        self.parsed: list[str] = []

    def candidates(self, sentences: Sequence[str]) -> list[list[SpanCandidate]]:
        self.parsed.extend(sentences)
        return RuleSpans().candidates(sentences)


class RecordingReader:
    """Logit 2 for passages holding ``word``, else -2; remembers what it read."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.read: list[str] = []

    def logits(self, question: str, passages: Sequence[str]) -> np.ndarray:
        self.read.extend(passages)
        return np.array([2.0 if self.word in p else -2.0 for p in passages], dtype=np.float32)


def test_memo_spans_parses_each_sentence_once() -> None:
    inner = CountingSpans()
    memo = MemoSpans(inner)
    a = memo.candidates(["Ada Vell sang in 1998.", "Tomas Brenner directed it."])
    b = memo.candidates(["Tomas Brenner directed it.", "Ada Vell sang in 1998.", "New one 2004."])
    assert inner.parsed == ["Ada Vell sang in 1998.", "Tomas Brenner directed it.", "New one 2004."]
    assert b[0] == a[1] and b[1] == a[0]
    assert [c.text for c in b[2]] == ["2004"]


ONE = _ev(1, "Nora Quill", "In 1998 Nora Quill starred in Harbour Lights.")
TWO = _ev(2, "Harbour Lights", "Harbour Lights was directed by Tomas Brenner.", rank=2)
WORDED = SupportModel({"reader": 4.0, "overlap": 2.0}, bias=-1.0, threshold=0.5)


def test_the_reader_reads_both_hops_with_their_titles() -> None:
    assert joint_passage(ONE, TWO) == (
        "Nora Quill. In 1998 Nora Quill starred in Harbour Lights. "
        "Harbour Lights. Harbour Lights was directed by Tomas Brenner."
    )


def test_support_is_the_single_hop_model_over_both_sentences() -> None:
    info = analyse("Who directed the film in which Nora Quill starred?")
    span = SpanCandidate("Tomas Brenner", "PROPN", 31, 44)
    pair = HopPair(ONE, "Harbour Lights", TWO, span)
    reader = RecordingReader("directed")
    [got] = score_pairs(info, [pair], reader=reader, model=WORDED, chunk_texts={})
    assert reader.read == [joint_passage(ONE, TWO)]
    # Overlap counts the question's words over both sentences (all but "film"), the reader's
    # logit is clipped and scaled as for a single hop (2 / 8), the rank is the first hop's.
    assert got.features["overlap"] > 0.8
    assert got.features["reader"] == 0.25 and got.features["top_hit"] == 1.0
    assert got.support == WORDED.score(got.features) > WORDED.threshold
    # The same pair when the reader finds nothing: below the threshold a single hop needs.
    [low] = score_pairs(info, [pair], reader=RecordingReader("zzz"), model=WORDED, chunk_texts={})
    assert low.support < WORDED.threshold


def test_pairs_come_back_best_first_and_rivals_exclude_both_documents() -> None:
    info = analyse("Who directed the film in which Nora Quill starred?")
    other = _ev(3, "Night Ferry", "Night Ferry was directed by Ana Roe.", rank=3)
    pairs = [HopPair(ONE, "Harbour Lights", other, None), HopPair(ONE, "Harbour Lights", TWO, None)]
    rival = _ev(4, "Elsewhere", "A rival sentence.", cosine=0.1)
    rival = replace(rival, score=0.9)
    got = score_pairs(
        info, pairs, reader=RecordingReader("Tomas"), model=WORDED, chunk_texts={},
        others=[rival, ONE, TWO],
    )  # fmt: skip
    assert [s.pair.second for s in got] == [TWO, other]
    assert (
        abs(got[0].features["margin"] + 0.3) < 1e-9
    )  # 0.6 - 0.9: documents 1 and 2 are not rivals
    assert score_pairs(info, [], reader=None, model=WORDED, chunk_texts={}) == []
