"""ask() and synthesize() with the real packaged MiniLM encoder and spaCy model."""

from __future__ import annotations

from pathlib import Path

import pytest

import cairn
from cairn.answer import ask
from cairn.answer.synthesize import synthesize

pytestmark = pytest.mark.integration

PARAGRAPHS = {
    "normans.txt": (
        "The Normans were the people who in the 10th and 11th centuries gave their name to "
        "Normandy, a region in France. They were descended from Norse raiders and pirates from "
        "Denmark, Iceland and Norway."
    ),
    "warsaw.txt": (
        "Warsaw is the capital and largest city of Poland. In 1939, about 1,300,000 people "
        "lived in Warsaw. The city stands on the Vistula River."
    ),
    "steam.txt": (
        "A steam engine is a heat engine that performs mechanical work using steam as its "
        "working fluid. James Watt patented an improved steam engine in 1769."
    ),
}


def test_real_models(tmp_path: Path) -> None:
    files = []
    for name, text in PARAGRAPHS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        files.append(tmp_path / name)
    with cairn.open(tmp_path / "kb.sqlite") as kb:
        kb.ingest(files, graph=False, license="CC-BY-SA-4.0")
        # (SQuAD's "In what country is Normandy located?" scores 0.36 here, below the 0.40
        # threshold fitted on the SQuAD fit articles, so it abstains: see docs/grounding.md.)
        a = ask(kb, "What city is the capital of Poland?")
        assert not a.abstained
        assert a.short_answer == "Warsaw"
        c = a.citations[0]
        assert kb.document_text(c.document_id)[c.start : c.end] == c.quote
        b = ask(kb, "In what year did James Watt patent his improved steam engine?")
        assert not b.abstained and b.short_answer == "1769"
        n = ask(kb, "What is the recommended dose of ibuprofen for children?")
        assert n.abstained
        s = synthesize(kb, "About 1,300,000 people lived in Warsaw in 1939.")
        assert s.counts["supports"] >= 1
        s2 = synthesize(kb, "About 500,000 people lived in Warsaw in 1939.")
        assert s2.counts["contradicts"] >= 1
