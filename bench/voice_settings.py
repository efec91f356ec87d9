"""Time to first audio (`cairn eval voice`'s measure) for several speech-to-text settings, one
after the other in one process, with the load average at each start and end.

    PYTHONPATH=src nice python bench/voice_settings.py --settings base,base:beam5,base:pad2 --runs 5

Settings as in ``bench/stt_settings.py`` (``base``, ``moonshine:beam4``, ``base:novad``, ...).
Prints one Markdown row per setting: what run 1 heard, its answer's first line, p50 first audio
with every run's, and the p50 of the ``stt`` stage.
"""

from __future__ import annotations

import argparse
import os
import time

from stt_settings import build

from cairn.demo import DEMO_QUESTION
from cairn.models.embed import load_embedder
from cairn.models.tts import load_tts
from cairn_eval.voice import run_voice_eval


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settings", default="base,base:pad2")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tts", default="espeak-ng")
    args = parser.parse_args()
    tts, embedder = load_tts(args.tts), load_embedder()
    print("| setting | heard (run 1) | answer | p50 first audio (runs) | stt p50 | load |")
    print("|---|---|---|---|---|---|")
    for setting in args.settings.split(","):
        load_before = os.getloadavg()[0]
        stt = build(setting)
        stt.warm_up()
        out = run_voice_eval(
            stt=stt, tts=tts, embedder=embedder, question=DEMO_QUESTION, runs=args.runs
        ).as_dict()
        runs = out["each_run"]
        firsts = ", ".join(f"{r['first_audio_s']:.2f}" for r in runs)
        answer = (runs[0]["answer"] or "").splitlines()[0] if runs else ""
        print(
            f"| {setting} | {runs[0]['transcript'] if runs else ''} | {answer} "
            f"| {out['first_audio_p50_s']:.2f} s ({firsts}) | {out['parts_p50_s']['stt']:.2f} s "
            f"| {load_before:.1f}-{os.getloadavg()[0]:.1f} ({time.strftime('%H:%M')}) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
