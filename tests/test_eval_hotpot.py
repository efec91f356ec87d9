"""cairn_eval.hotpot: pooled evidence sentences in a real SQLite KB, the answer string checked
against what ``ask`` cites (deterministic hashing embedder, rule spans, fixed weights)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import cairn
from cairn.answer.span import RuleSpans
from cairn.cli import eval_commands
from cairn.errors import ConfigError
from cairn.models.embed import HashingEmbedder
from cairn_eval.hotpot import contains_answer, load_hotpot, run_hotpot_eval, write_corpus
from helpers import FIXED_SUPPORT

QUESTIONS = [
    {
        "question": "When was the Old Harbour Lighthouse built?",
        "answer": "1874",
        "evidence": [
            "Old Harbour Lighthouse | The Old Harbour Lighthouse stands on the northern pier.",
            "Old Harbour Lighthouse | The Old Harbour Lighthouse was built in 1874.",
            "Margaret Hale | Margaret Hale was an engineer.",
        ],
        "type": "bridge",
        "level": "hard",
    },
    {
        "question": "Are Rosa's Bakery and the Old Harbour Lighthouse on the same street?",
        "answer": "no",
        "evidence": [
            "Rosa's Bakery | Rosa's Bakery opened on Mill Street in 1992.",
            "Old Harbour Lighthouse | The Old Harbour Lighthouse stands on the northern pier.",
        ],
        "type": "comparison",
        "level": "hard",
    },
    {
        "question": "What is the boiling point of mercury in kelvin?",
        "answer": "629.88 K",
        "evidence": ["Mercury | Mercury is a heavy metal."],
        "type": "bridge",
        "level": "hard",
    },
]


@pytest.fixture()
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    ask_mod = importlib.import_module("cairn.answer.ask")
    monkeypatch.setattr(ask_mod, "default_model", lambda: FIXED_SUPPORT)
    monkeypatch.setattr(ask_mod, "default_spans", RuleSpans)
    path = tmp_path / "test.json"
    path.write_text(json.dumps(QUESTIONS), encoding="utf-8")
    return path


def test_contains_answer() -> None:
    assert contains_answer("It was built in 1874 by Hale.", "1874")
    assert contains_answer("Founded by The Beatles.", "beatles")
    assert not contains_answer("It was built in 18745.", "1874")
    assert not contains_answer("anything", "")


def test_corpus_pools_sentences_per_title(data: Path, tmp_path: Path) -> None:
    items = load_hotpot(data)
    assert [i.yes_no for i in items] == [False, True, False]
    path = write_corpus(items, tmp_path / "c" / "hotpot.jsonl")
    docs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [d["_id"] for d in docs] == [
        "Old Harbour Lighthouse",
        "Margaret Hale",
        "Rosa's Bakery",
        "Mercury",
    ]
    assert docs[0]["text"] == (
        "The Old Harbour Lighthouse stands on the northern pier. "
        "The Old Harbour Lighthouse was built in 1874."
    )
    mtime = path.stat().st_mtime_ns
    write_corpus(items, path)  # unchanged content: the file is not rewritten
    assert path.stat().st_mtime_ns == mtime


def test_run_hotpot_eval(data: Path, tmp_path: Path) -> None:
    kb = cairn.open(tmp_path / "kb.sqlite", embedder=HashingEmbedder())
    rep = run_hotpot_eval(kb, data=data, corpus=tmp_path / "c.jsonl", progress=False)
    kb.close()
    assert rep["questions"] == 3 and rep["span_questions"] == 2 and rep["yes_no_questions"] == 1
    assert rep["documents"] == 4 and rep["sentences"] == 5
    # The lighthouse question is answered from the sentence holding 1874; mercury abstains.
    assert rep["span"]["precision_answer_in_cited"] == 1.0
    assert rep["span"]["answer_in_cited_all"] == 0.5
    assert rep["answered"] + rep["abstained"] == 1.0
    assert rep["answer_in_cited_all"] == round(1 / 3, 4)
    assert rep["span"]["ceiling_answer_in_top_k_passages"] == 0.5
    assert rep["latency_ms"]["n"] == 3
    kb = cairn.open(tmp_path / "kb.sqlite", embedder=HashingEmbedder())
    one = run_hotpot_eval(kb, data=data, corpus=tmp_path / "c.jsonl", limit=1, progress=False)
    kb.close()
    # Only the first question is asked, but every question's evidence is in the KB.
    assert one["questions"] == 1 and one["documents"] == 4 and one["answered"] == 1.0


def test_bad_data(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no HotpotQA file"):
        load_hotpot(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"question": "q", "answer": "a", "evidence": ["no bar"]}]))
    with pytest.raises(ConfigError, match="question 0"):
        load_hotpot(bad)
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not JSON"):
        load_hotpot(bad)


def test_cli_eval_hotpot(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cairn import knowledge

    real_open = knowledge.open_kb

    def open_kb(path: str | Path) -> knowledge.KnowledgeBase:
        return real_open(path, embedder=HashingEmbedder())

    monkeypatch.setattr(knowledge, "open_kb", open_kb)
    app = typer.Typer()
    eval_commands.register(app)
    app.command("noop")(lambda: None)
    out = tmp_path / "r.json"
    args = ["eval", "hotpot", "--data", str(data), "--kb", str(tmp_path / "k.sqlite")]
    r = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "answer in cited evidence" in r.output and "abstained" in r.output
    assert json.loads(out.read_text())["questions"] == 3
    r = CliRunner().invoke(app, ["eval", "hotpot", "--data", str(tmp_path / "none.json")])
    assert r.exit_code != 0 and "no HotpotQA file" in r.output


def test_halves_and_single_hop_peer(data: Path, tmp_path: Path) -> None:
    kb = cairn.open(tmp_path / "kb.sqlite", embedder=HashingEmbedder())
    odd = run_hotpot_eval(kb, data=data, corpus=tmp_path / "c.jsonl", half="odd", progress=False)
    even = run_hotpot_eval(kb, data=data, corpus=tmp_path / "c.jsonl", half="even", progress=False)
    with pytest.raises(ConfigError, match="half 'first'"):
        run_hotpot_eval(kb, data=data, corpus=tmp_path / "c.jsonl", half="first", progress=False)
    kb.close()
    # Positions 0 and 2 are even (lighthouse, mercury); 1 is odd (the yes/no comparison).
    assert (even["questions"], odd["questions"]) == (2, 1)
    assert even["half"] == "even" and odd["yes_no_questions"] == 1
    peer = even["single_hop_peer"]
    assert peer["answered"] == 0.5 and peer["answer_in_cited_all"] == 0.5
    assert peer["latency_ms"]["n"] == 2
    assert 0.0 <= even["two_hop_answers"] <= 1.0
    # A shard: skip the first chosen question, one line of latencies per question asked.
    rows = tmp_path / "rows.jsonl"
    kb = cairn.open(tmp_path / "kb.sqlite", embedder=HashingEmbedder())
    shard = run_hotpot_eval(
        kb, data=data, corpus=tmp_path / "c.jsonl", half="even", offset=1, rows=rows,
        progress=False,
    )  # fmt: skip
    kb.close()
    lines = [json.loads(x) for x in rows.read_text().splitlines()]
    assert shard["questions"] == 1 and len(lines) == 1
    assert lines[0]["q"] == load_hotpot(data)[2].question and lines[0]["ms"] > 0
    # Every answer given is either a two-hop answer or a single-hop one given beside them.
    given = even["two_hop_answers"] + even["single_hop_answers_given"]
    assert even["answered"] == pytest.approx(given, abs=1e-4)
