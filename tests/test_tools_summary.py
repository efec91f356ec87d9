"""The summary step: what an API call's rows say, every figure traced to its row."""

from __future__ import annotations

from cairn.tools.summary import summarise_rows

ROWS = [
    {"date": "2007-01-03", "close": 83.8},
    {"date": "2007-01-02", "close": 85.0},  # out of order on purpose
    {"date": "2007-06-29", "close": 122.04},
    {"date": "2007-12-31", "close": 198.08},
    {"date": "2007-03-05", "close": 80.5},
]


def test_first_last_min_max_and_change_come_from_the_rows() -> None:
    s = summarise_rows(ROWS, "markets.getStockPrices")
    facts = {(f.what, f.column): f for f in s.facts}
    assert facts[("count", "")].value == 5
    assert facts[("first", "close")].value == 85.0 and facts[("first", "close")].row == 1
    assert facts[("last", "close")].value == 198.08 and facts[("last", "close")].row == 3
    assert facts[("min", "close")].value == 80.5 and facts[("min", "close")].key == "2007-03-05"
    assert facts[("max", "close")].key == "2007-12-31"
    assert round(facts[("change", "close")].value, 2) == 113.08
    assert facts[("change_pct", "close")].value == 133.04
    assert "2007-01-02 to 2007-12-31" in s.text
    assert "lowest 80.50 (2007-03-05)" in s.text
    assert "up 133.0 percent" in s.spoken


def test_every_row_figure_is_a_value_of_that_row() -> None:
    s = summarise_rows(ROWS)
    for f in s.facts:
        if f.row is not None:
            assert ROWS[f.row][f.column] == f.value


def test_no_rows_and_no_numbers() -> None:
    assert summarise_rows([], "x").text == "x returned no rows."
    s = summarise_rows([{"name": "a"}, {"name": "b"}], "x")
    assert s.text.startswith("x returned 2 rows") and len(s.facts) == 1
