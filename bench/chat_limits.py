"""CPU seconds for one /v1/chat/completions request of N user messages ("and what about
it?" after one real question), in process (TestClient, hashing embedder, real SQLite).

    PYTHONPATH=src python bench/chat_limits.py . 10000
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def main(checkout: str, n: int) -> None:
    sys.path.insert(0, str(Path(checkout) / "tests"))
    from test_server_api import make_env

    env = next(make_env(Path(tempfile.mkdtemp()) / "b"))
    first = {"role": "user", "content": "When was the lighthouse built?"}
    msgs = [first] + [{"role": "user", "content": "and what about it?"}] * (n - 1)
    cpu, wall = time.process_time(), time.perf_counter()
    r = env.client.post("/v1/chat/completions", json={"model": "cairn", "messages": msgs})
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"n={n} status={r.status_code} cpu={cpu:.2f}s wall={wall:.2f}s {r.text[:100]!r}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
