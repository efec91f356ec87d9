"""Equality check for refactors of the pipeline: typed requests covering every intent, run over
the bundled demo articles with the packaged models, printed as JSON lines without timings.

Run it on two checkouts and compare (issue 16.3/16.4 were checked this way):

    PYTHONPATH=/path/to/main/src python bench/pipeline_equality.py /tmp/eq/main > main.jsonl
    PYTHONPATH=src python bench/pipeline_equality.py /tmp/eq/branch > branch.jsonl
    cmp main.jsonl branch.jsonl

Both runs ingest the same copy of the articles (``/tmp/eq/docs`` by default, ``--docs``), so
source paths match; each writes its own knowledge base and charts under the folder it is given.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path
from typing import Any

REQUESTS = [
    "Who patented a steam engine with rotary motion?",
    "When did the Normans conquer England?",
    "what is the capital of Peru?",
    "search for packet switching",
    "search for separate condenser, only CC-BY-SA-4.0 sources",
    "plot steam engines by source as a bar chart",
    "summarise what my sources say about Steam engines were efficient",
    "list my sources",
    "forget steam-engine",
    "forget nothing-like-this.txt",
    "call the weather api for Paris",
    "help",
    "remember that the meeting is on Friday",
    "forget it",
    "book me a flight to Rome",
]


def main() -> None:
    import cairn
    from cairn.demo import demo_files
    from cairn.pipeline import run_pipeline

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path, help="a folder for this run's KB and charts (emptied)")
    ap.add_argument("--docs", type=Path, default=Path("/tmp/eq/docs"))
    args = ap.parse_args()
    root: Path = args.out
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    args.docs.mkdir(parents=True, exist_ok=True)
    for f in demo_files():
        if not (args.docs / f.name).exists():
            shutil.copy(f, args.docs / f.name)

    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items() if k not in ("seconds", "t", "run_id")}
        if isinstance(v, list):
            return [clean(x) for x in v]
        if isinstance(v, str):
            return re.sub(r"\d{8}T\d{6}\d*Z", "<stamp>", v.replace(str(root), "<root>"))
        return v

    with cairn.open(root / "kb.sqlite") as kb:
        kb.ingest([args.docs], collection="demo", license="CC-BY-SA-4.0")
        for req in REQUESTS:
            r = run_pipeline(kb, text=req, chart_to=root / "chart.png", save=False)
            print(json.dumps(clean(r.to_dict(events=True)), sort_keys=True, default=str))


if __name__ == "__main__":
    main()
