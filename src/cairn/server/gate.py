"""Admission control for slow model calls (Whisper), so they cannot starve searches.

A transcription takes seconds of CPU; a search, milliseconds. Without a limit, a few
concurrent uploads take every core and searches wait behind them. The gate lets
``slots`` calls run at once and ``queue`` more wait their turn; a call beyond that fails at
once with :class:`BusyError` (HTTP 503 with ``Retry-After``) instead of piling up.
"""

from __future__ import annotations

import contextlib
import copy
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy.typing as npt

from cairn.errors import ModelError
from cairn.models.audio import SAMPLE_RATE
from cairn.models.stt import Progress, SpeechToText, Transcript


class BusyError(ModelError):
    """Too many calls are running or waiting; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__("busy", message)
        self.retry_after = retry_after


class WorkGate:
    """At most ``slots`` holders at once, at most ``queue`` more waiting; others are refused."""

    def __init__(self, what: str, slots: int, queue: int, retry_after: int) -> None:
        self.what = what
        self.slots = slots
        self.queue = queue
        self.retry_after = retry_after
        self._turns = threading.Semaphore(slots)
        self._lock = threading.Lock()
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Calls running or waiting now."""
        return self._admitted

    def full(self) -> bool:
        return self._admitted >= self.slots + self.queue

    def _refusal(self) -> BusyError:
        return BusyError(
            f"{self.what} is busy: {self.slots} running and {self.queue} waiting, the most "
            f"this server accepts; try again in {self.retry_after} s",
            self.retry_after,
        )

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Wait for a turn (when admitted) and hold it for the ``with`` body."""
        with self._lock:
            if self.full():
                raise self._refusal()
            self._admitted += 1
        try:
            with self._turns:
                yield
        finally:
            with self._lock:
                self._admitted -= 1

    def check(self) -> None:
        """Raise :class:`BusyError` now if a new call would be refused."""
        if self.full():
            raise self._refusal()


def lower_thread_priority(nice: int) -> None:
    """Give the calling thread (and the threads it starts later) a nice value of at least
    ``nice`` (Linux: priority is per thread). Never raises it; a no-op where unsupported."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        current = os.getpriority(os.PRIO_PROCESS, tid)
        if current < nice:
            os.setpriority(os.PRIO_PROCESS, tid, nice)


class GatedSTT(SpeechToText):
    """A speech-to-text model whose transcriptions pass through a :class:`WorkGate` and run
    on the gate's own threads, at a lower CPU priority (``nice``).

    The model is loaded on those threads too, so the threads Whisper (CTranslate2) starts
    inherit the lower priority: when the cores are oversubscribed, searches go first.
    """

    def __init__(self, inner: SpeechToText, gate: WorkGate, *, nice: int = 0) -> None:
        self.inner = inner
        self.gate = gate
        self.nice = nice
        self.name = inner.name
        self.context = inner.context
        self._pool = ThreadPoolExecutor(
            max_workers=gate.slots,
            thread_name_prefix="cairn-stt",
            initializer=lower_thread_priority,
            initargs=(nice,),
        )

    def transcribe_array(
        self,
        audio: npt.NDArray[Any],
        sample_rate: int = SAMPLE_RATE,
        *,
        language: str | None = None,
        word_timestamps: bool = True,
        on_progress: Progress | None = None,
    ) -> Transcript:
        with self.gate.slot():
            return self._pool.submit(
                self.inner.transcribe_array,
                audio,
                sample_rate,
                language=language,
                word_timestamps=word_timestamps,
                on_progress=on_progress,
            ).result()

    def warm_up(self) -> None:
        self._pool.submit(self.inner.warm_up).result()

    def with_context(self, words: str | None) -> GatedSTT:
        twin = copy.copy(self)  # the same gate and threads, the inner model primed
        twin.inner = self.inner.with_context(words)
        twin.context = twin.inner.context
        return twin

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
