"""Latency of ``synthesize`` with the claim check beside the cue model, same KB, same claims.

The KB is the bundled demo collection (``src/cairn/demo``: steam engine, Normans, packet
switching; three Wikipedia extracts) ingested into a temporary SQLite file with the packaged
MiniLM encoder. Each claim is synthesised ``--repeat`` times with the packaged claim check
(``checker="packaged"``) and with the cue model only (``checker=None``), alternating; the
first call of each (model loading) is not counted. Medians and p95 in milliseconds.

Run: ``python bench/synthesize_speed.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import cairn
from cairn.answer.synthesize import synthesize

DEMO = Path(cairn.__file__).parent / "demo"
CLAIMS = [
    "The separate condenser made steam engines less efficient",
    "Newcomen's engine was relatively inefficient",
    "Steam turbines are more efficient than reciprocating piston engines",
    "Trevithick built the first railway steam locomotive in 1804",
    "The Normans were descended from Norse raiders",
    "Normandy was a kingdom",
    "Packet switching was invented by Paul Baran and Donald Davies",
    "Packet switching divides messages into packets",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kb = cairn.open(Path(tmp) / "kb.sqlite")
        kb.ingest(sorted(DEMO.glob("*.md")), collection="demo")
        synthesize(kb, CLAIMS[0])  # load the models
        synthesize(kb, CLAIMS[0], checker=None)
        times: dict[str, list[float]] = {"claim check": [], "cue model": []}
        for _ in range(args.repeat):
            for claim in CLAIMS:
                for name, checker in (("claim check", "packaged"), ("cue model", None)):
                    t = time.perf_counter()
                    synthesize(kb, claim, checker=checker)  # type: ignore[arg-type]
                    times[name].append((time.perf_counter() - t) * 1000)
        kb.close()
    out = {
        name: {
            "n": len(ms),
            "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(sorted(ms)[int(0.95 * (len(ms) - 1))], 1),
        }
        for name, ms in times.items()
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
