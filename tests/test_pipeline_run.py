"""run_pipeline with fake models over a tiny KB: the event stream, failures, bad input."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cairn.answer.span import RuleSpans
from cairn.errors import ModelError
from cairn.events import Event, EventType
from cairn.knowledge import KnowledgeBase
from cairn.models.stt import FakeSTT
from cairn.models.tts import FakeTTS, Samples, TextToSpeech, read_wav, write_wav
from cairn.pipeline import STAGES, AskOptions, PipelineResult, run_pipeline
from helpers import FIXED_SUPPORT, fake_kb

SNAPSHOT = Path(__file__).with_name("test_pipeline_snapshot_ask.json")
QUESTION = "When was the Old Harbour Lighthouse built?"
DOCS = {
    "lighthouse.txt": (
        "The Old Harbour Lighthouse stands on the northern pier.\n\n"
        "It was built in 1874 by the engineer Margaret Hale. The tower is 31 metres tall "
        "and its lamp can be seen from 40 kilometres away."
    ),
    "bakery.txt": (
        "Rosa's Bakery opened on Mill Street in 1992. It sells sourdough bread and "
        "cinnamon rolls every morning. The bakery also sells bread to the lighthouse cafe."
    ),
}
# Fixed weights and rule spans, so the tests do not depend on fitted or spaCy models.
OPTIONS = AskOptions(
    spans=RuleSpans(),
    model=FIXED_SUPPORT,
)


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    base = fake_kb(tmp_path, DOCS)
    yield base
    base.close()


@pytest.fixture
def speech(tmp_path: Path) -> Path:
    """One second of a tone: FakeSTT "hears" its text in anything that is not silent."""
    t = np.arange(16000, dtype=np.float32) / 16000
    return write_wav(tmp_path / "q.wav", 0.3 * np.sin(2 * np.pi * 220 * t), 16000)


def _run(kb: KnowledgeBase, said: str, audio: Path, **kw: Any) -> PipelineResult:
    return run_pipeline(kb, audio=audio, stt=FakeSTT(said), ask_options=OPTIONS, **kw)


def _normalise(events: list[Event], tmp: Path) -> list[dict[str, Any]]:
    """Events without timestamps or timings, with the temporary folder as <tmp>."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k != "seconds"}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, str):
            return value.replace(str(tmp), "<tmp>")
        return value

    return [clean({k: v for k, v in e.as_dict().items() if k != "t"}) for e in events]


def test_ask_event_stream_matches_snapshot(kb: KnowledgeBase, speech: Path, tmp_path: Path) -> None:
    seen: list[Event] = []
    result = _run(
        kb, QUESTION, speech, tts=FakeTTS(), speak_to=tmp_path / "a.wav", on_event=seen.append
    )
    assert result.ok, result.error
    assert seen == result.events
    got = _normalise(result.events, tmp_path)
    if os.environ.get("CAIRN_UPDATE_SNAPSHOTS") or not SNAPSHOT.exists():
        SNAPSHOT.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert got == json.loads(SNAPSHOT.read_text("utf-8"))
    # every stage ran, in order, with start then end
    ends = [e.stage for e in result.events if e.type == EventType.stage_end]
    assert tuple(ends) == STAGES
    assert result.transcript == QUESTION
    assert result.command is not None and result.command.intent == "ask"
    assert result.command.query is not None and "Old Harbour Lighthouse" in result.command.query
    assert result.answer is not None and "1874 [1]" in result.answer
    (c,) = result.citations
    assert kb.document_text(c.document_id)[c.start : c.end] == c.quote
    assert result.audio is not None and read_wav(result.audio)[0].size > 0


def test_spoken_answer_names_sources(kb: KnowledgeBase, speech: Path, tmp_path: Path) -> None:
    tts = FakeTTS()
    _run(kb, QUESTION, speech, tts=tts, speak_to=tmp_path / "a.wav")
    spoken = " ".join(tts.calls)  # spoken piece by piece
    assert len(tts.calls) >= 2  # the answer is two sentences here
    assert "[1]" not in spoken
    assert "according to lighthouse" in spoken


