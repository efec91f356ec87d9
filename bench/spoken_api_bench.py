"""The spoken API set: three OpenAPI documents, their loopback servers, ~32 spoken requests each.

    python bench/spoken_api_bench.py --voices text,espeak-ng,neural \
        --out bench/results/spoken_api.json

All three documents of bench/spoken_api/ are registered in one fresh knowledge base (every
operation of every document is a candidate for every request), each against its own FastAPI
server on 127.0.0.1 that logs what reaches it. Each request is spoken by each voice (eSpeak NG;
the packaged neural voice where installed), transcribed by the packaged Whisper base and run
through the pipeline ``cairn voice`` runs; ``text`` feeds the typed request instead. Splits:
markets and nyair are the design set (looked at while improving the general matcher), history
is the report set (never looked at while changing code). Figures: operation accuracy,
parameter exact match and end-to-end success (the server received exactly the expected call),
per voice, per split and over all requests; failures are printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "spoken_api"))

from server import DOCUMENTS, serve  # noqa: E402

import cairn  # noqa: E402
from cairn.tools import add_openapi  # noqa: E402
from cairn_eval.spoken_api import (  # noqa: E402
    Calls,
    Outcome,
    failures,
    load_requests,
    report_dict,
    run_request,
    score_table,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--voices", default="text,espeak-ng,neural")
    ap.add_argument("--documents", default=",".join(DOCUMENTS))
    ap.add_argument(
        "--sample", type=int, default=0, help="requests per document, evenly spaced (0: all)"
    )
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--wav-dir", type=Path, default=None, help="keep the spoken WAVs here")
    ap.add_argument(
        "--reuse-wavs", action="store_true", help="hear the WAVs already in --wav-dir as they are"
    )
    ap.add_argument(
        "--replay",
        type=Path,
        default=None,
        help="an earlier --out file: its transcripts of the same kept WAVs stand in for "
        "speech-to-text (FakeSTT), so only what follows transcription is run again",
    )
    ap.add_argument("--stt", default=None, help="speech-to-text (load_stt spec; default Whisper)")
    ap.add_argument(
        "--no-snap", action="store_true", help="ablation: transcripts are matched as heard"
    )
    ap.add_argument(
        "--show-report-failures",
        action="store_true",
        help="also print the report split's failures (not while changing code)",
    )
    args = ap.parse_args()
    voices = [v for v in args.voices.split(",") if v]
    docs = [d for d in args.documents.split(",") if d]

    from cairn.models.stt import FakeSTT, load_stt
    from cairn.models.tts import load_tts

    heard: dict[tuple[str, str], str] = {}
    if args.replay:
        if not (args.wav_dir and args.reuse_wavs):
            ap.error("--replay needs the same --wav-dir and --reuse-wavs")
        for o in json.loads(args.replay.read_text())["outcomes"]:
            heard[(o["id"], o["voice"])] = o["transcript"]
    speaking = any(v != "text" for v in voices)
    stt = load_stt(args.stt) if speaking and not args.replay else None
    if args.no_snap:
        import cairn.command.lexicon_snap as lexicon_snap

        lexicon_snap.snap = lambda text, index, **_: lexicon_snap.Snapped(text)  # type: ignore[assignment]
    engines = {v: load_tts(v) for v in voices if v != "text" and not args.replay}
    outcomes: list[Outcome] = []
    began = time.time()
    if args.wav_dir:
        args.wav_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        kb = cairn.open(Path(tmp) / "kb.sqlite")
        stack.callback(kb.close)
        logs: dict[str, Calls] = {}
        for doc in DOCUMENTS:  # every document is registered, whichever are asked
            logs[doc] = []
            url = stack.enter_context(serve(doc, logs[doc]))
            spec = json.loads((HERE / "spoken_api" / f"{doc}.openapi.json").read_text())
            add_openapi(kb.store, spec, allowed_hosts=["127.0.0.1"], name=doc, base_url=url)
        for doc in docs:
            requests = load_requests(HERE / "spoken_api" / f"{doc}.requests.jsonl")
            if args.sample and args.sample < len(requests):
                step = len(requests) / args.sample
                requests = [requests[int(i * step)] for i in range(args.sample)]
            for voice in voices:
                for req in requests:
                    o = run_request(
                        kb,
                        req,
                        document=doc,
                        calls=logs[doc],
                        voice=voice,
                        tts=engines.get(voice),
                        stt=FakeSTT(heard[(req.id, voice)]) if args.replay else stt,
                        workdir=args.wav_dir or Path(tmp),
                        reuse_wav=args.reuse_wavs,
                    )
                    outcomes.append(o)
                    mark = "ok " if o.end_to_end else "BAD"
                    print(f"{mark} {voice:9} {o.id} {o.seconds:5.2f}s", file=sys.stderr)
    shown = [o for o in outcomes if args.show_report_failures or o.split != "report"]
    for line in failures(shown):
        print(line)
    table = score_table(outcomes)
    for voice, row in table.items():
        for key, s in row.items():
            print(
                f"{voice:9} {key:18} n={s.n:3} operation={s.operation:.3f} "
                f"params={s.params:.3f} end_to_end={s.end_to_end:.3f} p50={s.p50_seconds:.2f}s"
            )
    if args.out:
        report = report_dict(outcomes)
        report["command"] = " ".join(sys.argv)
        report["date"] = time.strftime("%Y-%m-%d", time.gmtime(began))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
