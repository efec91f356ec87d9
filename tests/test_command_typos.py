"""Misspelt parameter words in typed requests (cairn.command.typos)."""

from __future__ import annotations

from typing import Any

from cairn.command.operations import from_function_doc
from cairn.command.slots import fill
from cairn.command.typos import mend_typos, one_edit


def test_one_edit_means_one_letter_added_dropped_changed_or_two_swapped() -> None:
    assert one_edit("acceleeration", "acceleration")
    assert one_edit("duratoin", "duration")
    assert one_edit("temperture", "temperature")
    assert not one_edit("duration", "duration")
    assert not one_edit("velocity", "velocities")


def test_only_long_words_near_exactly_one_parameter_word_are_mended() -> None:
    names = ["acceleration", "velocity", "time"]
    assert mend_typos("acceleeration of 9.8", names) == "acceleration of 9.8"
    assert mend_typos("tine of 5", names) == "tine of 5"  # short words are left alone
    # another ending of the same word is not a typo
    assert mend_typos("durations and scored", ["duration", "scores"]) == "durations and scored"


def _op(props: dict[str, Any], required: list[str] | None = None) -> Any:
    return from_function_doc(
        {
            "name": "motion.run",
            "description": "A made-up operation.",
            "parameters": {
                "type": "dict",
                "properties": props,
                "required": list(props) if required is None else required,
            },
        }
    )


def test_a_misspelt_parameter_word_still_names_its_value() -> None:
    op = _op(
        {
            "time": {"type": "number", "description": "Seconds."},
            "acceleration": {"type": "number", "description": "In m/s^2."},
            "initial_velocity": {"type": "number", "description": "Start speed in m/s."},
        },
        required=["time", "initial_velocity"],  # an optional value is only taken when named
    )
    got = fill(op, "an initial velocity of 10, an acceleeration of 9.8 and 5 seconds")
    assert got.values == {"initial_velocity": 10, "acceleration": 9.8, "time": 5}


def test_a_short_form_names_its_parameter() -> None:
    op = _op(
        {
            "identifier": {"type": "string", "description": "Which appointment."},
            "when": {"type": "string", "description": "The new date and time."},
        }
    )
    assert fill(op, "move my appointment with id dentist to tomorrow").values["identifier"] == (
        "dentist"
    )
