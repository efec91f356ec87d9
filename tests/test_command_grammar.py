"""The intent grammar: normalisation, filters, and one example or more per template.

The examples here are not items of the command set (tests/test_command_eval.py scores that).
"""

from __future__ import annotations

from typing import Any

import pytest

from cairn.command.grammar import looks_non_english, normalise, parse
from cairn.command.grammar_rules import RULES
from cairn.command.model import INTENTS, Command
from cairn.command.request_filters import extract_filters
from cairn.ingest.provenance import normalise_license

CC_BY = ["CC-BY-1.0", "CC-BY-2.0", "CC-BY-2.5", "CC-BY-3.0", "CC-BY-4.0"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Um, could you please search for bees?", "search for bees"),
        ("hey cairn uh find stuff on owls thanks", "find stuff on owls"),
        ("OK so, I'd like to see my sources", "see my sources"),
        ("twenty nineteen", "2019"),
        ("two thousand and five", "2005"),
        ("nineteen ninety five to twenty ten", "1995 to 2010"),
        ("ten sixty six", "1066"),
        ("nineteen oh five", "1905"),
        ("fifteen hundred", "1500"),
        ("level three and twenty five apples", "level 3 and 25 apples"),
        ("that one", "that one"),
        ("one hundred and twelve", "112"),
        ("cc by four point oh", "cc by 4.0"),
        ("What's Watt's patent?", "whats watts patent"),
        ("Forget steam-engine.md.", "forget steam-engine.md"),
        ("delete normans dot md", "delete normans.md"),
        ("remove https://example.com/a.pdf, please", "remove https://example.com/a.pdf"),
        ("um uh", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "slots", "rest"),
    [
        ("find owls in my bird notes collection", {"collection": "bird notes"}, "find owls"),
        (
            "search the field-notes collection for owls",
            {"collection": "field-notes"},
            "search for owls",
        ),
        ("owls between 2010 and 2015", {"date_from": "2010", "date_to": "2015"}, "owls"),
        ("owls from 1990 to 1995", {"date_from": "1990", "date_to": "1995"}, "owls"),
        ("owls since 2019", {"date_from": "2019"}, "owls"),
        ("owls after 2019", {"date_from": "2020"}, "owls"),
        ("owls before 2000", {"date_to": "1999"}, "owls"),
        ("owls until 2000", {"date_to": "2000"}, "owls"),
        ("owls in 2019", {"date_from": "2019", "date_to": "2019"}, "owls"),
        ("owls in march 2023", {"date_from": "2023-03", "date_to": "2023-03"}, "owls"),
        ("owls in the 1990s", {"date_from": "1990", "date_to": "1999"}, "owls"),
        ("owls from last year", {}, "owls from last year"),
        ("owls only cc by sources", {"licenses": CC_BY}, "owls"),
        ("owls cc-by only", {"licenses": CC_BY}, "owls"),
        ("owls under the mit licence", {"licenses": ["MIT"]}, "owls"),
        ("owls licensed under cc by sa 4.0", {"licenses": ["CC-BY-SA-4.0"]}, "owls"),
        ("owls only cc0", {"licenses": ["CC0-1.0"]}, "owls"),
        (
            "list the cc-by-nc-sa sources",
            {"licenses": [f"CC-BY-NC-SA-{v}" for v in ("1.0", "2.0", "2.5", "3.0", "4.0")]},
            "list the sources",
        ),
        ("owls under apache 2", {"licenses": ["Apache-2.0"]}, "owls"),
        ("owls under gpl v3", {"licenses": ["GPL-3.0-only", "GPL-3.0-or-later"]}, "owls"),
    ],
)
def test_extract_filters(text: str, slots: dict[str, Any], rest: str) -> None:
    filters, remaining = extract_filters(text)
    assert filters.as_slots() == slots
    assert remaining == rest


def test_questions_keep_their_dates() -> None:
    filters, rest = extract_filters("what happened in 1066", dates=False)
    assert filters.as_slots() == {}
    assert rest == "what happened in 1066"


@pytest.mark.parametrize(
    "phrase",
    [
        "cc by",
        "cc by sa",
        "cc-by-nc-nd 4.0",
        "cc0",
        "public domain",
        "mit",
        "apache",
        "gpl",
        "lgpl 3",
        "bsd",
        "mpl",
        "odbl",
        "creative commons attribution share alike",
    ],
)
def test_every_licence_id_is_valid_spdx(phrase: str) -> None:
    filters, _ = extract_filters(f"owls under {phrase}")
    assert filters.licenses, phrase
    for lic in filters.licenses:
        assert normalise_license(lic) == lic


