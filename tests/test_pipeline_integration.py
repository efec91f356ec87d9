"""The whole pipeline with the real packaged Whisper base and eSpeak NG (integration)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import cairn
from cairn.demo import DEMO_LICENSE, DEMO_QUESTION, demo_files
from cairn.events import Event, EventType
from cairn.graph.extract import CapitalisedExtractor
from cairn.models.embed import HashingEmbedder
from cairn.models.tts import EspeakTTS, read_wav
from cairn.pipeline import STAGES, run_pipeline

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def whisper():  # type: ignore[no-untyped-def]
    pytest.importorskip("faster_whisper", reason="needs: pip install 'cairn[speech]'")
    from cairn.errors import ModelError
    from cairn.models.stt import load_stt

    try:
        stt = load_stt()
        stt.warm_up()
    except ModelError as err:
        pytest.skip(f"packaged Whisper unavailable: {err.message}")
    return stt


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_spoken_question_to_spoken_cited_answer(whisper, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from cairn.models.stt import word_error_rate

    tts = EspeakTTS()
    question = tts.synthesize_to_file(DEMO_QUESTION, tmp_path / "question.wav")
    with cairn.open(
        tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    ) as kb:
        kb.ingest(demo_files(), collection="demo", license=DEMO_LICENSE)
        events: list[Event] = []
        result = run_pipeline(
            kb,
            audio=question,
            stt=whisper,
            tts=tts,
            speak_to=tmp_path / "answer.wav",
            on_event=events.append,
        )
        assert result.ok, result.error
        assert result.transcript is not None
        # eSpeak's "patented" is hard for Whisper base ("happened to"); the rest comes through.
        assert word_error_rate(DEMO_QUESTION, result.transcript) <= 0.35, result.transcript
        assert "steam engine" in result.transcript.lower()
        assert "continuous rotary motion" in result.transcript.lower()
        assert result.command is not None and result.command.intent == "ask"
        assert result.answer is not None and "Watt" in result.answer
        assert any(c.source.endswith("steam-engine.md") for c in result.citations)
        assert result.audio is not None
        samples, rate = read_wav(result.audio)
        assert samples.size / rate > 1.0
        ends = [e.stage for e in events if e.type == EventType.stage_end]
        assert tuple(ends) == STAGES
        assert kb.store.get_run(result.run_id or 0) is not None
