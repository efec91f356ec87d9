"""Two-hop evidence (answer/two_hop.py): a bridge entity, a comparison, and abstention."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from cairn.answer import Answer, ask
from cairn.answer.span import RuleSpans
from cairn.answer.two_hop import BRIDGE_SUPPORT, comparison_sides
from cairn.answer.verify import SupportModel
from cairn.knowledge import KnowledgeBase
from helpers import FIXED_SUPPORT, fake_kb

DOCS = {
    "nora_quill.txt": (
        "Nora Quill is an actress from Galway. In 1998 Nora Quill starred in Harbour Lights, "
        "a drama about a lighthouse keeper."
    ),
    "harbour_lights.txt": (
        "Harbour Lights was directed by Tomas Brenner. The crew shot it on the west coast."
    ),
    "ada_vell.txt": "Ada Vell is a singer. Ada Vell starred in Night Ferry as a young sailor.",
    "old_harbour.txt": "The Old Harbour Lighthouse was built in 1874 on the northern pier.",
    "grey_point.txt": "The Grey Point Lighthouse was built in 1902 on the southern cliffs.",
}


class KeywordReader:
    """A deterministic reader: logit 2 when the passage holds a word of the question's verb
    ("directed"), else -3 (a real SentenceReader: question + passages -> logits)."""

    def __init__(self, word: str = "directed") -> None:
        self.word = word

    def logits(self, question: str, passages: Sequence[str]) -> np.ndarray:
        return np.array([2.0 if self.word in p else -3.0 for p in passages], dtype=np.float32)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return fake_kb(tmp_path_factory.mktemp("twohop"), DOCS)


def _ask(kb: KnowledgeBase, q: str, **kw: object) -> Answer:
    kw.setdefault("reader", KeywordReader())
    kw.setdefault("two_hop", True)
    kw.setdefault("model", FIXED_SUPPORT)
    return ask(kb, q, spans=RuleSpans(), **kw)  # type: ignore[arg-type]


def _exact(kb: KnowledgeBase, a: Answer) -> None:
    for c in a.citations:
        assert kb.document_text(c.document_id)[c.start : c.end] == c.quote


def test_bridge_answer_cites_both_hops(kb: KnowledgeBase) -> None:
    a = _ask(kb, "Who directed the film in which Nora Quill starred?", explain=True)
    assert not a.abstained
    assert a.short_answer == "Tomas Brenner"
    assert [c.hop for c in a.citations] == [1, 2]
    hop1, hop2 = a.citations
    assert "Nora Quill starred in Harbour Lights" in hop1.quote
    assert hop2.quote == "Harbour Lights was directed by Tomas Brenner."
    assert hop1.document_id != hop2.document_id
    _exact(kb, a)
    assert len(a.chain) == 1 and a.chain[0].bridge == "Harbour Lights"
    d = a.to_dict()
    assert d["chain"] == [{"from_n": 1, "bridge": "Harbour Lights", "to_n": 2}]
    assert [c["hop"] for c in d["citations"]] == [1, 2]
    assert a.text.splitlines()[0] == "Tomas Brenner [2]"


def test_single_hop_switch_keeps_the_old_answer(kb: KnowledgeBase) -> None:
    a = _ask(kb, "Who directed the film in which Nora Quill starred?", two_hop=False)
    assert not a.chain
    assert all(c.hop == 0 for c in a.citations)


def test_two_hop_is_the_default(kb: KnowledgeBase) -> None:
    """On by default since the second hop faces the support check (bench/twohop_squad.py:
    no rise in answered unanswerable questions); ``two_hop=False`` turns it off."""
    q = "Who directed the film in which Nora Quill starred?"
    plain = ask(kb, q, spans=RuleSpans(), model=FIXED_SUPPORT, reader=KeywordReader())  # type: ignore[arg-type]
    assert plain.short_answer == "Tomas Brenner" and [c.hop for c in plain.citations] == [1, 2]
    off = _ask(kb, q, two_hop=False)
    assert not off.chain and off.short_answer != "Tomas Brenner"


def test_abstains_when_the_second_hop_is_missing(kb: KnowledgeBase) -> None:
    # Ada Vell starred in Night Ferry, but no document says when Night Ferry came out.
    a = _ask(
        kb, "When was the film in which Ada Vell starred as a young sailor released?", explain=True
    )
    assert a.abstained
    assert not a.chain
    assert a.short_answer is None
    assert a.reason == "low-support"
    assert any(c.evidence.doc_key == "ada_vell.txt" for c in a.candidates[:2])  # first hop


def test_a_two_hop_answer_needs_joint_support(kb: KnowledgeBase) -> None:
    """The second hop faces the single-hop support model, read over both sentences: here
    support comes from the reader (which reads the two hops together) and the question's
    words; the pair needs ``BRIDGE_SUPPORT``."""
    worded = SupportModel({"reader": 4.0, "overlap": 2.0}, bias=-2.0, threshold=0.5)
    q = "Who directed the film in which Nora Quill starred?"
    # The pair says "directed" and names Nora Quill; the director's sentence alone falls
    # short of the threshold: the two-hop answer, at its joint support.
    b = _ask(kb, q, reader=KeywordReader("directed"), model=worded, explain=True)
    assert b.short_answer == "Tomas Brenner" and [c.hop for c in b.citations] == [1, 2]
    assert b.support >= BRIDGE_SUPPORT and b.threshold == worded.threshold
    assert b.candidates[0].support < worded.threshold
    # The reader finds nothing in either hop: the same pair falls below the bar, no answer.
    c = _ask(kb, q, reader=KeywordReader("zzz"), model=worded)
    assert c.abstained and not c.chain


def test_a_second_hop_leads_to_another_document_not_another_part(tmp_path: Path) -> None:
    """Paragraphs that share a title are parts of one article: the sentence after the first
    hop's is not a second hop (SQuAD's single-paragraph questions), another topic is."""
    first = "In 1998 Nora Quill starred in Harbour Lights, a drama about a lighthouse keeper."
    second = "Harbour Lights was directed by Tomas Brenner."
    rows = [("nq-1", "Nora Quill", first), ("nq-2", "Nora Quill", second)]
    (tmp_path / "same").mkdir()
    (tmp_path / "other").mkdir()
    same = fake_kb(tmp_path / "same", {"nq.jsonl": _jsonl(rows)})
    other = fake_kb(
        tmp_path / "other", {"nq.jsonl": _jsonl([rows[0], ("hl", "Harbour Lights", second)])}
    )
    q = "Who directed the film in which Nora Quill starred?"
    try:
        assert not _ask(same, q, reader=KeywordReader("zzz")).chain
        assert _ask(other, q, reader=KeywordReader("zzz")).short_answer == "Tomas Brenner"
    finally:
        same.close()
        other.close()


def _jsonl(rows: Sequence[tuple[str, str, str]]) -> str:
    return "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in rows)


def test_comparison_cites_each_side_with_its_value(kb: KnowledgeBase) -> None:
    q = "Which lighthouse is older, the Old Harbour Lighthouse or the Grey Point Lighthouse?"
    a = _ask(kb, q)
    assert not a.abstained
    assert a.short_answer == "Old Harbour Lighthouse"
    assert [c.hop for c in a.citations] == [1, 2]
    assert "1874" in a.citations[0].quote and "1902" in a.citations[1].quote
    assert "Old Harbour Lighthouse: 1874 [1]; Grey Point Lighthouse: 1902 [2]" in a.text
    assert a.chain[0].bridge is None
    _exact(kb, a)
    newer = _ask(kb, q.replace("older", "newer"))
    assert newer.short_answer == "Grey Point Lighthouse"


def test_comparison_side_missing_gives_no_two_hop_answer(kb: KnowledgeBase) -> None:
    a = _ask(kb, "Which lighthouse is older, the Old Harbour Lighthouse or the Zed Lighthouse?")
    assert not a.chain


@pytest.mark.parametrize(
    ("question", "sides", "both"),
    [
        ("Which is older, the Old Harbour Lighthouse or Grey Point?", ("Old Harbour Lighthouse", "Grey Point"), False),  # noqa: E501
        ("Between Greyia and Calibanus, which genus contains more species?", ("Greyia", "Calibanus"), False),  # noqa: E501
        ("Are Dogo Cubano and the Dutch Shepherd both breeds of dog?", ("Dogo Cubano", "Dutch Shepherd"), True),  # noqa: E501
        ("Who directed the film in which Nora Quill starred?", None, False),
    ],
)  # fmt: skip
def test_comparison_sides(question: str, sides: tuple[str, str] | None, both: bool) -> None:
    got = comparison_sides(question)
    if sides is None:
        assert got is None
    else:
        assert got is not None and got.sides == sides and got.both is both


def test_cli_explain_shows_the_chain(kb: KnowledgeBase, tmp_path: Path) -> None:
    from cairn.cli.answer_commands import print_answer
    from cairn.cli.common import console

    a = _ask(kb, "Who directed the film in which Nora Quill starred?", explain=True)
    with console.capture() as cap:
        print_answer(a, explain=True)
    out = cap.get()
    assert "hop 1 [1]" in out and "bridge 'Harbour Lights'" in out and "hop 2 [2]" in out
