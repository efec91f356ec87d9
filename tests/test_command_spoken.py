"""Spoken numbers and years, and dates/ranges read from requests (cairn.command.spoken)."""

from __future__ import annotations

from datetime import date

import pytest

from cairn.command.spoken import digits, find_dates

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("during two thousand seven", "during 2007"),
        ("for march twenty thirteen", "for march 2013"),
        ("in nineteen ninety nine", "in 1999"),
        ("the first half of twenty oh nine", "the first half of 2009"),
        ("march third", "march 3rd"),
    ],
)
def test_spoken_numbers_and_years_become_digits(said: str, written: str) -> None:
    assert digits(said) == written


def _spans(text: str) -> list[tuple[str, str, str]]:
    return [
        (s.start.isoformat(), s.end.isoformat(), s.grain) for s in find_dates(digits(text), TODAY)
    ]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("during 2007", [("2007-01-01", "2007-12-31", "year")]),
        ("in January 2005", [("2005-01-01", "2005-01-31", "month")]),
        ("from 2003 through 2006", [("2003-01-01", "2006-12-31", "range")]),
        (
            "between two thousand three and two thousand six",
            [("2003-01-01", "2006-12-31", "range")],
        ),
        ("the first half of 2009", [("2009-01-01", "2009-06-30", "half")]),
        ("the second quarter of 2010", [("2010-04-01", "2010-06-30", "quarter")]),
        ("last March", [("2026-03-01", "2026-03-31", "month")]),
        ("last year", [("2025-01-01", "2025-12-31", "year")]),
        ("on march third twenty thirteen", [("2013-03-03", "2013-03-03", "day")]),
        ("2013-03-01 to 2013-03-05", [("2013-03-01", "2013-03-05", "range")]),
    ],
)
def test_dates_and_ranges(text: str, want: list[tuple[str, str, str]]) -> None:
    assert _spans(text) == want


def test_no_dates_where_none_are_said() -> None:
    assert _spans("may I have the area of a triangle with base 10 and height 5") == []
    assert _spans("apples and pears and 2 bananas") == []


def test_last_month_name_is_last_year_when_it_has_not_come_yet() -> None:
    assert find_dates("last march", date(2026, 2, 10))[0].start == date(2025, 3, 1)