def _check(text: str, intent: str, **slots: Any) -> Command:
    command = parse(text)
    assert command is not None, text
    assert command.intent == intent, (text, command)
    got = command.slots()
    for name, value in slots.items():
        assert got.get(name) == value, (text, name, got)
    extra = set(got) - set(slots)
    assert not extra, (text, {k: got[k] for k in extra})
    assert command.engine == "grammar"
    return command


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        ("search for tide tables", "search", {"query": "tide tables"}),
        (
            "find documents about kelp forests in my marine collection",
            "search",
            {"query": "kelp forests", "collection": "marine"},
        ),
        (
            "uh look up articles on glaciers since twenty twelve",
            "search",
            {"query": "glaciers", "date_from": "2012"},
        ),
        ("do we have anything on tidal energy", "search", {"query": "tidal energy"}),
        ("papers about lichens", "search", {"query": "lichens"}),
        ("what does my collection say about kelp", "ask", {"query": "kelp"}),
        (
            "what do the sources in my marine collection say about kelp",
            "ask",
            {"query": "kelp", "collection": "marine"},
        ),
        ("Who built the first lighthouse?", "ask", {"query": "who built the first lighthouse"}),
        ("how deep is the mariana trench", "ask", {"query": "how deep is the mariana trench"}),
        ("explain tidal locking", "ask", {"query": "tidal locking"}),
        ("tell me about lighthouses", "ask", {"query": "lighthouses"}),
        ("summarise the evidence for sea level rise", "synthesize", {"query": "sea level rise"}),
        (
            "is it true that goldfish have 3 second memories",
            "synthesize",
            {"query": "goldfish have 3 second memories"},
        ),
        ("fact check the claim that bats are blind", "synthesize", {"query": "bats are blind"}),
        (
            "call the tides api for brest",
            "call_api",
            {"api_operation": "tides", "api_params": {"q": "brest"}},
        ),
        (
            "get the forecast for oslo from the weather service",
            "call_api",
            {"api_operation": "weather.forecast", "api_params": {"q": "oslo"}},
        ),
        (
            "query the stocks api for acme with days=3 live=true",
            "call_api",
            {"api_operation": "stocks", "api_params": {"q": "acme", "days": 3, "live": True}},
        ),
        (
            "run the get_tide operation of the tides api with port=brest",
            "call_api",
            {"api_operation": "tides.get_tide", "api_params": {"port": "brest"}},
        ),
        (
            "chart the number of sources by year as a bar chart",
            "chart",
            {"query": "the number of sources by year", "chart_kind": "bar"},
        ),
        (
            "plot tides by month as a line",
            "chart",
            {"query": "tides by month", "chart_kind": "line"},
        ),
        (
            "make a pie chart of sources by licence",
            "chart",
            {"query": "sources by licence", "chart_kind": "pie"},
        ),
        ("graph rainfall by year", "chart", {"query": "rainfall by year"}),
        ("remember that the boat leaves at 6", "remember", {"query": "the boat leaves at 6"}),
        (
            "remember that the survey ran from 2010 to 2012",
            "remember",
            {"query": "the survey ran from 2010 to 2012"},
        ),
        ("make a note that kelp grows fast", "remember", {"query": "kelp grows fast"}),
        ("list my sources", "list_sources", {}),
        ("what sources do i have", "list_sources", {}),
        ("show my documents in the marine collection", "list_sources", {"collection": "marine"}),
        ("forget the source tides.md", "forget", {"source": "tides.md"}),
        ("delete kelp dot pdf from my knowledge base", "forget", {"source": "kelp.pdf"}),
        ("remove source 7", "forget", {"source": "7"}),
        ("forget the document about lighthouses", "forget", {"source": "lighthouses"}),
        ("delete everything in the scratch collection", "forget", {"collection": "scratch"}),
        ("help", "help", {}),
        ("what can you do", "help", {}),
        ("how do i add documents", "help", {}),
    ],
)
def test_templates(text: str, intent: str, slots: dict[str, Any]) -> None:
    _check(text, intent, **slots)


@pytest.mark.parametrize(
    "text",
    [
        "forget it",
        "delete everything",
        "delete all my sources",
        "chart it",
        "plot that as a bar chart",
        "that one",
        "the second one",
        "Paris",
        "kelp forests",
        "search",
        "what about 2019",
        "do the same for the marine collection",
        "remember this",
        "summarise it",
        "call the api",
        "forget the file i added yesterday",
        "um",
    ],
)
def test_ambiguous_requests_ask_back(text: str) -> None:
    command = _check(text, "clarify")
    assert command.clarification and command.clarification.endswith(("?", ".", "'"))


@pytest.mark.parametrize(
    "text",
    [
        "book a table for two",
        "what's 12 times 7",
        "set a timer for 5 minutes",
        "play some music",
        "text mum that i'm late",
        "turn the heating on",
        "call grandma",
        "remind me to water the plants",
        "tell me a joke",
    ],
)
def test_out_of_scope(text: str) -> None:
    command = _check(text, "out_of_scope")
    assert command.clarification


def test_remember_and_forget_are_not_confused() -> None:
    _check("don't forget that the boat leaves at 6", "remember", query="the boat leaves at 6")
    _check("search for how to forget a song", "search", query="how to forget a song")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("¿Qué sabes de las mareas?", True),
        ("Quels sont mes documents sur les marées ?", True),
        ("Welche Quellen habe ich über die Gezeiten?", True),
        ("潮汐について教えて", True),
        ("what do my sources say about el nino and la nina", False),
        ("search for die casting", False),
        ("Paris", False),
        ("", False),
    ],
)
def test_non_english(text: str, expected: bool) -> None:
    assert looks_non_english(text) is expected


def test_long_garbage_is_left_to_the_llm() -> None:
    assert parse("the quick brown fox jumps over the lazy dog") is None


def test_rules_cover_every_intent_and_have_unique_names() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    assert {r.intent for r in RULES} == set(INTENTS)
