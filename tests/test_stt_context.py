"""Priming speech-to-text with the words of the knowledge base and its tools (fake models)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import cairn
from cairn.compose import speech_context
from cairn.demo import DEMO_LICENSE, demo_files
from cairn.events import Event, EventType
from cairn.graph.extract import CapitalisedExtractor
from cairn.knowledge import KnowledgeBase
from cairn.models.embed import HashingEmbedder
from cairn.models.stt import FakeSTT, WhisperSTT
from cairn.models.stt_context import (
    context_text,
    frequent_terms,
    kb_terms,
)
from cairn.models.tts import FakeTTS, wav_bytes, write_wav
from cairn.pipeline import run_pipeline
from cairn.server.gate import GatedSTT, WorkGate
from cairn.tools import add_openapi, list_api_tools
from cairn.tools.vocabulary import tool_terms

WEATHER = {
    "openapi": "3.0.3",
    "info": {"title": "Weather Service", "version": "1"},
    "servers": [{"url": "https://api.weather.example/v1"}],
    "paths": {
        "/stations/{id}/readings": {
            "get": {
                "operationId": "listReadings",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                    {
                        "name": "unit",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    },
                ],
            }
        }
    },
}


@pytest.fixture
def demo_kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    kb = cairn.open(
        tmp_path / "kb.sqlite", embedder=HashingEmbedder(), extractor=CapitalisedExtractor()
    )
    kb.ingest(demo_files(), collection="demo", license=DEMO_LICENSE)
    yield kb
    kb.close()


def tone(tmp_path: Path) -> Path:
    t = np.arange(16000, dtype=np.float32) / 16000
    return write_wav(tmp_path / "q.wav", 0.3 * np.sin(2 * np.pi * 220 * t), 16000)


def test_context_text_dedupes_cleans_and_caps() -> None:
    line = context_text(["Watt", "watt", " James\tWatt ", "", "a,b", "x\x1by", "Normans"])
    assert line == "Watt, James Watt, a b, x y, Normans"
    assert context_text([]) is None and context_text(["", " "]) is None
    capped = context_text([f"term{n}" for n in range(500)], max_chars=50)
    assert capped is not None and len(capped) <= 50 and capped.startswith("term0, term1")
    assert context_text(["x" * 61, "ok"]) == "ok"  # a "term" that long is not a name


def test_frequent_terms_skip_function_words_and_keep_spelling() -> None:
    texts = ["The Rankine cycle and the Rankine engine.", "Rankine was Scottish; engine, engine."]
    assert frequent_terms(texts, limit=3) == ["engine", "Rankine", "cycle"]
    assert "which" not in frequent_terms(["which which which which"])


def test_kb_terms_lead_with_titles_then_names(demo_kb: KnowledgeBase) -> None:
    terms = kb_terms(demo_kb.store)
    assert sorted(terms[:3]) == ["Normans", "Packet switching", "Steam engine"]
    assert {"Watt", "Normandy", "Newcomen"} <= set(terms)
    assert terms.index("Watt") < terms.index("steam")  # names before frequent words


def test_tool_words(tmp_path: Path) -> None:
    with cairn.open(tmp_path / "kb.sqlite", embedder=HashingEmbedder()) as kb:
        add_openapi(kb.store, WEATHER, allowed_hosts=["api.weather.example"], name="weather")
        terms = tool_terms(list_api_tools(kb.store))
        words = ["weather", "Weather Service", "list Readings", "id", "unit", "celsius"]
        assert terms == [*words, "fahrenheit"]
        line = speech_context(kb.store)
        assert line is not None and line.startswith("weather, Weather Service")
        assert "fahrenheit" in line


def test_kb_context_is_cached_until_the_kb_changes(demo_kb: KnowledgeBase, tmp_path: Path) -> None:
    first = speech_context(demo_kb.store)
    assert first is not None and "Steam engine" in first and len(first) <= 600
    assert speech_context(demo_kb.store) is first  # the same object: from the cache
    note = tmp_path / "lighthouse.md"
    note.write_text("# Lighthouse\n\nMargaret Hale built the Lighthouse in 1874.\n")
    demo_kb.ingest([note], collection="notes")
    second = speech_context(demo_kb.store)
    assert second is not None and second.startswith("Lighthouse, ")
    demo_kb.forget(str(note))
    assert speech_context(demo_kb.store) == first


def test_with_context_shares_the_loaded_model() -> None:
    stt = WhisperSTT("/nowhere/model", beam_size=2)
    primed = stt.with_context("  Watt, Normans ")
    assert primed.context == "Watt, Normans" and stt.context is None
    assert primed._loaded is stt._loaded and primed.beam_size == 2
    assert primed.with_context(None).context is None
    assert primed.with_context("   ").context is None


def test_the_pipeline_primes_stt_with_the_kb(demo_kb: KnowledgeBase, tmp_path: Path) -> None:
    fake = FakeSTT("who patented a steam engine")
    events: list[Event] = []
    result = run_pipeline(demo_kb, audio=tone(tmp_path), stt=fake, on_event=events.append)
    assert result.transcript == "who patented a steam engine"
    (context,) = fake.contexts
    assert context == speech_context(demo_kb.store)
    assert fake.context is None  # the caller's model is left as it was
    (end,) = [e for e in events if e.type == EventType.stage_end and e.stage == "stt"]
    assert end.data["primed"] is True
    # a model the caller primed already keeps its own words
    mine = fake.with_context("Rosa, bakery")
    run_pipeline(demo_kb, audio=tone(tmp_path), stt=mine)
    assert fake.contexts[-1] == "Rosa, bakery"


def test_an_unreadable_kb_leaves_stt_unprimed(
    demo_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn import compose
    from cairn.errors import StoreError

    def broken(store: object) -> str:
        raise StoreError("kb-read", "the disk went away")

    monkeypatch.setattr(compose, "speech_context", broken)
    fake = FakeSTT("who patented a steam engine")
    result = run_pipeline(demo_kb, audio=tone(tmp_path), stt=fake, save=False)
    assert result.ok and fake.contexts == [None]
    warnings = [e.data["message"] for e in result.events if e.type == EventType.warning]
    assert warnings == ["not primed: the disk went away"]


def test_gated_stt_passes_the_priming_on() -> None:
    fake = FakeSTT("hello")
    gated = GatedSTT(fake, WorkGate("transcriptions", 1, 1, 1))
    try:
        primed = gated.with_context("Watt")
        assert isinstance(primed, GatedSTT) and primed.gate is gated.gate
        assert primed.context == "Watt" and gated.context is None
        primed.transcribe_array(np.full(16000, 0.3, dtype=np.float32))
        assert fake.contexts == ["Watt"]
    finally:
        gated.close()


def test_server_transcription_prompt_and_kb_priming(demo_kb: KnowledgeBase, tmp_path: Path) -> None:
    from cairn.server import ServerSettings, create_app

    fake = FakeSTT("who patented a steam engine")
    settings = ServerSettings(data_dir=tmp_path / "data")
    app = create_app(settings, kb=demo_kb, stt=fake, tts=FakeTTS())
    t = np.arange(16000, dtype=np.float32) / 16000
    audio = {"file": ("q.wav", wav_bytes(0.3 * np.sin(2 * np.pi * 220 * t), 16000), "audio/wav")}
    with TestClient(app) as client:
        form = {"model": "whisper-1", "prompt": "Rosa, sourdough"}
        assert client.post("/v1/audio/transcriptions", files=audio, data=form).status_code == 200
        plain = client.post("/v1/audio/transcriptions", files=audio, data={"model": "whisper-1"})
        assert plain.status_code == 200
    assert fake.contexts == ["Rosa, sourdough", speech_context(demo_kb.store)]


def test_cli_transcribe_primes_with_an_existing_kb(demo_kb: KnowledgeBase, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from cairn.cli import app

    wav = str(tone(tmp_path))
    kb_file = str(tmp_path / "kb.sqlite")
    runner = CliRunner()

    def primed(*args: str) -> bool:
        res = runner.invoke(app, ["transcribe", wav, "--model", "fake:hello", "--json", *args])
        assert res.exit_code == 0, res.output
        out = json.loads(res.stdout)
        assert out["text"] == "hello"
        return bool(out["primed"])

    assert primed("--kb", kb_file)
    assert not primed("--kb", kb_file, "--no-prime")
    assert primed("--no-prime", "--prompt", "Watt")
    missing = tmp_path / "none" / "kb.sqlite"
    assert not primed("--kb", str(missing))
    assert not missing.parent.exists()  # not created just to be read
