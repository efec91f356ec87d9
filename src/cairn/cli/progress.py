"""Progress bars for the library's events: ingest (files, chunks embedded) and any counted step.

:func:`event_progress` turns the :class:`~cairn.events.Event` stream that ingest, evaluation and
training already emit into rich progress bars on stderr; :func:`step` shows a spinner for a
step that has no count (loading a model). Off a terminal (a log file, a pipe) both stay silent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from cairn.cli.common import err_console

if TYPE_CHECKING:
    from cairn.events import Event


class RateColumn(ProgressColumn):
    """Items per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f}/s" if speed else "", style="progress.data.speed")


@contextmanager
def event_progress(*, quiet: bool = False) -> Iterator[Callable[[Event], None]]:
    """An ``on_event`` callback that draws the progress of what it is given.

    Understood: an ingest stage start (``files``), per-file outcomes (``status``), embedding
    (``embedded`` of ``of``), and any counted step (``done`` of ``of``, named by its stage and
    an optional ``label``), such as the queries of an evaluation or the epochs of a training.
    Warnings, failures and skipped files are printed as one line each, naming the file (also
    when ``quiet``, which only hides the bars).
    """
    from cairn.events import EventType

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=quiet or not err_console.is_terminal,  # no bar frames in a log file
        transient=False,
    )
    tasks: dict[str, TaskID] = {}
    embedded_before = 0

    def task(name: str) -> TaskID:
        if name not in tasks:
            tasks[name] = progress.add_task(name, total=None)
        return tasks[name]

    def advance_file() -> None:
        files = task("files")
        progress.advance(files)
        t = progress.tasks[files]  # never show more done than the total (a 22/18)
        if t.total is not None and t.completed > t.total:
            progress.update(files, total=t.completed)

    def on_event(ev: Event) -> None:
        nonlocal embedded_before
        d = ev.data
        if ev.type == EventType.stage_start and "files" in d:
            task("files")
            progress.update(task("files"), total=d.get("files", 0))
            task("chunks embedded")
        elif ev.type == EventType.error:
            advance_file()
            if not quiet:
                err_console.print(
                    f"[red]failed[/] {escape(str(d.get('message')))}", highlight=False
                )
        elif ev.type == EventType.warning:
            if not quiet:
                err_console.print(
                    f"[yellow]warning[/] {escape(str(d.get('path')))}: "
                    f"{escape(str(d.get('message')))}",
                    highlight=False,
                )
        elif ev.type == EventType.progress and "embedded" in d:
            total = embedded_before + int(d["of"])
            progress.update(
                task("chunks embedded"), total=total, completed=embedded_before + int(d["embedded"])
            )
            if d["embedded"] >= d["of"]:
                embedded_before = total
        elif ev.type == EventType.progress and "status" in d:
            advance_file()
            if d["status"] in ("duplicate", "skipped"):
                message = str(d.get("message")).replace(": skipped: ", ": ")
                err_console.print(f"[yellow]skipped[/] {escape(message)}", highlight=False)
        elif ev.type == EventType.progress and "done" in d and "of" in d:
            name = f"{ev.stage} {d['label']}" if d.get("label") else ev.stage
            progress.update(task(name), total=int(d["of"]), completed=int(d["done"]))

    with progress:
        yield on_event


@contextmanager
def step(description: str, *, quiet: bool = False) -> Iterator[None]:
    """A spinner with ``description`` (e.g. "loading the speech model") while the block runs."""
    if quiet or not err_console.is_terminal:
        yield
        return
    with err_console.status(escape(description)):
        yield
