"""Audio files as documents: transcribe with Whisper, keep where each segment was said.

The transcript's segments are joined with blank lines, so the sentence splitter and the
chunker always see a boundary between them. The document's ``segments`` metadata is a compact
JSON list of ``[start_char, end_char, start_s, end_s]``, one per segment, and
:func:`timestamps_for_span` maps a quoted character span back to seconds in the recording.

The speech model (the packaged Whisper base by default) is loaded once per process, on the
first audio file, and reused; transcriptions run one at a time, since one already uses every
core. Tests inject a model with :func:`set_transcriber`.

Codes: ``stt-unavailable`` (the speech extra is missing), ``stt-failed``, ``no-speech``, and
the :class:`~cairn.models.audio.AudioError` codes for files that cannot be decoded
(``unsupported-format``, ``truncated-audio``, ``undecodable-audio``, ``too-long``, ...).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.errors import LoadError, ModelError
from cairn.ingest.file_reading import AUDIO_EXTENSIONS, LoadedDocument, LoadOptions, _show

if TYPE_CHECKING:
    from cairn.models.stt import SpeechToText

__all__ = [
    "AUDIO_EXTENSIONS",
    "get_transcriber",
    "load_audio",
    "set_transcriber",
    "timestamps_for_span",
]
SEGMENT_SEPARATOR = "\n\n"  # a blank line: always a sentence and paragraph boundary
SPEECH_HINT = "pip install -e '.[speech]'"

_lock = threading.Lock()  # guards the two globals below
_transcriber: SpeechToText | None = None  # loaded (or injected) model, reused per process
_transcribe_lock = threading.Lock()  # one transcription at a time


def set_transcriber(stt: SpeechToText | None) -> None:
    """Use ``stt`` for audio files from now on; ``None`` forgets it (the default loads again)."""
    global _transcriber
    with _lock:
        _transcriber = stt


def get_transcriber() -> SpeechToText:
    """The process-wide speech model: the injected one, else the packaged Whisper, loaded once.

    Raises :class:`~cairn.errors.ModelError` when it cannot be loaded (nothing is cached then).
    """
    global _transcriber
    with _lock:
        if _transcriber is None:
            from cairn.models.stt import load_stt

            stt = load_stt()
            stt.warm_up()
            _transcriber = stt
        return _transcriber


def load_audio(path: Path, options: LoadOptions) -> list[LoadedDocument]:
    """Transcribe one audio file into one document (see the module docstring)."""
    del options  # the size limit is checked before loaders run; decoding caps the duration
    try:
        from cairn.models.audio import AudioError
    except ImportError as err:  # numpy missing: not a speech install
        raise _unavailable(path) from err
    try:
        stt = get_transcriber()
        with _transcribe_lock:
            transcript = stt.transcribe(path, word_timestamps=False)
    except AudioError as err:
        if err.code == "missing-package":
            raise _unavailable(path) from err
        raise LoadError(err.code, f"{_show(path)}: {_detail(err.message, path)}") from err
    except ModelError as err:
        if err.code == "missing-package":
            raise _unavailable(path) from err
        raise LoadError("stt-failed", f"{_show(path)}: transcription failed: {err}") from err
    text, spans = _join_segments(transcript.segments)
    if not text:
        raise LoadError(
            "no-speech",
            f"{_show(path)}: no speech detected in {transcript.duration:.1f} s of audio",
        )
    metadata = {
        "format": path.suffix.lower().lstrip("."),
        "kind": "audio",
        "language": transcript.language,
        "duration": f"{transcript.duration:.2f}",
        "segments": json.dumps(spans, separators=(",", ":")),
        "stt": stt.name,
    }
    return [LoadedDocument(text, path.stem, None, metadata)]


def _join_segments(segments: list[Any]) -> tuple[str, list[list[float | int]]]:
    """The transcript text and ``[start_char, end_char, start_s, end_s]`` per kept segment."""
    parts: list[str] = []
    spans: list[list[float | int]] = []
    offset = 0
    for seg in segments:
        said = " ".join(seg.text.split())
        if not said:
            continue
        if parts:
            offset += len(SEGMENT_SEPARATOR)
        parts.append(said)
        spans.append([offset, offset + len(said), round(seg.start, 2), round(seg.end, 2)])
        offset += len(said)
    return SEGMENT_SEPARATOR.join(parts), spans


def timestamps_for_span(
    metadata: dict[str, str], start: int, end: int
) -> tuple[float, float] | None:
    """Seconds ``(from, to)`` in the recording where ``text[start:end]`` was said.

    Covers every segment the span overlaps (a point span, ``start == end``, picks the segment
    it falls in). ``None`` when the document is not a transcript or the span touches no segment.
    """
    raw = metadata.get("segments")
    if metadata.get("kind") != "audio" or not raw:
        return None
    try:
        segments = json.loads(raw)
    except ValueError:
        return None
    if end < start:
        start, end = end, start
    hits: list[tuple[float, float]] = []
    for item in segments:
        if not isinstance(item, list) or len(item) != 4:
            continue
        s_char, e_char, s_sec, e_sec = item
        overlaps = s_char < end and start < e_char
        inside = start == end and s_char <= start <= e_char
        if overlaps or inside:
            hits.append((float(s_sec), float(e_sec)))
    if not hits:
        return None
    return min(h[0] for h in hits), max(h[1] for h in hits)


def _unavailable(path: Path) -> LoadError:
    return LoadError(
        "stt-unavailable", f"{_show(path)}: is audio, and transcribing needs: {SPEECH_HINT}"
    )


def _detail(message: str, path: Path) -> str:
    """An AudioError's message without the path it already starts with."""
    name = str(path)
    return message[len(name) :].lstrip(" :") if message.startswith(name) else message
