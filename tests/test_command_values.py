"""Slot values read by type and description: quotes, units, described values, number lists.

Every function document here is made up for the test (none is a benchmark item)."""

from __future__ import annotations

from typing import Any

from cairn.command.operations import from_function_doc
from cairn.command.slots import fill
from cairn.command.values import described_values, number_groups, quoted_phrases


def _op(props: dict[str, Any], required: list[str] | None = None) -> Any:
    return from_function_doc(
        {
            "name": "tool.run",
            "description": "A made-up operation.",
            "parameters": {
                "type": "dict",
                "properties": props,
                "required": list(props) if required is None else required,
            },
        }
    )


def test_an_apostrophe_inside_a_quoted_phrase_does_not_end_it() -> None:
    got = [q[0] for q in quoted_phrases("Rate the review 'It's fresh and it's cheap!' please")]
    assert got == ["It's fresh and it's cheap!"]
    assert [q[0] for q in quoted_phrases("say \"hi there\" and 'bye'")] == ["hi there", "bye"]


def test_each_quoted_phrase_goes_to_the_parameter_named_before_it() -> None:
    op = _op(
        {
            "recipient": {"type": "string", "description": "E-mail address of the recipient."},
            "body": {"type": "string", "description": "The message text."},
            "subject": {"type": "string", "description": "The subject line."},
        }
    )
    got = fill(op, "Write to kim@example.org with the subject 'Budget' and message \"Call me\"")
    assert got.values == {"recipient": "kim@example.org", "subject": "Budget", "body": "Call me"}


def test_units_send_money_to_amounts_percent_to_rates_and_hours_to_hour_parameters() -> None:
    op = _op(
        {
            "years": {"type": "integer", "description": "How long it stays in the account."},
            "rate": {"type": "number", "description": "Annual interest rate as a decimal."},
            "principal": {"type": "integer", "description": "The amount invested in dollars."},
        }
    )
    got = fill(op, "I put in $2500 for 4 years at 3%")
    assert got.values == {"principal": 2500, "years": 4, "rate": 0.03}
    clock = _op(
        {
            "start_count": {"type": "integer", "description": "Cells at the start."},
            "span": {"type": "integer", "description": "Total duration in hours."},
        }
    )
    assert fill(clock, "begin with 300 cells and run it for 8 hours").values == {
        "start_count": 300,
        "span": 8,
    }


def test_a_percent_stays_whole_for_an_integer_parameter() -> None:
    op = _op({"cutoff": {"type": "integer", "description": "Confidence percentile to keep."}})
    assert fill(op, "drop anything under 40% confidence").values == {"cutoff": 40}


def test_a_value_the_description_names_fills_a_free_string() -> None:
    op = _op(
        {
            "action": {
                "type": "string",
                "description": "What to do: 'add' a note, 'archive' a note or 'pin' it.",
            },
            "flavour": {"type": "string", "description": "Taste, such as sweet, sour or bitter"},
        }
    )
    assert described_values(op.params[1]) == ["sweet", "sour", "bitter"]
    got = fill(op, "I archived the note; make it sour")
    assert got.values == {"action": "archive", "flavour": "sour"}


def test_number_runs_and_tuples_fill_the_list_named_before_them() -> None:
    groups = number_groups("points (1.5, -2.25) and (3, 4); then 7, 8 and 9")
    assert [g.values for g in groups] == [(1.5, -2.25), (3, 4), (7, 8, 9)]
    op = _op(
        {
            "left": {"type": "array", "items": {"type": "integer"}, "description": "Left set."},
            "right": {"type": "array", "items": {"type": "integer"}, "description": "Right set."},
        }
    )
    got = fill(op, "compare the left set 1, 2, 3 with the right set 4, 5 and 6")
    assert got.values == {"left": [1, 2, 3], "right": [4, 5, 6]}


def test_a_list_of_ids_leaves_the_number_its_own_parameter_names() -> None:
    op = _op(
        {
            "ids": {"type": "array", "items": {"type": "integer"}, "description": "Item ids."},
            "limit": {"type": "integer", "description": "The minimum stock level."},
        }
    )
    got = fill(op, "are items 11 for red and 12 for blue below the limit of 5?")
    assert got.values == {"ids": [11, 12], "limit": 5}


def test_a_file_path_goes_to_a_path_parameter() -> None:
    op = _op({"path": {"type": "string", "description": "Path to the CSV file."}})
    assert fill(op, "load C:/data/sales.csv and sum it").values == {"path": "C:/data/sales.csv"}


def test_an_optional_string_is_filled_only_after_its_own_name() -> None:
    op = _op(
        {
            "genre": {"type": "string", "description": "Genre of the film."},
            "directed_by": {"type": "string", "description": "Director, optional."},
            "clip_id": {"type": "string", "description": "Identifier, optional."},
        },
        required=["genre"],
    )
    got = fill(op, "find Western films directed by Ann Vale")
    assert got.values["directed_by"] == "Ann Vale" and "clip_id" not in got.values
    assert fill(op, "play Western, the clip_id is zz_91").values["clip_id"] == "zz_91"


def test_a_place_stops_at_the_end_of_its_sentence() -> None:
    op = _op({"location": {"type": "string", "description": "The city and country."}})
    got = fill(op, "What is it like in Lima, Peru. I am packing.")
    assert got.values == {"location": "Lima, Peru"}


def test_a_date_is_written_in_the_order_the_description_gives() -> None:
    op = _op({"date": {"type": "string", "description": "The day, in MM-DD-YYYY format."}})
    assert fill(op, "readings for 2021/03/09 please").values == {"date": "03-09-2021"}
    dots = _op({"date": {"type": "string", "description": "Day as YYYY.MM.DD"}})
    assert fill(dots, "readings for 2021-03-09").values == {"date": "2021.03.09"}


def test_a_yes_no_parameter_is_stated_by_a_word_it_starts() -> None:
    op = _op(
        {
            "ticket": {"type": "integer", "description": "Ticket number."},
            "closed_status": {"type": "boolean", "description": "Whether it is closed."},
            "verbose": {"type": "boolean", "description": "Long output."},
        },
        required=["ticket", "closed_status", "verbose"],
    )
    got = fill(op, "is ticket 88 closed yet?")
    assert got.values == {"ticket": 88, "closed_status": True, "verbose": False}
