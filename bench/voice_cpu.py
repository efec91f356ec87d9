"""CPU seconds from a spoken question to the first piece of its spoken answer, per engine.

Wall time on a machine shared with other work says little (BENCHMARKS.md: load average 17-34);
the CPU time this process spends is the work itself. The pipeline is the one `cairn eval voice`
times (`cairn_eval.voice.timed_run`: demo KB, real MiniLM embedder and spaCy, eSpeak NG); the
engines take turns on each round after one warm-up round. eSpeak NG runs as a child process,
so its time (~0.03 s per piece) is not in the CPU figure.

    PYTHONPATH=src nice python bench/voice_cpu.py --runs 5 [--models moonshine,base,tiny]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from cairn.demo import DEMO_LICENSE, DEMO_QUESTION, demo_files
from cairn.knowledge import open_kb
from cairn.models.embed import load_embedder
from cairn.models.stt import load_stt
from cairn.models.tts import TextToSpeech, load_tts
from cairn_eval.voice import SpacySpans, TimedEmbedder, TimedSpans, timed_run


class FirstPieceClock:
    """Notes the process CPU time when ``tts`` has synthesised its first piece (by shadowing
    the instance's ``synthesize``, which the pipeline's streaming speech calls per piece)."""

    def __init__(self, tts: TextToSpeech) -> None:
        self.first: float | None = None
        inner = type(tts).synthesize.__get__(tts)

        def synthesize(text: str) -> Any:
            out = inner(text)
            if self.first is None:
                self.first = time.process_time()
            return out

        tts.synthesize = synthesize  # type: ignore[method-assign]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--models", default="moonshine,base,tiny")
    args = ap.parse_args()
    names = args.models.split(",")
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_start": os.getloadavg(),
    }
    engines = {n: load_stt(n) for n in names}
    for e in engines.values():
        e.warm_up()
    tts = load_tts("espeak-ng")
    embedder = TimedEmbedder(load_embedder())
    spans = TimedSpans(SpacySpans())
    cpu_first: dict[str, list[float]] = {n: [] for n in names}
    cpu_total: dict[str, list[float]] = {n: [] for n in names}
    wall_first: dict[str, list[float]] = {n: [] for n in names}
    heard: dict[str, str] = {}
    answers: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="cairn-voice-cpu-") as tmp:
        folder = Path(tmp)
        question = tts.synthesize_to_file(DEMO_QUESTION, folder / "question.wav")
        with open_kb(folder / "kb.sqlite", embedder=embedder) as kb:
            kb.ingest(demo_files(), collection="demo", license=DEMO_LICENSE)
            for n in range(args.runs + 1):
                for name, stt in engines.items():
                    clock = FirstPieceClock(tts)
                    began = time.process_time()
                    run = timed_run(
                        kb,
                        question,
                        folder / f"answer-{name}-{n}.wav",
                        stt=stt,
                        tts=tts,
                        embedder=embedder,
                        spans=spans,
                    )
                    ended = time.process_time()
                    if n:  # round 0 warms every model and cache up
                        cpu_first[name].append((clock.first or ended) - began)
                        cpu_total[name].append(ended - began)
                        wall_first[name].append(run.first_audio)
                    heard[name], answers[name] = run.transcript, run.answer.split("\n")[0]
    report["engines"] = {
        name: {
            "cpu_to_first_audio_median": round(statistics.median(cpu_first[name]), 3),
            "cpu_total_median": round(statistics.median(cpu_total[name]), 3),
            "wall_first_audio_median": round(statistics.median(wall_first[name]), 3),
            "heard": heard[name],
            "answer": answers[name],
        }
        for name in names
    }
    report["load_average_end"] = os.getloadavg()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
