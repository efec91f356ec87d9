"""Whisper's encoder window cut to the clip (unit: the frame arithmetic; the option's default)."""

from __future__ import annotations

import numpy as np

from cairn.models.stt_window import (
    FULL_WINDOW,
    content_frames,
    drop_repeats,
    max_new_tokens,
    window_frames,
)


def test_content_frames_finds_where_the_zero_padding_starts() -> None:
    features = np.zeros((80, FULL_WINDOW), dtype=np.float32)
    features[:, :417] = -0.5  # log-mel of quiet audio is never exactly zero
    features[3, 416] = 0.0  # one zero bin does not end the content
    assert content_frames(features) == 417
    assert content_frames(features[None]) == 417  # with a batch axis
    assert content_frames(np.zeros((80, FULL_WINDOW), dtype=np.float32)) == 0
    assert content_frames(np.ones((80, FULL_WINDOW), dtype=np.float32)) == FULL_WINDOW


def test_window_frames_pads_rounds_to_even_and_caps_at_the_full_window() -> None:
    assert window_frames(417, 1.0) == 518  # 417 + 100 frames, made even
    assert window_frames(400, 0.0) == 400
    assert window_frames(2950, 1.0) == FULL_WINDOW
    assert window_frames(0, 0.0) == 2
    assert window_frames(417, 1.0, full=480) == 480


def test_whisper_keeps_its_30_s_window_by_default() -> None:
    from cairn.models.stt import WhisperSTT

    assert WhisperSTT("/nowhere").window_pad_seconds is None
    short = WhisperSTT("/nowhere", window_pad_seconds=1.0)
    assert short.with_context("clubs").window_pad_seconds == 1.0


def test_drop_repeats_keeps_one_copy_of_a_looping_phrase() -> None:
    loop = "Who invented the telephone? " * 5 + "Who invented"
    assert drop_repeats(loop) == "Who invented the telephone?"
    said_twice = "Summarize what my source to say. Summarize what my Source to say"
    assert drop_repeats(said_twice) == "Summarize what my source to say."
    # short repeats are speech ("five, five"), and so is anything not one phrase over and over
    assert drop_repeats("Five, five.") == "Five, five."
    assert drop_repeats("go go go go") == "go go go go"
    plain = "He could wait no longer. For a full hour he could wait no longer."
    assert drop_repeats(plain) == plain


def test_max_new_tokens_grows_with_the_clip_and_stops_at_the_window() -> None:
    assert max_new_tokens(0.0) == 8
    assert max_new_tokens(4.0) == 34
    assert max_new_tokens(60.0) == max_new_tokens(30.0) == 203
