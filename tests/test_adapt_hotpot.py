"""cairn_eval.adapt_hotpot: the HotpotQA collection, the absent-entity questions (the collection
cannot answer them), and abstention counted per kind of unanswerable question."""

from __future__ import annotations

import json
from pathlib import Path

from cairn.answer.types import Candidate, Evidence
from cairn.answer.verify import SupportModel
from cairn_eval import adapt_hotpot as hp
from cairn_eval.qa import Outcome, QAItem

DATA = [
    {
        "question": "Which year was the university where Tokarev taught founded?",
        "answer": "1755",
        "evidence": [
            "Sergei Tokarev | Sergei Tokarev was a professor at Moscow State University.",
            "Moscow State University | It was founded on January 25, 1755 by Mikhail Lomonosov.",
        ],
    },
    {
        "question": "Who founded Moscow State University?",
        "answer": "Mikhail Lomonosov",
        "evidence": [
            "Moscow State University | It was founded on January 25, 1755 by Mikhail Lomonosov.",
            "Moscow State University | It is in Moscow.",
        ],
    },
    # later examples: only the last one is about entities the collection never names
    {
        "question": "What river flows through Moscow State University's city?",
        "answer": "Moskva",
        "evidence": ["Moscow State University | It is in Moscow."],
    },
    {
        "question": "Where was Lomonosov Ridge named after?",
        "answer": "Mikhail Lomonosov",
        "evidence": ["Lomonosov Ridge | The Lomonosov Ridge is an underwater ridge."],
    },
    {
        "question": "In which country is the Atacama Desert?",
        "answer": "Chile",
        "evidence": ["Atacama Desert | The Atacama Desert is a desert plateau in Chile."],
    },
]


def test_collection_is_one_document_per_title_without_repeats(tmp_path: Path) -> None:
    docs = hp.collection_docs(DATA[:2])
    assert list(docs) == ["Sergei Tokarev", "Moscow State University"]
    assert docs["Moscow State University"] == (
        "It was founded on January 25, 1755 by Mikhail Lomonosov. It is in Moscow."
    )
    path = hp.write_collection(docs, tmp_path / "c" / "hotpot.jsonl")
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert rows[1]["_id"] == rows[1]["title"] == "Moscow State University"


def test_absent_entity_questions_are_about_nothing_the_collection_names() -> None:
    docs = hp.collection_docs(DATA[:2])
    absent = hp.absent_entity_questions(DATA[2:], docs, n=10)
    # a title of the collection, and a title whose name (Lomonosov ... Ridge) is not in the
    # text but whose answer is, are both left out; only the Atacama question is absent
    assert [a.question for a in absent] == ["In which country is the Atacama Desert?"]
    assert all(not a.answerable and a.answer_start is None for a in absent)
    assert len(hp.absent_entity_questions(DATA[2:] * 5, docs, n=2)) == 2


def _outcome(qid: str, answerable: bool, logit: float) -> Outcome:
    ev = Evidence(
        document_id=0, doc_key="d", title=None, source="s", license=None, start=0, end=1,
        text="x", hit_rank=1, hit_score=1.0, cosine=0.0, overlap=0.0, context_overlap=0.0,
        score=0.0,
    )  # fmt: skip
    item = QAItem(qid, "q?", "", "d", (("x", 0),) if answerable else ())
    cand = Candidate(ev, None, None, None, None, 0.0, {"overlap": logit})
    return Outcome(item, [cand], [answerable], 1.0)


def test_abstention_is_counted_per_kind_of_unanswerable_question() -> None:
    model = SupportModel({"overlap": 1.0}, 0.0, 0.5)  # answers when the logit is >= 0
    outs = [
        _outcome("q0", True, 3.0),  # answerable: not counted
        _outcome("q1", False, -2.0),  # negation, abstained
        _outcome("q2", False, 2.0),  # negation, answered
        _outcome("absent7", False, -1.0),  # absent entity, abstained
        Outcome(QAItem("q3", "q?", "", "d", ()), [], [], 1.0),  # no candidate: abstained
    ]
    edits = {"q1": "negation", "q2": "negation", "absent7": "absent entity", "q3": "antonym"}
    assert hp.by_edit(outs, edits, model) == {
        "absent entity": "1/1",
        "antonym": "1/1",
        "negation": "1/2",
    }