def test_run_is_logged(kb: KnowledgeBase, speech: Path) -> None:
    result = _run(kb, QUESTION, speech)
    assert result.run_id is not None
    run = kb.store.get_run(result.run_id)
    assert run is not None
    assert run["status"] == "ok"
    assert run["request"] == QUESTION
    assert run["result"]["answer"] == result.answer
    assert run["result"]["citations"][0]["quote"] == result.citations[0].quote
    assert run["result"]["command"]["intent"] == "ask"
    assert [e["stage"] for e in run["events"]][:2] == ["stt", "stt"]
    assert kb.store.list_runs()[0]["id"] == result.run_id
    # asking stores nothing new in the documents
    assert [s.provenance.collection for s in kb.sources()] == ["town", "town"]


class BrokenTTS(TextToSpeech):
    name = "broken"

    def synthesize(self, text: str) -> tuple[Samples, int]:
        raise ModelError("tts-failed", "the speech engine crashed")


def test_failing_stage_keeps_earlier_results(
    kb: KnowledgeBase, speech: Path, tmp_path: Path
) -> None:
    result = _run(
        kb,
        "search for lighthouse",
        speech,
        tts=BrokenTTS(),
        speak_to=tmp_path / "a.wav",
        chart_to=tmp_path / "chart.png",
    )
    assert result.error is not None
    assert (result.error.code, result.error.stage) == ("tts-failed", "speak")
    last = result.events[-1]
    assert last.type == EventType.error
    assert last.data == {"code": "tts-failed", "message": "the speech engine crashed"}
    assert "remember" not in {e.stage for e in result.events}
    # what ran before is kept
    assert result.transcript == "search for lighthouse"
    assert result.command is not None and result.command.intent == "search"
    assert result.answer is not None and "[1] lighthouse: " in result.answer
    assert result.citations
    assert result.charts == [tmp_path / "chart.png"]
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.audio is None
    run = kb.store.get_run(result.run_id or 0)
    assert run is not None and run["status"] == "error"
    assert run["result"]["error"]["code"] == "tts-failed"


def test_silence_is_no_speech(kb: KnowledgeBase, tmp_path: Path) -> None:
    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(16000, dtype=np.float32), 16000)
    result = _run(kb, QUESTION, quiet)
    assert result.error is not None
    assert result.error.code == "no-speech"
    assert "No speech was heard" in result.error.message
    assert result.command is None and result.answer is None
    assert [(e.type, e.stage) for e in result.events] == [
        (EventType.stage_start, "stt"),
        (EventType.error, "stt"),
    ]
    assert kb.store.list_runs()[0]["status"] == "error"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty-audio"),
        (b"RIFF\xff\xff\x00\x00WAVEfmt " + b"\x00" * 30, "truncated-audio"),
        (b"hello, not audio at all", "unsupported-format"),
    ],
)
def test_bad_audio_is_an_error_event(
    kb: KnowledgeBase, tmp_path: Path, content: bytes, code: str
) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    result = _run(kb, QUESTION, bad)
    assert result.error is not None
    assert (result.error.code, result.error.stage) == (code, "stt")
    assert result.events[-1].type == EventType.error
    assert result.run_id is not None


def test_other_language_is_out_of_scope(kb: KnowledgeBase, speech: Path) -> None:
    result = _run(kb, "Wann wurde der alte Leuchtturm am Hafen gebaut?", speech)
    assert result.ok
    assert result.command is not None and result.command.intent == "out_of_scope"
    assert result.answer is not None and "Only English" in result.answer
    assert result.citations == ()


def test_remember_ingests_a_note(kb: KnowledgeBase, speech: Path) -> None:
    result = _run(kb, "Remember that the lighthouse keeper is Tom Baker", speech)
    assert result.ok, result.error
    assert result.note is not None and result.note.parent.name == "notes"
    assert result.note.read_text("utf-8") == "The lighthouse keeper is Tom Baker.\n"
    notes = kb.sources("notes")
    assert len(notes) == 1
    assert notes[0].provenance.consent.value == "granted"
    hits = kb.search("lighthouse keeper Tom Baker", k=3)
    assert hits[0].chunk.source_uri == str(result.note)
    assert result.events[-1].data["stored"] == "note"


