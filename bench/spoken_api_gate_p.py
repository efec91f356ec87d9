"""The call gate's probability for each typed request of the spoken set (fast path), for
replaying the hybrid's cut-offs. Run: ``python bench/spoken_api_gate_p.py OUT.json``."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path
from typing import Any

import cairn.command.schema_match as schema_match

HERE = Path(__file__).resolve().parent


def main() -> None:
    out = Path(sys.argv[1])
    seen: list[tuple[str, float | None, str | None]] = []
    match = schema_match.OperationIndex.match

    def recording(self: Any, text: str, *args: Any, **kwargs: Any) -> Any:
        m = match(self, text, *args, **kwargs)
        seen.append((text, m.relevance, m.command.intent if m.command else None))
        return m

    schema_match.OperationIndex.match = recording  # type: ignore[method-assign]
    sys.argv = [str(HERE / "spoken_api_bench.py"), "--voices", "text"]
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    finally:
        out.write_text(json.dumps(seen), encoding="utf-8")


if __name__ == "__main__":
    main()
