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


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("book a table for March 9th", "2027-03-09"),  # a day said: the coming one
        ("how's the weather on the 10th of March", "2027-03-10"),
        ("what was the weather on March 9th", "2026-03-09"),  # the past said: the last one
        ("the history of prices on March 9th", "2026-03-09"),
        ("I was hoping to book a flight for March 9th", "2027-03-09"),  # to plan wins
        ("the average ozone in June", "2026-06-01"),  # a month alone: the last one ...
        ("we travel in June", "2027-06-01"),  # ... unless the request plans
        ("book a room for December 20th", "2026-12-20"),  # still to come this year
    ],
)
def test_a_date_without_its_year_looks_ahead_unless_the_past_is_said(text: str, want: str) -> None:
    assert find_dates(digits(text), date(2026, 12, 5))[0].start.isoformat() == want


FRIDAY = date(2026, 12, 4)


def _days(text: str, today: date = FRIDAY) -> list[str]:
    return [f"{s.start.isoformat()}/{s.grain}" for s in find_dates(digits(text), today)]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("the weather in Paris tomorrow", ["2026-12-05/day"]),
        ("the day after tomorrow", ["2026-12-06/day"]),
        ("yesterday", ["2026-12-03/day"]),
        ("next monday", ["2026-12-07/day"]),
        ("the upcoming friday", ["2026-12-11/day"]),  # after today, not today
        ("a table on friday", ["2026-12-04/day"]),  # today is one
        ("this sunday", ["2026-12-06/day"]),
        ("monday next week", ["2026-12-07/day"]),
        ("wednesday this week", ["2026-12-02/day"]),
    ],
)
def test_tomorrow_and_weekdays_count_from_today(text: str, want: list[str]) -> None:
    assert _days(text) == want


def test_a_weekday_alone_is_not_a_date() -> None:
    assert _days("open monday to friday") == []
    assert _days("the monday meeting notes") == []


def test_today_said_in_the_request_anchors_relative_words() -> None:
    assert _days("weather in New York tomorrow? today is 2023.10.1") == ["2023-10-02/day"]
    assert _days("the upcoming Monday, assuming today is April 4th, 2023") == ["2023-04-10/day"]
    assert _days("it is currently a Tuesday, 2023-04-04; what about next friday") == [
        "2023-04-07/day"
    ]


def test_a_day_said_without_its_month_takes_the_month_named() -> None:
    assert _days("a concert on the 10th, in march 2023") == ["2023-03-10/day"]
    assert _days("a play on the 9th? currently is sep 2023") == ["2023-09-09/day"]
    # two different months named: no guess
    assert _days("on the 9th, between march 2023 and may 2023") == ["2023-03-01/range"]
    # a day with its own month is left alone
    assert _days("from may 1st to the 10th of may 2020") == ["2020-05-01/range"]


def test_a_day_said_both_ways_is_the_date() -> None:
    assert _days("a play next Monday 2023.10.2 in Chicago") == ["2023-10-02/day"]
    assert _days("this coming Saturday, which is 2023-10-07?") == ["2023-10-07/day"]
    assert _days("the UV index for tomorrow, June 1 2023") == ["2023-06-01/day"]
    # two days joined by a word are two days
    assert _days("tomorrow and the day after tomorrow") == ["2026-12-05/day", "2026-12-06/day"]


def test_a_date_with_its_year_is_meant_over_a_relative_day() -> None:
    said = "next Monday I need a car, from the date 2023-04-24 to 2023-04-28"
    assert _days(said) == ["2023-04-24/range"]
    assert _days("move it to this coming Friday, to the 15th of April 2021") == ["2021-04-15/day"]


def test_a_relative_day_near_a_written_date_is_a_second_day() -> None:
    assert _days("a flight leaving tomorrow and coming back on 2026-12-10") == [
        "2026-12-05/day",
        "2026-12-10/day",
    ]
    assert _days("a hotel from tomorrow until December 9th 2026") == ["2026-12-05/range"]


def test_a_date_without_its_year_takes_the_year_said_before_it() -> None:
    assert _days("leave on March 1st 2023 and come back on the 6th of March") == [
        "2023-03-01/day",
        "2023-03-06/day",
    ]
    assert _days("departing on the 2023 1st of March, back on the 6th of March") == [
        "2023-03-01/day",
        "2023-03-06/day",
    ]
    # the next year when it would come before the first date
    assert _days("from December 28th 2023 until January 3rd") == ["2023-12-28/range"]
    assert find_dates("from December 28th 2023 until January 3rd", FRIDAY)[0].end == date(
        2024, 1, 3
    )
    # a relative month still counts from today
    assert _days("in 2019 and last march") == ["2019-01-01/year", "2026-03-01/month"]
