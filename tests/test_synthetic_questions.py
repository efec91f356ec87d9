"""Synthetic questions: answer spans known by construction, look-alikes by SQuAD 2.0's edits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cairn
from cairn.cli import app
from cairn.synthetic import wordnet
from cairn.synthetic.dataset import SourceText, build_pairs, read_jsonl, write_jsonl

# Two lines in WordNet 3.0's data.adj format: "able" and "unable" point at each other (!).
DATA_ADJ = (
    "  1 This software and database is being provided to you, the LICENSEE, by\n"
    "00001740 00 a 01 able 0 001 ! 00002098 a 0101 | having the means\n"
    "00002098 00 a 01 unable 0 001 ! 00001740 a 0101 | not having the means\n"
    "00002312 00 a 02 abaxial 0 dorsal 4 000 | facing away from the axis\n"
)


def test_wordnet_reader_on_the_debian_format(tmp_path: Path) -> None:
    (tmp_path / "data.adj").write_text(DATA_ADJ, encoding="utf-8")
    table = wordnet.antonym_table(tmp_path)
    assert table["able"] == ("unable",) and table["unable"] == ("able",)
    assert "abaxial" not in table
    assert wordnet.available(tmp_path) and not wordnet.available(tmp_path / "none")


@pytest.mark.skipif(not wordnet.available(), reason="Debian wordnet-base is not installed")
def test_real_wordnet_antonyms() -> None:
    assert "old" in wordnet.antonyms("new")
    assert "small" in wordnet.antonyms("large")


# Wikipedia sentences (CC BY-SA 4.0) as HotpotQA quotes them, plus the notes of issue 13.
TEXT = (
    "Sedio acquired 200,000 shares for 50,000 dlrs. "
    "James Watt patented an improved steam engine in 1769. "
    "The university was founded in 1899 by Mary Hill. "
    "The Normans built castles in Sicily. "
    "Moon trees are trees grown from seeds taken into orbit by Stuart Roosa. "
    "The new engine used less coal. "
    "It was founded on January 25, 1755 by Mikhail Lomonosov."
)


@pytest.fixture(scope="module")
def pairs() -> list:  # type: ignore[type-arg]
    return build_pairs([SourceText(TEXT, "notes.txt", "notes")], seed=1)


@pytest.mark.integration
def test_answer_spans_are_known_by_construction(pairs: list) -> None:  # type: ignore[type-arg]
    answerable = [p for p in pairs if p.answerable]
    got = {(p.question, p.answer) for p in answerable}
    assert ("Who patented an improved steam engine?", "James Watt") in got
    assert ("When did James Watt patent an improved steam engine?", "1769") in got
    assert ("How many shares did Sedio acquire?", "200,000") in got
    assert ("Who was the university founded by?", "Mary Hill") in got
    assert ("When was the university founded?", "1899") in got
    assert ("Where did the Normans build castles?", "Sicily") in got
    assert any(p.kind == "how much" and p.answer == "50,000 dlrs" for p in answerable)
    # a pronoun subject would leave the question without its subject ("Who was it founded by?")
    assert not any(re.search(r"\b[Ii]t\b", p.question) for p in pairs)
    for p in answerable:
        assert p.sentence[p.answer_start : p.answer_end] == p.answer
        assert TEXT[p.start : p.end] == p.sentence
        assert p.source == "notes.txt" and p.doc_key == "notes"


@pytest.mark.integration
def test_lookalikes_cover_squads_edits(pairs: list) -> None:  # type: ignore[type-arg]
    edits = {p.edit for p in pairs if not p.answerable}
    assert {"entity-swap", "number-change", "negation", "role-swap", "neighbour"} <= edits
    if wordnet.available():
        assert "antonym" in edits
        assert any(p.question == "What did the old engine use?" for p in pairs)
    origins = {p.question for p in pairs if p.answerable}
    for p in pairs:
        if p.answerable:
            continue
        assert p.answer is None and p.origin in origins
        if p.edit == "neighbour":
            assert p.question == p.origin and p.sentence != TEXT[p.start : p.end]
        else:
            assert p.question != p.origin and p.sentence == TEXT[p.start : p.end]
    assert "Who did not patent an improved steam engine?" in {p.question for p in pairs}
    # the swapped name comes from the collection, never from the sentence itself
    for p in pairs:
        if p.edit == "entity-swap":
            assert p.question != p.origin


@pytest.mark.integration
def test_jsonl_round_trip(pairs: list, tmp_path: Path) -> None:  # type: ignore[type-arg]
    path = write_jsonl(pairs, tmp_path / "q.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(pairs)
    assert json.loads(lines[0])["sentence"]
    assert read_jsonl(path) == pairs


@pytest.mark.integration
def test_cli_questions_from_a_collection(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text(TEXT, encoding="utf-8")
    kb_path = tmp_path / "kb.sqlite"
    with cairn.open(kb_path) as kb:
        kb.ingest([tmp_path / "notes.txt"], graph=False, collection="notes")
    out = tmp_path / "q.jsonl"
    runner = CliRunner()
    r = runner.invoke(app, ["questions", "--kb", str(kb_path), "-c", "notes", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "answerable" in r.output
    assert any(p.answerable for p in read_jsonl(out))
    bad = runner.invoke(app, ["questions", "--kb", str(kb_path), "-c", "nope", "--out", str(out)])
    assert bad.exit_code != 0 and "no collection named 'nope'" in bad.output
