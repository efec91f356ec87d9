"""Spoken requests against the user's own APIs, scored end to end from audio.

A request set is a JSON-lines file next to an OpenAPI document: one object per request with
``id``, ``split`` (``design`` or ``report``), ``text`` (as people say it: lower case, numbers
in words), ``operation`` (the operationId it means) and ``params`` (the values the server
should receive). Each request is spoken by a text-to-speech engine into a WAV file,
transcribed by Cairn's speech-to-text and run through :func:`cairn.pipeline.run_pipeline`
(what ``cairn voice`` runs) against a knowledge base where the document is registered as a
tool whose server listens on loopback. Three figures per request:

* operation: the command calls the operation the request means;
* parameters: the command's parameters equal the expected ones exactly (numbers by value,
  nothing missing, nothing extra);
* end to end: the server received exactly that call and the pipeline ended without an error.

``voice="text"`` skips speech (the typed request goes in), which separates what speech
recognition loses from what understanding gets wrong. Nothing here knows any particular API:
the servers and their call logs are the caller's.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.errors import CairnError

if TYPE_CHECKING:
    from cairn.knowledge import KnowledgeBase
    from cairn.models.stt import SpeechToText
    from cairn.models.tts import TextToSpeech

TARGET_END_TO_END = 0.90
SPLITS = ("design", "report")
# What one server received: (operationId, query parameters as strings), in order.
Calls = list[tuple[str, dict[str, str]]]


class SpokenApiError(CairnError):
    """A request set cannot be read."""


@dataclass(frozen=True)
class SpokenRequest:
    id: str
    split: str
    text: str
    operation: str
    params: dict[str, Any]


def load_requests(path: Path) -> list[SpokenRequest]:
    """The requests of one JSON-lines file; a bad line is a one-line error naming it."""
    out: list[SpokenRequest] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SpokenApiError("bad-request-set", f"{path}: cannot read it ({exc})") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            req = SpokenRequest(
                id=str(item["id"]),
                split=str(item["split"]),
                text=str(item["text"]),
                operation=str(item["operation"]),
                params=dict(item["params"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise SpokenApiError(
                "bad-request-set",
                f"{path}:{n}: not a request (needs id, split, text, operation, params): {exc}",
            ) from exc
        if req.split not in SPLITS:
            raise SpokenApiError(
                "bad-request-set", f"{path}:{n}: split {req.split!r} is not one of {SPLITS}"
            )
        out.append(req)
    if not out:
        raise SpokenApiError("bad-request-set", f"{path}: holds no requests")
    return out


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return str(got).lower() == str(want).lower()
    if isinstance(want, int | float):
        try:
            return float(got) == float(want)
        except (TypeError, ValueError):
            return False
    return str(got) == str(want)


def params_match(got: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    """Exactly the expected parameters, each with the expected value (numbers by value)."""
    return set(got) == set(want) and all(_same(got[k], want[k]) for k in want)


@dataclass
class Outcome:
    """One request run once with one voice."""

    id: str
    document: str
    split: str
    voice: str
    text: str
    transcript: str = ""
    intent: str = ""
    operation: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    received: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    operation_ok: bool = False
    params_ok: bool = False
    end_to_end: bool = False
    error: str = ""
    seconds: float = 0.0


def run_request(
    kb: KnowledgeBase,
    req: SpokenRequest,
    *,
    document: str,
    calls: Calls,
    voice: str = "text",
    tts: TextToSpeech | None = None,
    stt: SpeechToText | None = None,
    workdir: Path | None = None,
    reuse_wav: bool = False,
) -> Outcome:
    """Speak ``req`` (unless ``voice == "text"``), run it through the pipeline, score it.

    ``calls`` is the log the server of ``document`` (registered under that tool name) appends
    to; what it gains during the run is what arrived. ``reuse_wav``: a WAV already in
    ``workdir`` for this request and voice is heard as it is (not spoken again)."""
    from cairn.pipeline.run import run_pipeline

    out = Outcome(req.id, document, req.split, voice, req.text)
    audio: Path | None = None
    if voice != "text":
        folder = workdir or Path(tempfile.mkdtemp(prefix="cairn-spoken-api-"))
        kept = folder / f"{req.id}-{voice}.wav"
        if reuse_wav and kept.is_file():
            audio = kept
        elif tts is None:
            raise ValueError("a voice other than 'text' needs a text-to-speech engine")
        else:
            audio = tts.synthesize_to_file(req.text, kept)
    before = len(calls)
    began = time.perf_counter()
    result = run_pipeline(kb, audio=audio, text=None if audio else req.text, stt=stt, save=False)
    out.seconds = time.perf_counter() - began
    out.transcript = result.transcript or ""
    out.received = [(op, dict(q)) for op, q in calls[before:]]
    if result.error is not None:
        out.error = f"{result.error.stage}: {result.error.message}"
    command = result.command
    if command is not None:
        out.intent = command.intent
        out.operation = command.api_operation or ""
        out.params = dict(command.api_params or {})
    want_op = f"{document}.{req.operation}"
    out.operation_ok = out.intent == "call_api" and out.operation == want_op
    out.params_ok = out.operation_ok and params_match(out.params, req.params)
    out.end_to_end = (
        result.error is None
        and len(out.received) == 1
        and out.received[0][0] == req.operation
        and params_match(out.received[0][1], req.params)
    )
    return out


@dataclass
class Score:
    n: int
    operation: float
    params: float
    end_to_end: float
    p50_seconds: float

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Score:
        n = len(outcomes)
        if not n:
            return cls(0, 0.0, 0.0, 0.0, 0.0)
        return cls(
            n,
            sum(o.operation_ok for o in outcomes) / n,
            sum(o.params_ok for o in outcomes) / n,
            sum(o.end_to_end for o in outcomes) / n,
            statistics.median(o.seconds for o in outcomes),
        )


def score_table(outcomes: Iterable[Outcome]) -> dict[str, dict[str, Score]]:
    """Scores per voice, then per split, per document and over all requests."""
    table: dict[str, dict[str, Score]] = {}
    items = list(outcomes)
    for voice in dict.fromkeys(o.voice for o in items):
        mine = [o for o in items if o.voice == voice]
        row: dict[str, Score] = {}
        for split in SPLITS:
            row[f"split:{split}"] = Score.of([o for o in mine if o.split == split])
        for doc in dict.fromkeys(o.document for o in mine):
            row[f"document:{doc}"] = Score.of([o for o in mine if o.document == doc])
        row["all"] = Score.of(mine)
        table[voice] = row
    return table


def report_dict(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    table = score_table(outcomes)
    return {
        "scores": {v: {k: asdict(s) for k, s in row.items()} for v, row in table.items()},
        "target_end_to_end": TARGET_END_TO_END,
        "outcomes": [asdict(o) for o in outcomes],
    }


def failures(outcomes: Iterable[Outcome]) -> list[str]:
    """One line per request that did not succeed end to end: what was heard and done."""
    lines = []
    for o in outcomes:
        if o.end_to_end:
            continue
        heard = f" heard {o.transcript!r}" if o.voice != "text" else ""
        got = f"{o.intent} {o.operation} {json.dumps(o.params, sort_keys=True)}".strip()
        error = f" | {o.error}" if o.error else ""
        lines.append(f"{o.voice} {o.id}: {o.text!r}{heard} -> {got}{error}")
    return lines


ProgressFn = Callable[[Outcome], None]
