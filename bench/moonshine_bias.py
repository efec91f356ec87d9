"""Choose Moonshine's biasing bonus and beam width on synthetic speech only, never on the real
clips.

    PYTHONPATH=src python bench/moonshine_bias.py --bonus 0,1,2,3,4 --voices espeak-ng,neural
    PYTHONPATH=src python bench/moonshine_bias.py --bonus 0,2 --beam 1,2,3,4 --length-penalty 1

Design material: the spoken API requests of the design documents (`markets`, `nyair`) with the
three documents' tool words as context (what `cairn voice` biases with when they are
registered), and the six fixed round-trip requests and the README's demo question with the
demo collection's context. Each request is spoken once per voice; each bonus decodes the same
audio. Printed per bonus: word errors, and for the API requests how many the schema matcher maps
to exactly the right call.
``--docs history --no-round-trip`` runs the report set (the `history` document) alone.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from pathlib import Path

import numpy as np

from cairn.command.operations import from_api_tool
from cairn.command.schema_match import OperationIndex
from cairn.models.embed import packaged_minilm
from cairn.models.stt_context import context_text
from cairn.models.stt_moonshine import MoonshineSTT
from cairn.models.tts import load_tts
from cairn.models.wer import word_errors
from cairn.tools.openapi import parse_spec
from cairn.tools.registry import ApiTool
from cairn.tools.vocabulary import tool_terms
from cairn_eval.speech import ROUND_TRIP_SENTENCES, demo_context
from cairn_eval.spoken_api import SpokenRequest, load_requests, params_match

DOCS = ("markets", "nyair", "history")
DEMO_QUESTION = "Who patented a steam engine that produced continuous rotary motion?"


def _tools() -> list[ApiTool]:
    return [
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bonus", default="0,1,2,3,4")
    parser.add_argument("--voices", default="espeak-ng,neural")
    parser.add_argument("--docs", default="markets,nyair", help="history is the report set")
    parser.add_argument("--no-round-trip", action="store_true")
    parser.add_argument("--beam", default="1", help="beam widths (1: greedy)")
    parser.add_argument("--length-penalty", default="1", help="beam search length penalties")
    args = parser.parse_args()
    bonuses = [float(b) for b in args.bonus.split(",")]
    searches = [
        (int(w), float(lp))
        for w in args.beam.split(",")
        for lp in (args.length_penalty.split(",") if int(w) > 1 else ["1"])
    ]
    tools = _tools()
    words = tool_terms(tools)
    api_context = context_text([*words[: 2 * len(tools)], *words])
    index = OperationIndex([op for t in tools for op in from_api_tool(t)], packaged_minilm())
    docs = args.docs.split(",")
    items: list[tuple[str, str, object, str | None]] = []  # (group, text, request, context)
    for doc in docs:
        group = "report" if doc == "history" else "design"
        for r in load_requests(Path(f"bench/spoken_api/{doc}.requests.jsonl")):
            items.append((f"api-{group}", r.text, r, api_context))
    for sentence in () if args.no_round_trip else (*ROUND_TRIP_SENTENCES, DEMO_QUESTION):
        items.append(("round-trip", sentence, None, demo_context()))
    audio: dict[tuple[str, int], tuple[np.ndarray, int]] = {}
    for voice in args.voices.split(","):
        tts = load_tts(voice)
        for i, (_, text, _, _) in enumerate(items):
            audio[(voice, i)] = tts.synthesize(text)
    base = MoonshineSTT()
    base.warm_up()
    print(
        "| bonus | beam | length penalty | voice | group | word errors | WER | exact calls |",
        end="",
    )
    print(" s/clip |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (bonus, (width, penalty)), voice in itertools.product(
        itertools.product(bonuses, searches), args.voices.split(",")
    ):
        rows: dict[str, list[tuple[int, int, int, float]]] = {}
        for i, (group, text, request, context) in enumerate(items):
            stt = base.with_context(context) if bonus > 0 else base
            stt.bias_bonus = bonus
            stt.beam_size, stt.length_penalty = width, penalty
            t0 = time.perf_counter()
            samples, rate = audio[(voice, i)]
            heard = stt.transcribe_array(samples, rate).text
            took = time.perf_counter() - t0
            errors, n = word_errors(text, heard)
            ok = 0
            if isinstance(request, SpokenRequest):
                doc = request.id.rsplit("-", 1)[0]
                command = index.match(heard).command
                ok = int(
                    command is not None
                    and command.intent == "call_api"
                    and command.api_operation == f"{doc}.{request.operation}"
                    and params_match(command.api_params or {}, request.params)
                )
            rows.setdefault(group, []).append((errors, n, ok, took))
        for group, got in rows.items():
            e, n = sum(r[0] for r in got), sum(r[1] for r in got)
            calls = f"{sum(r[2] for r in got)}/{len(got)}" if group != "round-trip" else ""
            med = statistics.median(r[3] for r in got)
            print(
                f"| {bonus:g} | {width} | {penalty:g} | {voice} | {group} | {e}/{n} "
                f"| {100 * e / n:.1f}% | {calls} | {med:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
