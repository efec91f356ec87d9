"""Speech-to-text settings side by side, in one run: word errors and seconds per clip.

    # design material (synthetic round trips, primed with the demo collection)
    PYTHONPATH=src nice python bench/stt_settings.py --no-real --tts espeak-ng,neural \
        --settings base,base:pad1,base:pad3
    # report: the 15 real clips, once per chosen setting (primed leave-one-out with --bias)
    PYTHONPATH=src nice python bench/stt_settings.py --bias --settings moonshine,moonshine:beam4

A setting is an engine (``base``, ``tiny``, ``moonshine``) and options after colons:
``beamN`` (beam width), ``padS`` (Whisper's encoder window cut to the clip plus S seconds,
:mod:`cairn.models.stt_window`), ``threadsN`` (CPU threads), ``novad`` (no voice-activity
trimming). Prints a Markdown table and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from cairn.models.stt import SpeechToText, load_stt
from cairn.models.tts import load_tts
from cairn_eval.speech import (
    DEFAULT_LIBRISPEECH,
    DEFAULT_POCKETSPHINX,
    ClipResult,
    default_sets,
    demo_context,
    evaluate_stt,
    round_trip,
)


def build(setting: str) -> SpeechToText:
    engine, *options = setting.split(":")
    kwargs: dict[str, Any] = {}
    for option in options:
        if option.startswith("beam"):
            kwargs["beam_size"] = int(option[4:])
        elif option.startswith("pad"):
            kwargs["window_pad_seconds"] = float(option[3:])
        elif option.startswith("threads"):
            kwargs["cpu_threads"] = int(option[7:])
        elif option == "novad":
            kwargs["vad_filter"] = False
        else:
            raise SystemExit(f"unknown option {option!r} in setting {setting!r}")
    return load_stt(engine, **kwargs)


def summary(results: list[ClipResult]) -> str:
    errors, words = sum(r.errors for r in results), sum(r.words for r in results)
    seconds = statistics.median(r.seconds for r in results)
    return f"{100 * errors / words:.1f}% ({errors}/{words}) | {seconds:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settings", default="moonshine,moonshine:beam4")
    parser.add_argument("--bias", action="store_true", help="prime / bias (leave-one-out)")
    parser.add_argument("--no-real", action="store_true", help="skip the real clips")
    parser.add_argument("--tts", default="", help="round-trip voices, e.g. espeak-ng,neural")
    parser.add_argument("--clips", action="store_true", help="print every transcript")
    args = parser.parse_args()
    sets = {} if args.no_real else default_sets(DEFAULT_LIBRISPEECH, DEFAULT_POCKETSPHINX)
    voices = [v for v in args.tts.split(",") if v]
    context = demo_context() if args.bias and voices else None
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} load average {os.getloadavg()}", flush=True)
    header = ["setting", *(["real clips WER | s/clip"] if sets else [])]
    header += [f"round trip {v} WER | s/clip" for v in voices]
    print("| " + " | ".join(header) + " |")
    for setting in args.settings.split(","):
        stt = build(setting)
        stt.warm_up()
        cells, heard = [setting], []
        if sets:
            results = evaluate_stt(stt, sets, bias=args.bias)
            cells.append(summary(results))
            heard += results
        for voice in voices:
            results = round_trip(stt, load_tts(voice), context=context)
            cells.append(summary(results))
            heard += results
        print("| " + " | ".join(cells) + " |", flush=True)
        if args.clips:
            for r in heard:
                print(f"    {r.set} {r.id} {r.errors}/{r.words}: {r.hypothesis}", flush=True)
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} load average {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
