"""`cairn eval speech` / `cairn eval voice` plumbing with fakes on tiny generated data (fast)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cairn.answer.span import RuleSpans
from cairn.demo import DEMO_QUESTION
from cairn.errors import ConfigError
from cairn.graph.extract import CapitalisedExtractor
from cairn.models.embed import HashingEmbedder
from cairn.models.stt import FakeSTT
from cairn.models.tts import FakeTTS, write_wav
from cairn_eval.speech import (
    GOFORWARD_TEXT,
    default_sets,
    librispeech_clips,
    pocketsphinx_clips,
    round_trip,
    run_speech_eval,
    sphinx_transcription,
)
from cairn_eval.voice import run_voice_eval

RATE = 16000


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


@pytest.fixture
def librispeech(tmp_path: Path) -> Path:
    root = tmp_path / "libri" / "test-clean" / "1" / "2"
    root.mkdir(parents=True)
    write_wav(root / "1-2-0000.wav", tone(2.0), RATE)
    write_wav(root / "1-2-0001.wav", tone(1.0), RATE)
    (root / "1-2.trans.txt").write_text(
        "1-2-0000 GO FORWARD TEN METERS\n1-2-0001 GO BACK TEN METERS\n1-2-0002 NO AUDIO FILE\n"
    )
    return tmp_path / "libri"


@pytest.fixture
def sphinx(tmp_path: Path) -> Path:
    root = tmp_path / "sphinx"
    (root / "librivox").mkdir(parents=True)
    (root / "cards").mkdir()
    write_wav(root / "librivox" / "a.wav", tone(1.0), RATE)
    (root / "librivox" / "transcription").write_text("<s> go forward ten meters </s> (a)\n")
    write_wav(root / "cards" / "001.wav", tone(1.0), RATE)
    (root / "cards" / "cards.transcription").write_text(
        "<s> ten of clubs  </s> (001)\n<s> missing clip </s> (002)\n"
    )
    pcm = (tone(0.5) * 32767).astype("<i2").tobytes()
    (root / "goforward.raw").write_bytes(pcm)
    return root


def test_sphinx_transcription_lines(tmp_path: Path) -> None:
    path = tmp_path / "t"
    path.write_text("<s> ten of clubs  </s> (001)\nnot a line\nfive five (004)\n")
    assert sphinx_transcription(path) == {"001": "ten of clubs", "004": "five five"}


def test_sets_are_found_and_clips_without_audio_skipped(librispeech: Path, sphinx: Path) -> None:
    assert [c.id for c in librispeech_clips(librispeech)] == ["1-2-0000", "1-2-0001"]
    sets = pocketsphinx_clips(sphinx)
    assert sorted(sets) == [
        "pocketsphinx-cards",
        "pocketsphinx-goforward",
        "pocketsphinx-librivox",
    ]
    assert [c.id for c in sets["pocketsphinx-cards"]] == ["001"]
    raw = sets["pocketsphinx-goforward"][0]
    assert raw.reference == GOFORWARD_TEXT and raw.raw_rate == RATE
    audio, rate = raw.samples()
    assert rate == RATE and audio.size == RATE // 2
    assert default_sets(librispeech / "nope", librispeech / "nope") == {}


def test_wer_per_set_and_overall(librispeech: Path, sphinx: Path) -> None:
    pytest.importorskip("av")
    report = run_speech_eval(
        FakeSTT("go forward ten meters"), librispeech=librispeech, pocketsphinx=sphinx
    )
    out = report.as_dict()
    assert out["model"] == "fake-stt"
    sets = out["sets"]
    assert sets["librispeech"] == sets["librispeech"] | {"clips": 2, "errors": 1, "words": 8}
    assert sets["librispeech"]["wer"] == pytest.approx(1 / 8)
    assert sets["pocketsphinx-librivox"]["errors"] == 0
    # "ten of clubs" vs "go forward ten meters": 2 insertions, 1 substitution, 1 deletion
    assert sets["pocketsphinx-cards"]["errors"] == 4
    assert sets["pocketsphinx-goforward"]["wer"] == 0.0
    assert out["overall"]["clips"] == 5
    assert out["overall"]["words"] == 8 + 4 + 3 + 4
    assert out["overall"]["errors"] == 5
    assert out["overall"]["rtf_median"] is not None and out["overall"]["rtf_median"] >= 0
    clip = next(c for c in out["clips"] if c["id"] == "1-2-0000")
    assert clip["audio_seconds"] == pytest.approx(2.0, abs=0.01)
    assert "round_trip" not in out


def test_no_recordings_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        run_speech_eval(FakeSTT("x"), librispeech=tmp_path / "a", pocketsphinx=tmp_path / "b")
    assert info.value.code == "missing-data"


def test_round_trip_scores_what_was_heard() -> None:
    results = round_trip(
        FakeSTT("who invented the telephone"),
        FakeTTS(),
        ["Who invented the telephone?", "Hello there."],
    )
    assert [r.errors for r in results] == [0, 4]
    assert [r.words for r in results] == [4, 2]
    assert all(r.audio_seconds > 0 for r in results)


def test_speech_cli_json(sphinx: Path, tmp_path: Path) -> None:
    from cairn.cli import app

    result = CliRunner().invoke(
        app,
        [
            "eval",
            "speech",
            "--model",
            "fake:go forward ten meters",
            "--data",
            str(tmp_path / "none"),
            "--pocketsphinx",
            str(sphinx),
            "--no-round-trip",
            "--json",
        ],
    )
    if "av" in result.output and result.exit_code:  # WAV decoding needs PyAV
        pytest.skip(result.output)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["overall"]["clips"] == 3 and out["sets"]["pocketsphinx-goforward"]["wer"] == 0.0


def test_voice_eval_with_fakes(tmp_path: Path) -> None:
    pytest.importorskip("av")
    report = run_voice_eval(
        stt=FakeSTT(DEMO_QUESTION),
        tts=FakeTTS(),
        embedder=HashingEmbedder(),
        spans=RuleSpans(),
        extractor=CapitalisedExtractor(),
        runs=2,
        workdir=tmp_path,
    )
    out = report.as_dict()
    assert out["runs"] == 2 and len(out["each_run"]) == 2
    run = out["each_run"][0]
    assert run["transcript"] == DEMO_QUESTION and "Watt" in run["answer"]
    assert run["embedded_texts"] >= 1 and run["answer_audio_seconds"] > 0
    assert set(out["parts_p50_s"]) == {"stt", "embedding", "spacy", "tts"}
    total = run["inference_s"] + run["other_s"]
    assert total == pytest.approx(run["total_s"], abs=0.002)
    assert 0.0 <= out["other_share_median"] <= 1.0
    assert out["transcript_wer"] == 0.0
    assert (tmp_path / "answer-2.wav").is_file()
    # timed to the first piece of the answer on disk, never after the whole answer
    for r in out["each_run"]:
        assert 0 < r["first_audio_s"] <= r["total_s"]
    assert out["first_audio_p50_s"] <= out["p50_s"]
    assert out["target"]["first_audio_p50_s"] == 1.0
    assert isinstance(out["met"]["first_audio_p50"], bool)


def test_speech_eval_bias_primes_each_clip_with_the_other_clips_words(
    librispeech: Path, sphinx: Path
) -> None:
    from cairn_eval.speech import default_sets, evaluate_stt, leave_one_out_context

    sets = default_sets(librispeech, sphinx)
    clips = sets["librispeech"]
    assert leave_one_out_context(clips, clips[0]) == "back, meters"  # not its own "forward"
    assert leave_one_out_context(clips, clips[1]) == "forward, meters"
    fake = FakeSTT("ten of clubs")
    evaluate_stt(fake, sets, bias=True)
    assert len(fake.contexts) == sum(len(c) for c in sets.values())
    evaluate_stt(fake, sets)
    assert fake.contexts[-1] is None
