"""Currencies said in requests, read as ISO codes for currency parameters."""

from __future__ import annotations

from typing import Any

from cairn.command.currencies import currencies_said
from cairn.command.operations import from_function_doc
from cairn.command.slots import fill


def _op(props: dict[str, Any]) -> Any:
    return from_function_doc(
        {
            "name": "money.convert",
            "description": "Convert an amount between currencies.",
            "parameters": {"type": "dict", "properties": props, "required": list(props)},
        }
    )


CONVERT = _op(
    {
        "amount": {"type": "number", "description": "How much."},
        "from_currency": {"type": "string", "description": "Currency of the amount."},
        "to_currency": {"type": "string", "description": "Currency wanted."},
    }
)


def test_the_amounts_currency_is_the_source_and_the_other_the_target() -> None:
    got = fill(CONVERT, "Convert 150 Euros to Canadian dollars.").values
    assert got == {"amount": 150, "from_currency": "EUR", "to_currency": "CAD"}
    # the target said first, the amount's currency second
    got = fill(CONVERT, "How many Japanese yen can I get for 500 US dollars?").values
    assert got["from_currency"] == "USD" and got["to_currency"] == "JPY"
    got = fill(CONVERT, "the rate from British pounds to Swiss francs for 1 unit").values
    assert got["from_currency"] == "GBP" and got["to_currency"] == "CHF"


def test_one_currency_parameter_takes_the_one_currency_said() -> None:
    op = _op(
        {
            "city": {"type": "string", "description": "City."},
            "currency": {"type": "string", "enum": ["usd", "eur"], "description": "Unit."},
        }
    )
    assert fill(op, "prices in Paris in euros").values["currency"] == "eur"


def test_a_weight_in_pounds_is_not_a_currency() -> None:
    assert currencies_said("a 5 pounds of flour order") == []
    assert [s.code for s in currencies_said("$20 or 20 dollars")] == ["USD", "USD"]
