"""The spoken set, typed, through the hybrid with every answered request sent to the LLM (the
gate's refusals stand), so that any call cut-off can be replayed from the records.

Run: ``CAIRN_TOOL_ENGINE=hybrid CAIRN_TOOL_LLM=qwen1.5b python bench/spoken_api_hybrid_all.py
OUT.json markets,nyair`` (the design split; ``history`` is the report split).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import cairn.command.tool_hybrid as tool_hybrid

HERE = Path(__file__).resolve().parent


def main() -> None:
    out, documents = sys.argv[1], sys.argv[2]
    sure = tool_hybrid.fast_is_sure
    every = tool_hybrid.Cutoffs(call=1.01, none=1.0)
    tool_hybrid.fast_is_sure = lambda match, cutoffs: sure(match, every)  # type: ignore[assignment]
    sys.argv = [str(HERE / "spoken_api_bench.py"), "--voices", "text", "--out", out,
                "--documents", documents]  # fmt: skip
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
