"""The command set, its scoring, and the CLI (understand, eval commands)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cairn.cli import command_commands
from cairn.command import INTENTS, Command
from cairn.errors import ConfigError
from cairn.ingest.provenance import normalise_license
from cairn_eval.commands import (
    PRF,
    CommandItem,
    evaluate_commands,
    load_command_set,
    normalise_value,
    run_command_eval,
    slot_pairs,
)

runner = CliRunner()


@pytest.fixture(scope="module")
def items() -> list[CommandItem]:
    return load_command_set()


def test_command_set_size_and_spread(items: list[CommandItem]) -> None:
    assert len(items) >= 170
    assert len({i.id for i in items}) == len(items)
    per_intent = Counter(i.gold.intent for i in items)
    assert set(per_intent) == set(INTENTS)
    assert min(per_intent.values()) >= 10, per_intent
    splits = Counter(i.split for i in items)
    assert set(splits) == {"dev", "test"}
    assert 0.55 <= splits["test"] / len(items) <= 0.65
    styles = Counter(i.style for i in items)
    assert set(styles) == {"typed", "spoken"} and min(styles.values()) >= 60


def test_spoken_items_look_transcribed(items: list[CommandItem]) -> None:
    for item in items:
        if item.style == "spoken":
            assert item.text == item.text.lower(), item.id
            assert not any(c in item.text for c in "?!,;:"), item.id


def test_gold_licences_are_spdx(items: list[CommandItem]) -> None:
    for item in items:
        for lic in item.gold.licenses:
            assert normalise_license(lic) == lic, (item.id, lic)


def test_load_by_split(items: list[CommandItem]) -> None:
    dev, test = load_command_set(split="dev"), load_command_set(split="test")
    assert len(dev) + len(test) == len(items)
    with pytest.raises(ConfigError):
        load_command_set(split="train")


def test_bad_command_set_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "split": "dev", "text": "hi", "gold": {"intent": "dance"}}\n')
    with pytest.raises(ConfigError) as info:
        load_command_set(bad)
    assert info.value.code == "bad-command-set"
    with pytest.raises(ConfigError):
        load_command_set(tmp_path / "missing.jsonl")


def test_normalise_value() -> None:
    assert normalise_value("The Normans' conquest, of England!") == "normans conquest of england"
    assert normalise_value("lecture-notes") == normalise_value("lecture notes")
    assert normalise_value("air_quality") == "air quality"


def test_slot_pairs() -> None:
    c = Command(
        intent="call_api",
        api_operation="weather",
        api_params={"q": "Paris", "days": 3},
        licenses=["MIT", "CC0-1.0"],
        date_from="2019",
    )
    assert slot_pairs(c) == {
        ("api_operation", "weather"),
        ("api_params.q", "paris"),
        ("api_params.days", "3"),
        ("licenses", "cc0-1.0 mit"),
        ("date_from", "2019"),
    }


def test_prf() -> None:
    prf = PRF()
    prf.add({("a", "1"), ("b", "2")}, {("a", "1"), ("c", "3")})
    assert (prf.tp, prf.fp, prf.fn) == (1, 1, 1)
    assert prf.precision == prf.recall == prf.f1 == 0.5
    assert PRF().f1 == 1.0  # nothing expected, nothing predicted


def _item(text: str, gold: Command, style: str = "typed") -> CommandItem:
    return CommandItem("x", "dev", style, text, gold)


def test_scoring_on_a_small_set() -> None:
    items = [
        _item("search for kelp", Command(intent="search", query="kelp")),
        _item("find the kelp papers", Command(intent="search", query="kelp forests")),
        _item("help", Command(intent="ask", query="help")),
        _item(" ", Command(intent="clarify")),
    ]
    report = evaluate_commands(items, split="dev")
    assert report.n == 4
    assert report.intent_accuracy == 0.5  # search twice; help != ask; empty -> error
    assert report.per_intent["search"].accuracy == 1.0
    assert report.per_intent["ask"].accuracy == 0.0
    assert report.per_intent["help"].predicted == 1
    assert (report.slots.tp, report.slots.fp, report.slots.fn) == (1, 1, 2)
    assert report.exact_match == 0.25
    d = report.as_dict()
    assert d["items"] == 4 and len(d["errors"]) == 3
    assert d["errors"][-1]["predicted"] == "empty-request"
    json.dumps(d)


def test_grammar_meets_the_targets_on_the_test_split() -> None:
    report = run_command_eval("test")
    assert report.engine == "grammar"
    assert report.intent_accuracy >= 0.90
    assert report.slots.f1 >= 0.85


def _app() -> typer.Typer:
    app = typer.Typer()
    command_commands.register(app)
    eval_app = typer.Typer()
    eval_app.command("commands")(command_commands.eval_commands_cli)
    app.add_typer(eval_app, name="eval")
    return app


def test_cli_understand() -> None:
    app = _app()
    r = runner.invoke(app, ["understand", "um find papers on kelp in my marine collection"])
    assert r.exit_code == 0, r.output
    assert "search" in r.output and "kelp" in r.output and "marine" in r.output
    r = runner.invoke(app, ["understand", "forget it", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["intent"] == "clarify" and out["clarification"]


def test_cli_understand_schema_and_errors() -> None:
    app = _app()
    r = runner.invoke(app, ["understand", "--schema", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == Command.model_json_schema()
    r = runner.invoke(app, ["understand", "--schema"])
    assert r.exit_code == 0 and '"intent"' in r.output
    r = runner.invoke(app, ["understand", "  "])
    assert r.exit_code == 2 and "empty" in r.output
    r = runner.invoke(app, ["understand"])
    assert r.exit_code == 2


def test_cli_eval_commands() -> None:
    app = _app()
    r = runner.invoke(app, ["eval", "commands", "--split", "dev", "--json", "--errors"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["split"] == "dev" and out["engine"] == "grammar" and "errors" in out
    r = runner.invoke(app, ["eval", "commands", "--errors"])
    assert r.exit_code == 0, r.output
    assert "intent accuracy" in r.output and "test split" in r.output
    r = runner.invoke(app, ["eval", "commands", "--split", "nope"])
    assert r.exit_code == 2
