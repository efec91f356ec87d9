"""The learned short-answer choice: candidates, features, the ranker, its fit, its JSON."""

from __future__ import annotations

import json
from contextlib import nullcontext

import pytest
import typer
from typer.testing import CliRunner

import cairn
from cairn.answer.question import analyse
from cairn.answer.span import RuleSpans, SpanCandidate
from cairn.answer.span_rank import (
    FEATURES,
    WEIGHTS_PATH,
    SpanRanker,
    answer_key,
    expand,
    packaged_ranker,
    rank_features,
    shown_span,
)
from cairn.cli import answer_commands
from cairn_eval.qa import Squad
from cairn_eval.span_fit import (
    build_examples,
    choose_threshold,
    compare,
    fit_ranker,
    gold_sentences,
)
from helpers import notes_kb as make_notes_kb

SEDIO = "Sedio Corp said it acquired 200,000 shares of Bayfield Inc common stock for 50,000 dlrs."


def _c(sentence: str, text: str, label: str, **kw: object) -> SpanCandidate:
    start = sentence.index(text)
    return SpanCandidate(text, label, start, start + len(text), **kw)  # type: ignore[arg-type]


def test_expand_adds_trimmed_unit_joined_and_inner_spans() -> None:
    s = "The port bought the cranes of Liebherr and about 45 tonnes of steel in April 1991."
    cands = [
        _c(s, "the cranes", "NP"),
        _c(s, "Liebherr", "ORG"),
        _c(s, "about 45", "CARDINAL", unit="tonnes", unit_end=s.index(" of steel")),
        _c(s, "April 1991", "DATE"),
    ]
    got = {(c.text, kind) for c, kind in expand(s, cands)}
    assert ("cranes", "trim") in got  # no determiner
    assert ("45", "trim") in got  # no "about"
    assert ("about 45 tonnes", "unit") in got  # the number with the noun it counts
    assert ("the cranes of Liebherr", "join") in got
    assert ("1991", "sub") in got  # the year inside a date
    for c, _ in expand(s, cands):
        assert s[c.start : c.end] == c.text  # every span is verbatim
    assert len({(c.start, c.end) for c, _ in expand(s, cands)}) == len(expand(s, cands))


def test_money_question_never_ranks_a_share_count() -> None:
    cands = [
        _c(SEDIO, "200,000", "CARDINAL", unit="shares"),
        _c(SEDIO, "50,000", "CARDINAL", unit="dlrs", unit_end=SEDIO.index(".", -2)),
    ]
    ranked = rank_features(analyse("How much did Sedio pay for the Bayfield shares?"), SEDIO, cands)
    assert [r.span.text for r in ranked] == ["50,000 dlrs"]
    assert ranked[0].span.label == "MONEY"
    count = rank_features(analyse("How many shares did Sedio acquire?"), SEDIO, cands)
    assert "200,000" in [r.span.text for r in count]


def test_features_are_known_and_say_what_the_question_shares() -> None:
    s = "It was built in 1874 by the engineer Margaret Hale."
    cands = RuleSpans().candidates([s])[0]
    ranked = rank_features(analyse("When was the lighthouse built?"), s, cands)
    for r in ranked:
        assert set(r.features) <= set(FEATURES)
    year = next(r for r in ranked if r.span.text == "1874")
    assert year.features["date|time"] == 1.0 and year.features["in_question"] == 0.0
    hale = rank_features(analyse("Who is Margaret Hale?"), s, cands)
    assert next(r for r in hale if r.span.text == "Margaret Hale").features["in_question"] == 1.0


