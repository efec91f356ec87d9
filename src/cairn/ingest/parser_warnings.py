"""Catch what a parsing library logs while it reads one file, to report it with the file's name.

pypdf logs warnings such as ``Ignoring wrong pointing object 6 0 (offset 0)`` through
``logging``; with no handler configured Python's last-resort handler prints them bare on
stderr, naming no file, in the middle of a progress bar. :func:`parser_warnings` attaches a
handler for the duration of one file that collects the records this thread emits (another
thread's file is not mixed in); the ingest pipeline reports them as that file's warnings. A
logging set-up of the application's own (the server's) still receives them.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager


class ParserWarnings(logging.Handler):
    """The warnings one thread's parser logged, counted by message."""

    def __init__(self, thread: int) -> None:
        super().__init__(logging.WARNING)
        self.thread = thread
        self.messages: Counter[str] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread

    def emit(self, record: logging.LogRecord) -> None:
        self.messages[" ".join(record.getMessage().split())] += 1

    def summary(self, limit: int = 5) -> list[str]:
        """One line per distinct message (with its count), the most frequent first."""
        out = [f"{msg} (x{n})" if n > 1 else msg for msg, n in self.messages.most_common(limit)]
        if len(self.messages) > limit:
            out.append(f"and {len(self.messages) - limit} other parser warnings")
        return out


@contextmanager
def parser_warnings(logger_name: str) -> Iterator[ParserWarnings]:
    """Collect the warnings ``logger_name`` (and its children) log from this thread."""
    logger = logging.getLogger(logger_name)
    collector = ParserWarnings(threading.get_ident())
    logger.addHandler(collector)  # with a handler in the chain, no last-resort stderr line
    try:
        yield collector
    finally:
        logger.removeHandler(collector)
