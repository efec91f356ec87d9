"""chat: follow-up rewriting (symbolic rules), cited turns, transcripts, and the CLI."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cairn.answer.chat import ChatSession, main_entity, rewrite
from cairn.answer.span import RuleSpans
from cairn.answer.types import Answer
from cairn.cli import answer_commands
from cairn.knowledge import KnowledgeBase
from cairn.models.llm import FakeLLM
from helpers import FIXED_SUPPORT, fake_kb

DOCS = {
    "lighthouse.txt": (
        "The Old Harbour Lighthouse stands on the northern pier.\n\n"
        "It was built in 1874 by the engineer Margaret Hale. The tower is 31 metres tall "
        "and its lamp can be seen from 40 kilometres away."
    ),
    "hale.txt": "Margaret Hale was born in 1841 in Bristol. She trained as a civil engineer.",
    "bakery.txt": "Rosa's Bakery opened on Mill Street in 1992. It sells sourdough bread.",
}
ask_mod = importlib.import_module("cairn.answer.ask")  # the module (the package exports ask())
MODEL = FIXED_SUPPORT


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    root = tmp_path_factory.mktemp("chat")
    base = fake_kb(root, DOCS)
    yield base
    base.close()


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        # pronouns -> the main entity of the previous query
        (
            "How tall is it?",
            "When was the Old Harbour Lighthouse built?",
            "How tall is the Old Harbour Lighthouse?",
        ),
        (
            "What is its height?",
            "When was the Old Harbour Lighthouse built?",
            "What is the Old Harbour Lighthouse's height?",
        ),
        ("What does it sell?", "When did Rosa's Bakery open?", "What does Rosa's Bakery sell?"),
        ("How tall is it?", "When was the lighthouse built?", "How tall is the lighthouse?"),
        ("Where was their capital?", "Who were the Normans?", "Where was the Normans' capital?"),
        (
            "When was this built?",
            "Tell me about the Eiffel Tower",
            "When was the Eiffel Tower built?",
        ),
        ("And when did it close?", "When did Rosa's Bakery open?", "When did Rosa's Bakery close?"),
        # elliptical follow-ups -> the previous query with the slot swapped in or appended
        (
            "and what about in 2019?",
            "How many people lived in Warsaw in 2010?",
            "How many people lived in Warsaw in 2019?",
        ),
        ("and in France?", "How many bakeries are in Paris?", "How many bakeries are in France?"),
        (
            "and in France?",
            "How many people lived in Warsaw in 2010?",
            "How many people lived in France in 2010?",
        ),
        (
            "What about 2019?",
            "What was the population of Warsaw in 2010?",
            "What was the population of Warsaw in 2019?",
        ),
        ("and in 1990?", "When did Rosa's Bakery open?", "When did Rosa's Bakery open in 1990?"),
        ("What about the bakery?", "When was the lighthouse built?", "When was the bakery built?"),
        ("and Krakow?", "How many people live in Warsaw?", "How many people live in Krakow?"),
        # self-contained questions are left alone
        (
            "When did Rosa's Bakery open?",
            "How tall is the lighthouse?",
            "When did Rosa's Bakery open?",
        ),
    ],
)
def test_rewrite_rules(question: str, previous: str, expected: str) -> None:
    assert rewrite(question, previous) == expected


def test_rewrite_first_turn_and_person_pronouns() -> None:
    assert rewrite("How tall is it?", None) == "How tall is it?"
    who = Answer("Who built the lighthouse?", "Margaret Hale [1]", "Margaret Hale", False, ())
    assert rewrite("When was she born?", "Who built the lighthouse?", who) == (
        "When was Margaret Hale born?"
    )
    assert rewrite("Where did her career start?", "Who built the lighthouse?", who) == (
        "Where did Margaret Hale's career start?"
    )
    assert main_entity("What is the boiling point of mercury?") == "the boiling point"
    assert main_entity("how are you") is None


def _session(kb: KnowledgeBase, **kw: object) -> ChatSession:
    return ChatSession(kb, spans=RuleSpans(), model=MODEL, **kw)  # type: ignore[arg-type]


def test_session_follow_ups_cite(kb: KnowledgeBase, tmp_path: Path) -> None:
    chat = _session(kb, collections=["town"])
    first = chat.ask("Who was the engineer that built the Old Harbour Lighthouse?")
    assert first.answer.short_answer == "Margaret Hale" and not first.rewritten
    second = chat.ask("When was she born?")
    assert second.query == "When was Margaret Hale born?"
    assert second.answer.short_answer == "1841"
    third = chat.ask("and in 1874?")
    assert third.rewritten and third.query == "When was Margaret Hale born in 1874?"
    for turn in chat.turns:
        a = turn.answer
        assert a.citations, turn  # every turn cites (an answer or the closest sources)
        for c in a.citations:
            assert kb.document_text(c.document_id)[c.start : c.end] == c.quote
    path = chat.save(tmp_path / "out" / "chat.json")
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert [t["question"] for t in saved["turns"]] == [
        "Who was the engineer that built the Old Harbour Lighthouse?",
        "When was she born?",
        "and in 1874?",
    ]
    assert saved["turns"][1]["query"] == "When was Margaret Hale born?"
    assert saved["turns"][1]["rewritten"] is True
    assert saved["turns"][1]["citations"][0]["quote"].startswith("Margaret Hale was born")
    assert saved["collections"] == ["town"] and saved["llm"] is None


def test_session_with_llm(kb: KnowledgeBase) -> None:
    fake = FakeLLM(
        json.dumps({"sentences": [{"text": "Margaret Hale was born in 1841.", "cites": [1]}]})
    )
    chat = _session(kb, llm=fake)
    turn = chat.ask("When was Margaret Hale born?")
    assert turn.answer.mode == "generative"
    assert turn.answer.text == "Margaret Hale was born in 1841. [1]"
    assert chat.transcript()["llm"] == "fake"


def _app() -> typer.Typer:
    app = typer.Typer()
    answer_commands.register(app)
    return app


def test_cli_chat_reads_stdin_and_saves(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answer_commands, "open_kb", lambda _path: nullcontext(kb))
    monkeypatch.setattr(ask_mod, "default_model", lambda: MODEL)
    monkeypatch.setattr(ask_mod, "default_spans", RuleSpans)
    out = tmp_path / "t.json"
    r = CliRunner().invoke(
        _app(),
        ["chat", "--save", str(out)],
        input="When was the Old Harbour Lighthouse built?\n\nHow tall is it?\n/quit\nignored?\n",
    )
    assert r.exit_code == 0, r.output
    assert "1874" in r.output and "» How tall is the Old Harbour Lighthouse?" in r.output
    assert "licence CC-BY-4.0" in r.output
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert [t["query"] for t in saved["turns"]] == [
        "When was the Old Harbour Lighthouse built?",
        "How tall is the Old Harbour Lighthouse?",
    ]
    r = CliRunner().invoke(_app(), ["chat", "--json"], input="\nWhen did Rosa's Bakery open?\n")
    assert r.exit_code == 0, r.output
    line = json.loads(r.output.strip().splitlines()[-1])
    assert line["short_answer"] == "1992" and line["citations"]
    r = CliRunner().invoke(_app(), ["chat"], input=("x" * 2000) + "\n")
    assert r.exit_code == 0 and "limit is 1,000" in r.output