def test_ranker_shows_the_best_span_only_above_its_threshold() -> None:
    s = "It was built in 1874 by the engineer Margaret Hale."
    cands = RuleSpans().candidates([s])[0]
    info = analyse("When was the lighthouse built?")
    ranker = SpanRanker({"date|time": 4.0}, 0.0, 0.5)
    got, p = ranker.choose(info, s, cands)
    assert got is not None and got.text == "1874" and p > 0.5
    strict = SpanRanker({"date|time": 4.0}, 0.0, 0.99)
    assert strict.choose(info, s, cands)[0] is None  # the quote alone
    # "none" wins when its score is higher than every span's
    assert SpanRanker({"date|time": 1.0}, 6.0, 0.3).choose(info, s, cands)[0] is None
    again = SpanRanker.from_json(ranker.to_json())
    assert again.choose(info, s, cands)[0] == got


def test_spans_that_read_the_same_pool_their_probability() -> None:
    assert answer_key("The Duchy of Normandy.") == answer_key("duchy of Normandy")
    s = "The treaty named the Duchy of Normandy."
    cands = [_c(s, "the Duchy of Normandy", "NP"), _c(s, "The treaty", "NP")]
    ranker = SpanRanker({"kind:trim": 0.0}, 0.0, 0.5)  # all scores 0: "none" and 4 spans
    best, p = ranker.best(rank_features(analyse("What did the treaty name?"), s, cands))
    assert best is not None and answer_key(best.text) == "duchy of normandy"
    assert p == pytest.approx(0.4)  # 2 of the 5 equal shares read the same


def _toy_squad() -> Squad:
    text = "In 911, Rollo founded Normandy. The duchy was rich."
    squad = Squad(["A", "B"], [("A#0", "A", text), ("B#0", "B", text)])
    from cairn_eval.qa import QAItem

    squad.items = [
        QAItem("1", "When did Rollo found Normandy?", "A", "A#0", (("911", 3),)),
        QAItem("2", "Who founded Normandy?", "A", "A#0", (("Rollo", 8),)),
        QAItem("3", "Who founded Normandy?", "B", "B#0", (("Rollo", 8),)),
        QAItem("4", "What was rich?", "A", "A#0", ()),
    ]
    return squad


def test_gold_sentences_reads_only_the_articles_asked_for() -> None:
    rows = gold_sentences(_toy_squad(), ["A"])
    assert rows == [
        ("When did Rollo found Normandy?", "In 911, Rollo founded Normandy.", ("911",)),
        ("Who founded Normandy?", "In 911, Rollo founded Normandy.", ("Rollo",)),
    ]


def test_fit_learns_to_pick_the_gold_span_and_a_threshold() -> None:
    rows = gold_sentences(_toy_squad(), ["A"]) * 5
    examples = build_examples(rows, RuleSpans())
    weights, none = fit_ranker(examples, steps=300, lr=0.1)
    ranker = SpanRanker(weights, none, 0.0)
    thr = choose_threshold(ranker, examples)
    result = compare(SpanRanker(weights, none, thr), examples)
    assert result["learned"]["exact_match"] == 1.0
    assert result["ceiling_some_candidate_is_gold"] == 1.0


def test_packaged_weights_were_fitted_on_the_fit_articles_only() -> None:
    data = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
    assert data["features"] == list(FEATURES)
    assert 0.0 < data["threshold"] < 1.0
    assert "fit articles" in data["note"]
    for report_article in ("Yuan_dynasty", "Warsaw", "Force", "Immune_system"):
        assert report_article not in data["note"]
    assert packaged_ranker().threshold == data["threshold"]


NOTES = {
    "normans.txt": (
        "The Normans gave their name to Normandy, a region in France. "
        "The Duchy of Normandy was founded in 911 by Rollo, after the Treaty of "
        "Saint-Clair-sur-Epte with King Charles the Simple."
    ),
    "sedio.txt": SEDIO,
    "crane.txt": "The port ordered three new cranes. Each crane lifts up to 45 tonnes.",
}


@pytest.fixture(scope="module")
def notes_kb(tmp_path_factory: pytest.TempPathFactory) -> cairn.KnowledgeBase:
    return make_notes_kb(tmp_path_factory.mktemp("span-notes"), NOTES)