def test_forget_needs_confirmation(kb: KnowledgeBase, speech: Path) -> None:
    result = _run(kb, "forget bakery.txt", speech)
    assert result.ok
    assert result.answer is not None and "Confirm" in result.answer
    assert len(kb.sources()) == 2
    result = _run(kb, "forget bakery.txt", speech, confirm=True)
    assert result.answer is not None and result.answer.startswith("Forgot")
    assert [Path(s.uri).name for s in kb.sources()] == ["lighthouse.txt"]
    result = _run(kb, "forget nothing-like-this.txt", speech, confirm=True)
    assert result.answer is not None and "found no source" in result.answer


@pytest.mark.parametrize(
    ("said", "intent", "expect"),
    [
        ("what can you do", "help", "search for steam engines"),
        ("list my sources", "list_sources", "2 sources"),
        ("delete it", "clarify", "Which source"),
        ("summarise what my sources say about the lighthouse", "synthesize", "Claim:"),
    ],
)
def test_other_intents(
    kb: KnowledgeBase, speech: Path, said: str, intent: str, expect: str
) -> None:
    result = _run(kb, said, speech)
    assert result.ok, result.error
    assert result.command is not None and result.command.intent == intent
    assert result.answer is not None and expect in result.answer


def test_typed_request_and_bad_arguments(kb: KnowledgeBase, speech: Path) -> None:
    result = run_pipeline(kb, text=QUESTION, ask_options=OPTIONS)
    assert result.ok and result.answer is not None and "1874" in result.answer
    assert result.events[1].data["skipped"] == "typed request"
    both = run_pipeline(kb, text=QUESTION, audio=speech, stt=FakeSTT("x"))
    assert both.error is not None and both.error.code == "bad-input"
    empty = run_pipeline(kb, text="   ")
    assert empty.error is not None
    assert (empty.error.code, empty.error.stage) == ("empty-request", "understand")


def test_missing_tts_fails_before_any_work(kb: KnowledgeBase, speech: Path, tmp_path: Path) -> None:
    class NoEngine(FakeTTS):
        def warm_up(self) -> None:
            raise ModelError("missing-program", "espeak-ng is not installed")

    stt = FakeSTT(QUESTION)
    result = run_pipeline(kb, audio=speech, stt=stt, tts=NoEngine(), speak_to=tmp_path / "a.wav")
    assert result.error is not None
    assert (result.error.code, result.error.stage) == ("missing-program", "speak")
    assert stt.calls == []  # nothing was transcribed


def test_a_failing_callback_does_not_stop_the_run(kb: KnowledgeBase, speech: Path) -> None:
    def boom(_: Event) -> None:
        raise RuntimeError("viewer crashed")

    result = _run(kb, QUESTION, speech, on_event=boom)
    assert result.ok and result.answer is not None
    assert any(e.type == EventType.warning for e in result.events)


def test_call_api_unknown_tool_is_an_answer(kb: KnowledgeBase, speech: Path) -> None:
    pytest.importorskip("cairn.tools")
    result = _run(kb, "call the weather api for Paris", speech)
    assert result.ok, result.error
    assert result.answer is not None and "I cannot call weather" in result.answer


def test_spoken_licence_filter_reaches_the_search(kb: KnowledgeBase) -> None:
    only_mit = run_pipeline(kb, text="search for the lighthouse, only MIT sources", save=False)
    assert only_mit.command is not None and only_mit.command.licenses == ["MIT"]
    assert only_mit.citations == ()
    only_cc = run_pipeline(kb, text="search for the lighthouse, only CC-BY sources", save=False)
    assert only_cc.citations and all(c.license == "CC-BY-4.0" for c in only_cc.citations)
