"""Stage events: one stream feeds the CLI's live view, the server's SSE stream and the run log."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    stage_start = "stage-start"
    stage_end = "stage-end"
    progress = "progress"
    warning = "warning"
    error = "error"


class Stage(StrEnum):
    """The stages of one request, in the order they run (``cairn.pipeline.stages``). The web
    UI's ``STAGE`` constant in ``server/static/app.js`` holds the same names (a test checks)."""

    stt = "stt"
    understand = "understand"
    act = "act"
    answer = "answer"
    chart = "chart"
    speak = "speak"
    remember = "remember"


@dataclass(frozen=True)
class Event:
    type: EventType
    stage: str
    data: dict[str, Any] = field(default_factory=dict)
    t: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type.value, "stage": self.stage, "data": self.data, "t": self.t}


EventCallback = Callable[[Event], None]


def ignore(_: Event) -> None:
    """The default callback: drop events."""
