"""The spoken API set (bench/spoken_api): its documents, its servers (the markets one, on data
matplotlib ships; the others need R) and the general matcher rules it exposed: day words, a
year said once for a range, "5=May" enum words, counts, ranges preferred over single days."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import cairn
from cairn.command.operations import from_api_tool, read_aliases
from cairn.command.schema_match import OperationIndex
from cairn.command.slots import fill
from cairn.command.spoken import digits, find_dates
from cairn.graph.extract import CapitalisedExtractor
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import HashingEmbedder
from cairn.tools import add_openapi
from cairn.tools.openapi import parse_spec
from cairn.tools.registry import ApiTool
from cairn_eval.spoken_api import (
    Calls,
    SpokenApiError,
    load_requests,
    params_match,
    run_request,
    score_table,
)

SET = Path(__file__).resolve().parents[1] / "bench" / "spoken_api"
DOCS = ("markets", "nyair", "history")
TODAY = date(2026, 12, 3)


def _doc(name: str) -> dict[str, Any]:
    return dict(json.loads((SET / f"{name}.openapi.json").read_text()))


def _index(*names: str) -> OperationIndex:
    ops = [
        op for n in names for op in from_api_tool(ApiTool(n, parse_spec(_doc(n)), ("127.0.0.1",)))
    ]
    return OperationIndex(ops, HashingEmbedder(256))


@pytest.mark.parametrize("name", DOCS)
def test_each_request_set_names_real_operations_and_parameters(name: str) -> None:
    requests = load_requests(SET / f"{name}.requests.jsonl")
    assert len(requests) >= 30
    assert len({r.id for r in requests}) == len(requests)
    ops = {op.name: op for op in from_api_tool(ApiTool(name, parse_spec(_doc(name)), ()))}
    for r in requests:
        assert r.operation in ops, r.id
        op = ops[r.operation]
        assert set(r.params) <= {p.name for p in op.params}, r.id
        assert {p.name for p in op.required} <= set(r.params), r.id
        assert r.text == r.text.lower() and not any(ch.isdigit() for ch in r.text), r.id
    splits = {r.split for r in requests}
    assert splits == ({"report"} if name == "history" else {"design"})


def test_a_bad_request_line_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "split": "design", "text": "x", "operation": "op"}\n')
    with pytest.raises(SpokenApiError, match=r"bad\.jsonl:1: not a request"):
        load_requests(path)
    path.write_text('{"id": "a", "split": "tuning", "text": "x", "operation": "o", "params": {}}')
    with pytest.raises(SpokenApiError, match="split 'tuning'"):
        load_requests(path)


def test_parameters_match_exactly_with_numbers_by_value() -> None:
    assert params_match({"threshold": "100"}, {"threshold": 100})
    assert params_match({"threshold": 100.0}, {"threshold": 100})
    assert not params_match({"threshold": 100, "month": 5}, {"threshold": 100})
    assert not params_match({"symbol": "aapl"}, {"symbol": "AAPL"})
    assert not params_match({}, {"count": 5})


@pytest.mark.parametrize(
    ("said", "want"),
    [
        ("on march first two thousand nine", [("2009-03-01", "2009-03-01")]),
        ("on the first of october two thousand eleven", [("2011-10-01", "2011-10-01")]),
        ("from june first to june fifth nineteen seventy three", [("1973-06-01", "1973-06-05")]),
        ("between july fourth and july eighth 1973", [("1973-07-04", "1973-07-08")]),
        ("from december to march two thousand ten", [("2009-12-01", "2010-03-31")]),
        ("march twenty first twenty twenty", [("2020-03-21", "2020-03-21")]),
        # as Whisper writes them: commas, and a year said once after two days
        ("from June 1st, June 5th, 1973.", [("1973-06-01", "1973-06-01"), ("1973-06-05",) * 2]),
        ("Airline Passengers in December, 1959", [("1959-12-01", "1959-12-31")]),
        ("between 1936, and 1939.", [("1936-01-01", "1939-12-31")]),
        ("in march and in june 2010", [("2010-03-01", "2010-03-31"), ("2010-06-01", "2010-06-30")]),
    ],
)
def test_days_said_in_words_and_a_year_said_once_for_a_range(
    said: str, want: list[tuple[str, str]]
) -> None:
    got = [(s.start.isoformat(), s.end.isoformat()) for s in find_dates(digits(said), TODAY)]
    assert got == want


def test_ordinal_words_away_from_months_are_left_alone() -> None:
    assert digits("my first car and the second quarter of 2010") == (
        "my first car and the second quarter of 2010"
    )


def test_enum_words_given_value_first_and_lists_that_are_not_names() -> None:
    months = dict(read_aliases("Month as a number: 5=May, 6=June, 7=July.", [5, 6, 7]))
    assert months == {"may": 5, "june": 6, "july": 7}
    listed = read_aliases("What to average: ozone, wind or temperature.", ["ozone", "wind"])
    assert "average" not in dict(listed)  # a label before a list names none of its values
    tail = dict(read_aliases("Apple=AAPL, Adobe=ADBE.", ["AAPL", "ADBE"]))
    assert tail["adobe"] == "ADBE"  # the sentence's full stop is not part of the value


def test_a_count_is_read_by_the_word_it_counts_and_month_words_by_name() -> None:
    op = next(o for o in _index("nyair").ops if o.name == "getHottestDays")
    assert fill(op, "the five hottest days").values == {"count": 5}
    assert fill(op, "the ten hottest days in august").values == {"count": 10, "month": 8}
    assert fill(op, "hottest days of july").values == {"month": 7}


def test_s_and_p_said_aloud_matches_the_s_and_p_enum_word() -> None:
    op = next(o for o in _index("markets").ops if o.name == "getIndexLevels")
    got = fill(op, "how was the s and p five hundred doing in two thousand eight", TODAY)
    assert got.values == {"index": "sp500", "start": "2008-01-01", "end": "2008-12-31"}


@pytest.mark.parametrize(
    ("text", "operation", "params"),
    [
        (
            "microsoft stock price in october twenty twenty",
            "markets.getMonthlyClosingPrices",
            {"symbol": "MSFT", "start": "2020-10-01", "end": "2020-10-31"},
        ),
        (
            "xerox closing price on june first two thousand seven",
            "markets.getClosingPriceOnDate",
            {"symbol": "XRX", "date": "2007-06-01"},
        ),
    ],
)
def test_a_range_said_prefers_the_operation_taking_a_range(
    text: str, operation: str, params: dict[str, Any]
) -> None:
    best = _index(*DOCS).candidates(text, TODAY)[0]  # a hashing encoder: the ranking only
    assert best.op.key == operation
    assert best.filled.values == params


@contextmanager
def _served(doc: str, folder: Path) -> Iterator[tuple[KnowledgeBase, Calls]]:
    """A KB with ``doc`` registered against its bench server on loopback."""
    sys.path.insert(0, str(SET))
    try:
        from server import serve  # bench/spoken_api/server.py
    finally:
        sys.path.remove(str(SET))
    calls: Calls = []
    kb = cairn.open(
        folder / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    )
    try:
        with serve(doc, calls) as url:
            add_openapi(kb.store, _doc(doc), allowed_hosts=["127.0.0.1"], name=doc, base_url=url)
            yield kb, calls
    finally:
        kb.close()


@pytest.mark.integration
def test_typed_requests_reach_the_loopback_server_as_expected(tmp_path: Path) -> None:
    requests = {r.id: r for r in load_requests(SET / "markets.requests.jsonl")}
    with _served("markets", tmp_path) as (kb, calls):
        outcomes = [
            run_request(kb, requests[i], document="markets", calls=calls)
            for i in ("markets-00", "markets-09", "markets-13", "markets-28")
        ]
    for o in outcomes:
        assert o.end_to_end, (o.text, o.operation, o.params, o.error)
    assert calls[-1] == (
        "getMonthlyClosingPrices",
        {"symbol": "MSFT", "start": "2020-10-01", "end": "2020-10-31"},
    )
    score = score_table(outcomes)["text"]["all"]
    assert (score.n, score.operation, score.params, score.end_to_end) == (4, 1.0, 1.0, 1.0)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_spoken_requests_go_from_audio_to_the_server(tmp_path: Path) -> None:
    from cairn.models.stt import load_stt
    from cairn.models.tts import load_tts

    requests = {r.id: r for r in load_requests(SET / "markets.requests.jsonl")}
    tts, stt = load_tts("espeak-ng"), load_stt()
    with _served("markets", tmp_path) as (kb, calls):
        outcomes = [
            run_request(
                kb,
                requests[i],
                document="markets",
                calls=calls,
                voice="espeak-ng",
                tts=tts,
                stt=stt,
                workdir=tmp_path,
            )
            for i in ("markets-00", "markets-03")
        ]
    assert all(o.transcript for o in outcomes)
    # int8 Whisper decodes differently per CPU: a bound, not every request
    assert sum(o.end_to_end for o in outcomes) >= 1, [(o.transcript, o.params) for o in outcomes]


def _tone(path: Path) -> Path:
    import wave

    import numpy as np

    samples = (0.3 * np.sin(np.linspace(0, 2 * np.pi * 440, 16000)) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(samples.tobytes())
    return path


@pytest.mark.integration
def test_a_misheard_name_is_snapped_on_a_kept_wav_and_reaches_the_server(tmp_path: Path) -> None:
    from cairn.models.stt import FakeSTT

    req = next(
        r for r in load_requests(SET / "markets.requests.jsonl") if r.id == "markets-06"
    )  # "xerox stock prices during nineteen ninety five"
    _tone(tmp_path / "markets-06-kept.wav")  # a kept WAV: heard again, not spoken again
    with _served("markets", tmp_path) as (kb, calls):
        misheard = run_request(
            kb,
            req,
            document="markets",
            calls=calls,
            voice="kept",
            stt=FakeSTT("Zerak Stock Prices during 1995."),
            workdir=tmp_path,
            reuse_wav=True,
        )
        typed = run_request(
            kb,
            req.__class__(req.id, req.split, "Zerak Stock Prices during 1995.", req.operation,
                          req.params),
            document="markets",
            calls=calls,
        )  # fmt: skip
    assert misheard.end_to_end, (misheard.transcript, misheard.params, misheard.error)
    assert misheard.transcript == "Zerak Stock Prices during 1995."  # what was heard is kept
    assert calls[0] == (
        "getMonthlyClosingPrices",
        {"symbol": "XRX", "start": "1995-01-01", "end": "1995-12-31"},
    )
    assert not typed.end_to_end  # typed text is not snapped
