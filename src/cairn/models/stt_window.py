"""Whisper on a window cut to the clip instead of 30 seconds.

Whisper's encoder was trained on 30 s windows, and faster-whisper pads every clip to one
(3000 mel frames), so a 4 s question costs the encoder as much as 30 s of speech: on 2 CPU
cores that pass is most of Whisper base's time to a transcript. CTranslate2 (4.x) also runs the
encoder on fewer frames. :func:`short_window_model` builds a ``faster_whisper.WhisperModel``
whose encoder sees only the frames that hold audio plus ``pad_seconds`` of the padding (the
decoder then attends to fewer positions too); whisper.cpp calls the same idea ``audio_ctx``.
The model never saw such windows in training, so whether it hears as well is measured, not
assumed (BENCHMARKS.md). Clips of 30 s or more are encoded as before.

On short windows Whisper sometimes says the clip twice ("Who invented the telephone? Who
invented the telephone? ..."), a loop its temperature fallback does not catch when the repeats
compress poorly. Two guards apply with the short window: at most :func:`max_new_tokens` tokens
per window (speech runs at 3-4 tokens a second), and :func:`drop_repeats` keeps one copy of a
segment that is one phrase said over and over.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "FRAMES_PER_SECOND",
    "content_frames",
    "drop_repeats",
    "max_new_tokens",
    "short_window_model",
    "window_frames",
]

#: Whisper's mel frames per second of audio (hop 160 at 16 kHz).
FRAMES_PER_SECOND = 100
#: Whisper's full window, in mel frames.
FULL_WINDOW = 3000
#: Tokens allowed per second of audio (plus :data:`EXTRA_TOKENS`), timestamps included.
TOKENS_PER_SECOND = 6.5
EXTRA_TOKENS = 8
#: Shortest phrase (in words) whose back-to-back repeats :func:`drop_repeats` removes.
MIN_REPEAT_WORDS = 3
_PUNCTUATION = ".,;:!?\"'()-\u2013\u2014"


def max_new_tokens(seconds: float) -> int:
    """How many tokens a window of ``seconds`` of speech may produce."""
    return int(min(seconds, FULL_WINDOW / FRAMES_PER_SECOND) * TOKENS_PER_SECOND) + EXTRA_TOKENS


def drop_repeats(text: str) -> str:
    """``text`` once, if it is one phrase of :data:`MIN_REPEAT_WORDS` words or more said twice
    or more back to back (the last copy may be cut short); else ``text`` unchanged."""
    words = text.split()
    plain = [w.strip(_PUNCTUATION).lower() for w in words]  # "switching." = "switching"
    for n in range(MIN_REPEAT_WORDS, len(words) // 2 + 1):
        if all(plain[i] == plain[i % n] for i in range(n, len(words))):
            return " ".join(words[:n])
    return text


def content_frames(features: npt.NDArray[np.floating]) -> int:
    """How many leading frames of ``features`` (``(mels, frames)`` or ``(1, mels, frames)``)
    hold audio: faster-whisper pads a window with frames of exact zeros."""
    columns = np.abs(features).reshape(-1, features.shape[-1]).max(axis=0)
    used = np.flatnonzero(columns > 0)
    return int(used[-1]) + 1 if used.size else 0


def window_frames(content: int, pad_seconds: float, full: int = FULL_WINDOW) -> int:
    """The window to encode: the content plus the padding, an even number of frames (the
    encoder's convolution halves it), never more than ``full``."""
    frames = content + round(pad_seconds * FRAMES_PER_SECOND)
    frames += frames % 2
    return max(2, min(frames, full))


def short_window_model(pad_seconds: float, *args: Any, **kwargs: Any) -> Any:
    """A ``faster_whisper.WhisperModel`` (built with ``args``/``kwargs``) that encodes each
    window cut to its audio plus ``pad_seconds``."""
    from faster_whisper import WhisperModel

    class ShortWindowWhisper(WhisperModel):  # type: ignore[misc]
        def encode(self, features: npt.NDArray[np.floating]) -> Any:
            frames = window_frames(content_frames(features), pad_seconds, features.shape[-1])
            return super().encode(features[..., :frames])

    return ShortWindowWhisper(*args, **kwargs)
