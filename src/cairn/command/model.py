"""The structured command a request is turned into, with a published JSON schema.

``Command.model_json_schema()`` is the contract: the grammar fills it, an LLM is asked for JSON
under it, and the acting stage reads it. Slots a given intent does not use stay empty.
"""

from __future__ import annotations

import re
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Intent = Literal[
    "search",
    "ask",
    "synthesize",
    "call_api",
    "chart",
    "remember",
    "list_sources",
    "forget",
    "help",
    "clarify",
    "out_of_scope",
]
INTENTS: tuple[str, ...] = get_args(Intent)
ChartKind = Literal["bar", "line", "pie", "scatter"]
Engine = Literal["grammar", "llm"]
ParamValue = str | int | float | bool

# A year (1066), a month (2019-03) or a day (2019-03-14); inclusive bounds.
_ISO_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")

#: Slots that carry meaning (compared by the evaluation); the rest is metadata.
SLOT_NAMES: tuple[str, ...] = (
    "query",
    "collection",
    "date_from",
    "date_to",
    "licenses",
    "api_operation",
    "api_params",
    "chart_kind",
    "source",
)


class Command(BaseModel):
    """One request as a structured command."""

    model_config = ConfigDict(extra="forbid", title="Command")

    intent: Intent = Field(description="What the person wants done.")
    query: str | None = Field(
        default=None,
        description="search/ask/synthesize/chart: the topic, question or claim; "
        "remember: the fact to store.",
    )
    collection: str | None = Field(default=None, description="Only this collection.")
    date_from: str | None = Field(
        default=None,
        description="Inclusive lower bound: an ISO year, year-month or date (2019, 2019-03, "
        "2019-03-14). Only absolute dates; 'last year' leaves it empty.",
    )
    date_to: str | None = Field(default=None, description="Inclusive upper bound, like date_from.")
    licenses: list[str] = Field(
        default_factory=list, description="Only sources under these SPDX licence ids."
    )
    api_operation: str | None = Field(
        default=None,
        description="call_api: 'service' or 'service.operation', lowercase snake_case.",
    )
    api_params: dict[str, ParamValue] = Field(
        default_factory=dict,
        description="call_api: parameters; 'q' holds the main free-text argument.",
    )
    chart_kind: ChartKind | None = Field(
        default=None, description="chart: the kind asked for, if any."
    )
    source: str | None = Field(
        default=None, description="forget: the source meant (id, file name, URL or title)."
    )
    clarification: str | None = Field(
        default=None,
        description="What to say back: the question to ask when intent is 'clarify', "
        "a short explanation when 'out_of_scope'.",
    )
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    engine: Engine = Field(default="grammar", description="What produced this command.")

    @field_validator("date_from", "date_to")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = str(value).strip()
        if not _ISO_DATE.match(value):
            raise ValueError(f"{value!r} is not an ISO year, year-month or date")
        return value

    @field_validator("query", "collection", "source", "api_operation", "clarification")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        return value or None

    @model_validator(mode="after")
    def _ordered_dates(self) -> Command:
        if self.date_from and self.date_to and self.date_from[:4] > self.date_to[:4]:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}")
        return self

    def slots(self) -> dict[str, Any]:
        """The non-empty meaningful slots (no intent, clarification or metadata)."""
        data = self.model_dump(include=set(SLOT_NAMES))
        return {k: v for k, v in data.items() if v not in (None, [], {})}


def command_schema() -> dict[str, Any]:
    """The published JSON schema of :class:`Command`."""
    return Command.model_json_schema()
