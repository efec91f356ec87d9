"""What MCP adds to a search: the same queries in-process, over stdio (`cairn mcp`) and over
streamable HTTP (`/mcp` in the app `cairn serve` runs), on the demo collection with the
packaged models. Medians of per-call wall time, after one warm-up call each.

    nice python bench/mcp_overhead.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import anyio
import uvicorn
from mcp import Client, StdioServerParameters

import cairn
from cairn.demo import demo_files
from cairn.ports import free_port
from cairn.server import ServerSettings, create_app

QUERIES = [
    "Who patented a steam engine with rotary motion?",
    "separate condenser efficiency",
    "When did the Normans conquer England?",
    "packet switching message blocks",
    "Who founded Normandy?",
    "Paul Baran distributed networks",
    "Newcomen atmospheric engine",
    "Norman language and culture",
    "Donald Davies National Physical Laboratory",
    "ARPANET routing",
    "Boulton and Watt partnership",
    "Rollo and the Treaty of Saint-Clair-sur-Epte",
    "high pressure steam locomotives",
    "datagram networks and virtual circuits",
    "Norman conquest of southern Italy",
    "cylinder piston and valve gear",
]


def median_ms(times: list[float]) -> float:
    return round(1000 * statistics.median(times), 1)


async def over_mcp(client: Client, rounds: int) -> list[float]:
    await client.call_tool("search", {"query": QUERIES[0]})  # warm-up
    times = []
    for _ in range(rounds):
        for q in QUERIES:
            t = time.perf_counter()
            result = await client.call_tool("search", {"query": q, "k": 5})
            times.append(time.perf_counter() - t)
            assert not result.is_error
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1, help="repeats (hit query caches)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    kb_path = tmp / "kb.sqlite"
    with cairn.open(kb_path) as kb:
        kb.ingest(demo_files(), collection="demo", license="CC-BY-SA-4.0")
        kb.search(QUERIES[0])
        local = []
        for _ in range(args.rounds):
            for q in QUERIES:
                t = time.perf_counter()
                kb.search(q, k=5)
                local.append(time.perf_counter() - t)

    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", "from cairn.cli import main; main()", "mcp", "--kb", str(kb_path)],
        env={"PYTHONPATH": os.environ.get("PYTHONPATH", "")},
    )

    async def stdio() -> list[float]:
        async with Client(params) as client:
            return await over_mcp(client, args.rounds)

    stdio_times = anyio.run(stdio)

    port = free_port()
    app = create_app(ServerSettings(kb=str(kb_path), data_dir=tmp / "data"))
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)

    async def http() -> list[float]:
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            return await over_mcp(client, args.rounds)

    http_times = anyio.run(http)
    server.should_exit = True
    thread.join(10)
    n = len(local)
    print(f"{n} searches each (hybrid, k=5), median per call:")
    print(f"  in-process kb.search      {median_ms(local):7.1f} ms")
    print(f"  MCP over stdio (cairn mcp) {median_ms(stdio_times):6.1f} ms")
    print(f"  MCP over HTTP (/mcp)      {median_ms(http_times):7.1f} ms")


if __name__ == "__main__":
    main()
