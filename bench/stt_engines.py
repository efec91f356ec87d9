"""Speech-to-text engines side by side on the README's spoken demo question (issue 12).

Speaks the demo question with eSpeak NG and the neural voice, applies the perturbations of
BENCHMARKS.md (clean, speed x0.93 and x1.07, noise at 20 dB SNR, level -14 dB), and transcribes
each clip with every engine, interleaved so that all engines see the same load. Prints, per
voice and engine, the word errors of each variant and the median seconds per clip; then times
cheap faster-whisper options on the clean eSpeak clip (``--whisper-options``).

    PYTHONPATH=src nice python bench/stt_engines.py --budget 600 [--whisper-options]
    PYTHONPATH=src nice python bench/stt_engines.py --cpu-only    # CPU seconds, 1 thread
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

import numpy as np

from cairn.demo import DEMO_QUESTION
from cairn.models.audio import SAMPLE_RATE, resample, to_mono
from cairn.models.stt import SpeechToText, load_stt, word_errors
from cairn.models.tts import load_tts

VARIANTS = ("clean", "speed x0.93", "speed x1.07", "noise 20 dB", "level -14 dB")
ENGINES = ("moonshine", "base", "tiny")


def perturb(clean: np.ndarray, variant: str, rng: np.random.Generator) -> np.ndarray:
    if variant.startswith("speed"):
        factor = float(variant.split("x")[1])
        return resample(clean, SAMPLE_RATE, round(SAMPLE_RATE / factor)).astype(np.float32)
    if variant.startswith("noise"):
        rms = float(np.sqrt(np.mean(clean**2)))
        return (clean + rng.normal(0, rms / 10, clean.size)).astype(np.float32)
    if variant.startswith("level"):
        return (clean * 10 ** (-14 / 20)).astype(np.float32)
    return clean


def speak(voice: str) -> np.ndarray:
    samples, rate = load_tts(voice).synthesize(DEMO_QUESTION)
    return to_mono(samples, rate)


def engines_on_question(budget: float) -> dict[str, Any]:
    began = time.monotonic()
    models: dict[str, SpeechToText] = {name: load_stt(name) for name in ENGINES}
    for m in models.values():
        m.warm_up()
    rng = np.random.default_rng(12)
    out: dict[str, Any] = {}
    for voice in ("espeak-ng", "neural"):
        clean = speak(voice)
        clips = {v: perturb(clean, v, rng) for v in VARIANTS}
        for m in models.values():  # one untimed pass: first-call allocations
            m.transcribe_array(clean, word_timestamps=False, language="en")
        rows: dict[str, dict[str, Any]] = {
            e: {"errors": [], "seconds": [], "heard": []} for e in ENGINES
        }
        for audio in clips.values():
            for name, m in models.items():
                t = time.perf_counter()
                heard = m.transcribe_array(audio, language="en", word_timestamps=False).text
                rows[name]["seconds"].append(round(time.perf_counter() - t, 3))
                rows[name]["errors"].append(word_errors(DEMO_QUESTION, heard)[0])
                rows[name]["heard"].append(heard)
            if time.monotonic() - began > budget:
                break
        for r in rows.values():
            r["seconds_median"] = statistics.median(r["seconds"])
        out[voice] = {"audio_seconds": round(clean.size / SAMPLE_RATE, 2), "engines": rows}
    return out


def whisper_options(runs: int = 5) -> dict[str, Any]:
    """faster-whisper options on the clean eSpeak question, Whisper base, interleaved."""
    from faster_whisper import WhisperModel

    from cairn.models.stt import TEMPERATURE_FALLBACK, packaged_model_dir

    folder = str(packaged_model_dir("base"))
    audio = speak("espeak-ng")
    models = {t: WhisperModel(folder, compute_type="int8", cpu_threads=t) for t in (1, 2, 4)}
    default = {
        "language": "en",
        "beam_size": 1,
        "temperature": list(TEMPERATURE_FALLBACK),
        "vad_filter": True,
        "word_timestamps": False,
    }
    variants: dict[str, tuple[int, dict[str, Any]]] = {
        "as Cairn runs it (beam 1, VAD, 2 threads)": (2, {}),
        "without_timestamps=True": (2, {"without_timestamps": True}),
        "beam_size=5": (2, {"beam_size": 5}),
        "no VAD": (2, {"vad_filter": False}),
        "cpu_threads=1": (1, {}),
        "cpu_threads=4": (4, {}),
        "without_timestamps + no VAD": (2, {"without_timestamps": True, "vad_filter": False}),
    }
    seconds: dict[str, list[float]] = {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    heard: dict[str, str] = {}
    for _ in range(runs + 1):  # the first round is a warm-up, not kept
        for name, (threads, extra) in variants.items():
            c, t = time.process_time(), time.perf_counter()
            segs, _ = models[threads].transcribe(audio, **{**default, **extra})
            text = " ".join(s.text.strip() for s in segs)
            seconds[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
            heard[name] = text
    return {
        name: {
            "seconds_median": round(statistics.median(s[1:]), 3),
            "cpu_seconds_median": round(statistics.median(cpu[name][1:]), 3),
            "errors": word_errors(DEMO_QUESTION, heard[name])[0],
            "heard": heard[name],
        }
        for name, s in seconds.items()
    }


def cpu_seconds(runs: int = 5) -> dict[str, Any]:
    """CPU seconds (user + system, this process) per transcription of the clean eSpeak
    question, one thread per engine: the work itself, far less sensitive than wall time to
    other processes on the same cores (a single-threaded run on an idle core takes about this
    long in wall time)."""
    models = {name: load_stt(name, cpu_threads=1) for name in ENGINES}
    audio = speak("espeak-ng")
    for m in models.values():
        m.warm_up()
        m.transcribe_array(audio, language="en", word_timestamps=False)
    cpu: dict[str, list[float]] = {name: [] for name in ENGINES}
    wall: dict[str, list[float]] = {name: [] for name in ENGINES}
    for _ in range(runs):
        for name, m in models.items():
            c, t = time.process_time(), time.perf_counter()
            m.transcribe_array(audio, language="en", word_timestamps=False)
            cpu[name].append(time.process_time() - c)
            wall[name].append(time.perf_counter() - t)
    return {
        name: {
            "cpu_seconds_median": round(statistics.median(cpu[name]), 3),
            "wall_seconds_median": round(statistics.median(wall[name]), 3),
            "audio_seconds": round(audio.size / SAMPLE_RATE, 2),
        }
        for name in ENGINES
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=600.0, help="seconds for the engine part")
    ap.add_argument("--whisper-options", action="store_true")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cpu-only", action="store_true", help="only the CPU-seconds part")
    ap.add_argument("--options-only", action="store_true", help="only the Whisper options")
    args = ap.parse_args()
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_start": os.getloadavg(),
        "question": DEMO_QUESTION,
    }
    if args.options_only:
        report["whisper_options"] = whisper_options(args.runs)
        report["load_average_end"] = os.getloadavg()
        print(json.dumps(report, indent=1))
        return
    if args.cpu_only:
        report["cpu_seconds"] = cpu_seconds(args.runs)
        report["load_average_end"] = os.getloadavg()
        print(json.dumps(report, indent=1))
        return
    report["engines"] = engines_on_question(args.budget)
    if args.whisper_options:
        report["whisper_options"] = whisper_options(args.runs)
    report["load_average_end"] = os.getloadavg()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