@pytest.mark.integration
def test_packaged_ranker_on_the_issue_sentences() -> None:
    from cairn.answer.span import SpacySpans

    spans = SpacySpans()
    for sentence, question, want in (
        (SEDIO, "How much did Sedio pay for the Bayfield shares?", {"50,000 dlrs"}),
        (SEDIO, "How many shares did Sedio acquire?", {"200,000"}),
        ("Each crane lifts up to 45 tonnes.", "How much can each new crane lift?", {"45 tonnes"}),
        (NOTES["normans.txt"].split(". ")[1], "Who founded Normandy?", {"Rollo"}),
        (NOTES["normans.txt"].split(". ")[1], "When was Normandy founded?", {"911"}),
    ):
        got = shown_span(analyse(question), sentence, spans.candidates([sentence])[0])
        assert got is not None and got.text in want, (question, got)


@pytest.mark.integration
def test_cli_chat_follow_up_keeps_the_subject(
    notes_kb: cairn.KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """printf 'Who founded Normandy?\\nand when?\\n' | cairn chat --json, with the real models."""
    monkeypatch.setattr(answer_commands, "open_kb", lambda _path: nullcontext(notes_kb))
    app = typer.Typer()
    answer_commands.register(app)
    r = CliRunner().invoke(app, ["chat", "--json"], input="Who founded Normandy?\nand when?\n")
    assert r.exit_code == 0, r.output
    turns = [json.loads(line) for line in r.output.strip().splitlines()]
    assert turns[0]["short_answer"] == "Rollo"
    assert "Rollo" in turns[0]["citations"][0]["quote"]
    assert turns[1]["query"] == "When was Normandy founded?"
    assert turns[1]["short_answer"] == "911"
    for t in turns:
        assert t["short_answer"] in t["citations"][0]["quote"]


@pytest.mark.integration
def test_ask_shows_the_money_not_the_share_count(notes_kb: cairn.KnowledgeBase) -> None:
    a = cairn.answer.ask(notes_kb, "How much did Sedio pay for the Bayfield shares?")
    assert a.short_answer in (None, "50,000 dlrs")
    c = cairn.answer.ask(notes_kb, "How much can each new crane lift?")
    assert not c.abstained and c.short_answer == "45 tonnes"


def test_weights_live_with_the_other_packaged_models() -> None:
    from cairn.models.packaged import DATA_DIR, recorded_sha256

    assert WEIGHTS_PATH.parent == DATA_DIR and recorded_sha256(WEIGHTS_PATH.name)


@pytest.mark.integration
def test_adapt_refits_the_ranker_on_synthetic_pairs() -> None:
    from types import SimpleNamespace

    from cairn_eval.span_fit import fit_adapted

    def pair(q: str, s: str, a: str | None) -> SimpleNamespace:
        return SimpleNamespace(question=q, sentence=s, answer=a, answerable=a is not None)

    train = [
        pair("When was the bridge opened?", "The bridge was opened in 1932 by the mayor.", "1932"),
        pair("Who opened the bridge?", "The bridge was opened in 1932 by the mayor.", "the mayor"),
        pair("Who was the bridge opened by?", "Ann Lee opened the bridge in 1932.", "Ann Lee"),
        pair("What did the storm destroy?", "The storm destroyed the pier.", None),
    ] * 3
    held = [pair("When did the mill close?", "The mill closed in 1978.", "1978")]
    ranker, metrics = fit_adapted({"train": train, "fit": held, "report": held})
    assert ranker is not None and "cairn adapt" in ranker.note
    assert metrics["train_questions"] == 9 and metrics["report_questions"] == 1
    assert set(metrics) >= {"adapted", "packaged", "threshold"}
    assert fit_adapted({"train": train[3:4]}) == (None, {"train_questions": 0})


@pytest.mark.parametrize(
    "question", ["How tall is the tower?", "How far can its lamp be seen?", "How deep is it?"]
)
def test_a_measure_question_asks_for_a_number(question: str) -> None:
    from cairn.answer.question import AnswerType

    assert analyse(question).answer_type is AnswerType.number
    assert analyse("How did the tower fall?").answer_type is AnswerType.reason
