"""Does llama.cpp reuse the evaluated tool descriptions across requests? The tool-call engine
over one registered tool (examples/apis/markets.json), each request timed twice in turn:
once right after a request with the same candidates (the prefix is reused) and once after the
model's context was reset (every token evaluated again). Same model, same load, interleaved.

Run: ``python bench/tool_llm_prefix.py --llm qwen0.5b --n 10``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from cairn.command.operations import from_api_tool
from cairn.command.tool_hybrid import load_tool_llm
from cairn.command.tool_llm import ToolCallEngine, system_prompt
from cairn.tools.openapi import parse_spec
from cairn.tools.registry import ApiTool

SPEC = Path(__file__).resolve().parents[1] / "examples" / "apis" / "markets.json"
REQUESTS = [
    "chart apple's stock price during 2007",
    "daily weather in seattle for march 2013",
    "population of france in 2010",
    "microsoft share price from 2003 through 2006",
    "how warm was it in chicago in july 2012",
    "ibm stock in the first half of 2009",
    "what was the population of japan in 2000",
    "amazon stock prices in 2015",
    "rain in new york during may 2011",
    "population of brazil in 1990",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--llm", default="qwen0.5b")
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)  # 2 OpenMP threads stall under load
    args = ap.parse_args()
    ops = from_api_tool(ApiTool("markets", parse_spec(json.loads(SPEC.read_text())), ()))
    llm = load_tool_llm(args.llm, threads=args.threads)
    engine = ToolCallEngine(llm)
    engine.choose(REQUESTS[-1], ops)  # the prefix is evaluated once
    warm, cold, replies = [], [], []
    for text in REQUESTS[: args.n]:
        t0 = time.perf_counter()
        reply = engine.choose(text, ops)
        warm.append((time.perf_counter() - t0) * 1000)
        llm._llama.reset()  # forget every evaluated token
        t0 = time.perf_counter()
        engine.choose(text, ops)
        cold.append((time.perf_counter() - t0) * 1000)
        engine.choose(REQUESTS[-1], ops)  # the prefix again, untimed
        replies.append({"request": text, "reply": reply.raw, "problem": reply.problem})
    prompt = llm._llama.tokenize(system_prompt(ops).encode(), add_bos=False, special=True)
    out = {
        "llm": args.llm,
        "n": len(warm),
        "prefix_tokens_approx": len(prompt),
        "p50_ms_prefix_reused": round(statistics.median(warm), 1),
        "p50_ms_no_reuse": round(statistics.median(cold), 1),
        "load1": os.getloadavg()[0],
        "replies": replies,
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
