"""How Whisper is primed, on the same kept WAVs, scored by the matcher with and without the snap.

    python bench/spoken_api_bench.py --voices neural --sample 10 --wav-dir /tmp/wavs
    python bench/spoken_api_priming.py /tmp/wavs --modes none,hotwords,names,prompt \
        --documents markets,nyair --out bench/results/spoken_api_priming.json

Each WAV (named ID-VOICE.wav) of the chosen documents is transcribed by the packaged Whisper
base once per mode, and the transcript is matched against all 12 operations of the three
documents, as heard and after the lexicon snap (cairn.command.lexicon_snap); a request counts
when operation and parameters are exactly right. Modes:

* ``none``: no priming;
* ``hotwords``: the tools' words as faster-whisper ``hotwords`` (what ``cairn voice`` does on
  main: tool names first, then tools.vocabulary.tool_terms);
* ``names``: as ``hotwords``, with the names descriptions give enum values (``Xerox=XRX`` ->
  Xerox; command.operations.tool_value_names) after the tool names;
* ``prompt``: the ``hotwords`` line given as ``initial_prompt`` too.
"""

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from cairn.command.lexicon_snap import snap
from cairn.command.operations import from_api_tool, tool_value_names
from cairn.command.schema_match import OperationIndex
from cairn.models.embed import packaged_minilm
from cairn.models.stt import load_stt
from cairn.models.stt_context import context_text
from cairn.tools.openapi import parse_spec
from cairn.tools.registry import ApiTool
from cairn.tools.vocabulary import tool_terms
from cairn_eval.spoken_api import load_requests, params_match

DOCS = ("markets", "nyair", "history")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wav_dir", type=Path)
    ap.add_argument("--modes", default="none,hotwords")
    ap.add_argument("--documents", default="markets,nyair", help="design set by default")
    ap.add_argument("--every", type=int, default=1, help="every Nth request of each document")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    docs = [d for d in args.documents.split(",") if d]

    tools = [
        ApiTool(
            n,
            parse_spec(
                json.loads(Path(f"bench/spoken_api/{n}.openapi.json").read_text()),
                base_url="http://127.0.0.1:1",
            ),
            ("127.0.0.1",),
        )
        for n in DOCS
    ]
    words = tool_terms(tools)
    names = words[: 2 * len(tools)]
    lines = {
        "none": None,
        "hotwords": context_text([*names, *words]),
        "names": context_text([*names, *tool_value_names(tools), *words]),
        "prompt": context_text([*names, *words]),
    }
    index = OperationIndex([op for t in tools for op in from_api_tool(t)], packaged_minilm())
    reqs = {
        r.id: (d, r)
        for d in DOCS
        for r in load_requests(Path(f"bench/spoken_api/{d}.requests.jsonl"))
    }
    stt = load_stt()
    stt.warm_up()
    wavs = [
        w
        for w in sorted(args.wav_dir.glob("*.wav"))
        if reqs.get("-".join(w.stem.split("-")[:2]), ("",))[0] in docs
        and int(w.stem.split("-")[1]) % args.every == 0
    ]
    rows: list[dict[str, Any]] = []
    for wav in wavs:
        rid = "-".join(wav.stem.split("-")[:2])
        voice = wav.stem.split("-", 2)[2]
        doc, r = reqs[rid]
        for mode in modes:
            began = time.perf_counter()
            if mode == "prompt":  # faster-whisper directly: Cairn's STT passes hotwords only
                segments, _ = stt._loaded.model.transcribe(  # type: ignore[attr-defined]
                    str(wav),
                    language="en",
                    beam_size=stt.beam_size,  # type: ignore[attr-defined]
                    temperature=list(stt.temperature),  # type: ignore[attr-defined]
                    hotwords=lines[mode],
                    initial_prompt=lines[mode],
                    vad_filter=stt.vad_filter,  # type: ignore[attr-defined]
                )
                heard = " ".join(s.text.strip() for s in segments).strip()
            else:
                heard = stt.with_context(lines[mode]).transcribe(wav, language="en").text.strip()
            seconds = time.perf_counter() - began
            snapped = snap(heard, index)
            row: dict[str, Any] = {"id": rid, "voice": voice, "mode": mode, "heard": heard}
            for key, text in (("ok", heard), ("ok_snapped", snapped.text)):
                m = index.match(text)
                row[key] = bool(
                    m.command
                    and m.command.intent == "call_api"
                    and m.command.api_operation == f"{doc}.{r.operation}"
                    and params_match(m.command.api_params or {}, r.params)
                )
            row["snaps"] = [[s.heard, s.term] for s in snapped.snaps]
            row["seconds"] = round(seconds, 2)
            rows.append(row)
            mark = "ok " if row["ok_snapped"] else "BAD"
            print(f"{rid} {voice:9} {mode:8} {mark} {heard!r} {row['snaps']}", flush=True)
    summary: dict[str, Any] = {}
    for voice in sorted({r["voice"] for r in rows}):
        for mode in modes:
            mine = [r for r in rows if r["voice"] == voice and r["mode"] == mode]
            if mine:
                summary[f"{voice}/{mode}"] = {
                    "n": len(mine),
                    "matcher": round(sum(r["ok"] for r in mine) / len(mine), 3),
                    "matcher_snapped": round(sum(r["ok_snapped"] for r in mine) / len(mine), 3),
                    "p50_seconds": statistics.median(r["seconds"] for r in mine),
                }
    for key, s in summary.items():
        print(key, s)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        report = {"date": time.strftime("%Y-%m-%d"), "lines": lines, "summary": summary}
        args.out.write_text(json.dumps({**report, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
