"""Bounded load on ``cairn serve``, on loopback only (issue #5).

Starts ``cairn serve`` on 127.0.0.1 with an existing knowledge base (``--kb``; nothing is
ingested), warms it up, runs the phases asked for, then stops the server it started:

* ``single``: one client, one search at a time, for a quarter of ``--seconds``: the latency
  floor of the machine as it is during the run (the physical limit the others compare to).
* ``saturation``: ``--clients`` closed-loop clients with no think time, ``GET /api/search``
  only. Each client sends its next request as soon as the last one returns, so the server
  is always full: this measures throughput; latency is then ~ clients / throughput.
* ``open``: ``--clients`` clients, each sending ``--rate`` searches per second on a fixed
  schedule (open-loop arrivals: a request goes out on time even when earlier ones have not
  returned). Latency is counted from the scheduled send time, so a stalled server cannot
  hide its queue (no coordinated omission).
* ``mixed``: ``--clients`` closed-loop clients (as ``saturation``; or open loop with
  ``--mixed-rate``) with a request mix (default 70% search, 20% ``POST /api/ask``, 10%
  ``POST /v1/audio/transcriptions`` with a ~3 s eSpeak NG WAV). Transcriptions refused with
  503 (the server's Whisper queue is full, by design) are counted as ``refused``, not as
  errors.
* ``chat``: time to the first streamed content token of ``--chats`` sequential grounded
  ``/v1/chat/completions`` requests.

Every search and ask uses a query not sent before in the run (SciFact claims, test and
train; after those run out, the same claims lower-cased, then upper-cased), so the server's
query-vector cache cannot flatter the figures. For each phase it reports per endpoint
throughput, p50/p95/p99 latency, errors, the server's CPU seconds per request (from
``/proc``) and the load generator's own, and the server's resident memory at the start and
the end.

    python bench/load_test.py --kb /tmp/sf.sqlite                      # all phases
    python bench/load_test.py --kb /tmp/sf.sqlite --phase open --seconds 60 --rate 1
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from cairn.ports import free_port

HOST = "127.0.0.1"  # never anything else: this is a local, bounded test
ROOT = Path(__file__).resolve().parents[1]
SCIFACT = ROOT.parent / "shared/benchdata/scifact"
MIX = (("search", 0.7), ("ask", 0.2), ("transcribe", 0.1))
KINDS = tuple(k for k, _ in MIX)
PHASES = ("single", "saturation", "open", "mixed", "chat")
TICK = os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux ``/proc``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used, all its threads (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def load_claims(folder: Path) -> list[str]:
    """SciFact claims, test first, each once."""
    out: dict[str, None] = {}
    for name in ("queries_test.jsonl", "queries.jsonl"):
        path = folder / name
        if path.is_file():
            with path.open(encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        out.setdefault(json.loads(line)["text"].strip(), None)
    if not out:
        raise SystemExit(f"no SciFact queries under {folder}")
    return list(out)


def distinct_queries(claims: list[str]) -> Iterator[str]:
    """Each claim once, then lower-cased, then upper-cased, then numbered: never a repeat."""
    for variant in itertools.count():
        for claim in claims:
            if variant == 0:
                yield claim
            elif variant == 1:
                yield claim.lower()
            elif variant == 2:
                yield claim.upper()
            else:
                yield f"{claim} ({variant})"


def question_wav(folder: Path) -> bytes:
    """About three seconds of speech (eSpeak NG), or a tone when it is not installed."""
    from cairn.models.tts import wav_bytes

    if shutil.which("espeak-ng"):
        from cairn.models.tts import EspeakTTS

        path = EspeakTTS().synthesize_to_file(
            "Does vitamin D supplementation reduce the risk of fractures?", folder / "q.wav"
        )
        return path.read_bytes()
    rate = 16000
    t = np.arange(3 * rate, dtype=np.float32) / rate
    return wav_bytes(0.3 * np.sin(2 * np.pi * 440 * t), rate)


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def ok(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def fail(self, kind: str, why: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.error_samples) < 5:
            self.error_samples.append(f"{kind}: {why}")

    def record(self, kind: str, resp: httpx.Response, seconds: float) -> None:
        if resp.status_code == 200:
            self.ok(kind, seconds)
        elif resp.status_code == 503 and kind == "transcribe" and "retry-after" in resp.headers:
            self.refused[kind] = self.refused.get(kind, 0) + 1
        else:
            self.fail(kind, f"HTTP {resp.status_code} {resp.text[:120]}")


async def one_request(
    client: httpx.AsyncClient, kind: str, query: str, wav: bytes
) -> httpx.Response:
    if kind == "search":
        return await client.get("/api/search", params={"q": query, "k": 10})
    if kind == "ask":
        return await client.post("/api/ask", json={"question": query})
    return await client.post(
        "/v1/audio/transcriptions",
        files={"file": ("q.wav", wav, "audio/wav")},
        data={"model": "whisper-1"},
    )


async def timed(
    client: httpx.AsyncClient, stats: Stats, kind: str, query: str, wav: bytes, since: float
) -> None:
    """One request; latency from ``since`` (perf_counter), its scheduled or actual start."""
    try:
        resp = await one_request(client, kind, query, wav)
    except httpx.HTTPError as err:
        stats.fail(kind, type(err).__name__)
        return
    stats.record(kind, resp, time.perf_counter() - since)


async def closed_loop(
    client: httpx.AsyncClient,
    stats: Stats,
    queries: Iterator[str],
    wav: bytes,
    until: float,
    rng: random.Random,
    mix: dict[str, float],
) -> None:
    kinds, weights = list(mix), list(mix.values())
    while time.perf_counter() < until:
        kind = rng.choices(kinds, weights)[0]
        await timed(client, stats, kind, next(queries), wav, time.perf_counter())


async def open_loop(
    client: httpx.AsyncClient,
    stats: Stats,
    queries: Iterator[str],
    wav: bytes,
    start: float,
    until: float,
    rate: float,
    rng: random.Random,
    mix: dict[str, float],
) -> None:
    """Send at ``start``, ``start + 1/rate``, ... whether or not earlier requests returned."""
    kinds, weights = list(mix), list(mix.values())
    pending: set[asyncio.Task[None]] = set()
    for n in itertools.count():
        due = start + n / rate
        if due >= until:
            break
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        kind = rng.choices(kinds, weights)[0]
        task = asyncio.create_task(timed(client, stats, kind, next(queries), wav, due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.gather(*pending)


async def run_phase(
    base: str,
    queries: Iterator[str],
    wav: bytes,
    *,
    clients: int,
    seconds: float,
    mix: dict[str, float],
    rate: float | None,
) -> Stats:
    """``rate`` None: closed loop; else each client sends ``rate`` requests per second."""
    stats = Stats()
    connections = clients if rate is None else clients * 8
    # Idle connections are dropped before the server's 5 s keep-alive timeout, so a request is
    # never sent on a connection the server is closing at that moment.
    limits = httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=2
    )
    async with httpx.AsyncClient(base_url=base, timeout=180, limits=limits) as client:
        now = time.perf_counter()
        until = now + seconds
        if rate is None:
            jobs = [
                closed_loop(client, stats, queries, wav, until, random.Random(i), mix)
                for i in range(clients)
            ]
        else:  # client i starts i / (clients * rate) s in: arrivals spread evenly
            jobs = [
                open_loop(
                    client,
                    stats,
                    queries,
                    wav,
                    now + i / (clients * rate),
                    until,
                    rate,
                    random.Random(i),
                    mix,
                )
                for i in range(clients)
            ]
        await asyncio.gather(*jobs)
    return stats


async def first_token_times(base: str, queries: Iterator[str], n: int) -> list[float]:
    """Seconds to the first streamed content token, ``n`` sequential grounded chats."""
    out = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        for _ in range(n):
            messages = [{"role": "user", "content": next(queries)}]
            body = {"model": "cairn", "stream": True, "messages": messages}
            began = time.perf_counter()
            first = None
            async with client.stream("POST", "/v1/chat/completions", json=body) as resp:
                resp.raise_for_status()
                async for line in resp.aiter_lines():
                    if first is None and line.startswith("data: {"):
                        delta = json.loads(line[6:])["choices"][0]["delta"]
                        if delta.get("content"):
                            first = time.perf_counter() - began
            out.append(first if first is not None else float("nan"))
    return out


async def warm_up(base: str, queries: Iterator[str], wav: bytes, kinds: set[str]) -> None:
    """Load the embedder, Whisper and the answer models before anything is timed."""
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        for kind in KINDS:
            if kind in kinds:
                resp = await one_request(client, kind, next(queries), wav)
                resp.raise_for_status()


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(values), q)) * 1000, 1) if values else float("nan")


def start_server(kb: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-c", "from cairn.cli import main; main()", "serve",
        "--host", HOST, "--port", str(port), "--kb", kb, "--log-level", "warning",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "CAIRN_API_KEY"}
    with log.open("wb") as fh:
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)


def wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become healthy")


def measure(
    name: str,
    pid: int,
    base: str,
    queries: Iterator[str],
    wav: bytes,
    *,
    clients: int,
    seconds: float,
    mix: dict[str, float],
    rate: float | None,
) -> dict[str, Any]:
    rss_start, cpu_start = rss_mb(pid), cpu_seconds(pid)
    own_start, began = time.process_time(), time.perf_counter()
    stats = asyncio.run(
        run_phase(base, queries, wav, clients=clients, seconds=seconds, mix=mix, rate=rate)
    )
    wall = time.perf_counter() - began
    server_cpu = cpu_seconds(pid) - cpu_start
    own_cpu = time.process_time() - own_start
    done = sum(len(v) for v in stats.latencies.values())
    answered = done + sum(stats.refused.values())
    report: dict[str, Any] = {
        "phase": name,
        "clients": clients,
        "rate_per_client": rate,
        "offered_rps": clients * rate if rate else None,
        "mix": mix,
        "seconds": round(wall, 1),
        "endpoints": {},
        "errors": sum(stats.errors.values()),
        "refused": sum(stats.refused.values()),
        "error_samples": stats.error_samples,
        "server_cpu_s": round(server_cpu, 1),
        "server_cpu_ms_per_request": round(1000 * server_cpu / max(answered, 1), 1),
        "server_cores_busy": round(server_cpu / wall, 2),
        "loadgen_cpu_ms_per_request": round(1000 * own_cpu / max(answered, 1), 1),
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": round(rss_mb(pid), 1),
    }
    for kind in mix:
        lat = stats.latencies.get(kind, [])
        report["endpoints"][kind] = {
            "ok": len(lat),
            "errors": stats.errors.get(kind, 0),
            "refused": stats.refused.get(kind, 0),
            "rps": round(len(lat) / wall, 2),
            "p50_ms": pct(lat, 50),
            "p95_ms": pct(lat, 95),
            "p99_ms": pct(lat, 99),
        }
    print_phase(report)
    return report


def print_phase(r: dict[str, Any]) -> None:
    load = (
        f"{r['clients']} closed-loop client(s), no think time"
        if r["rate_per_client"] is None
        else f"{r['clients']} clients x {r['rate_per_client']} req/s (open loop)"
    )
    print(f"\n== {r['phase']}: {load}, {r['seconds']} s, {os.cpu_count()} CPUs")
    print(
        f"{'endpoint':<12}{'ok':>7}{'err':>6}{'503':>6}{'req/s':>8}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    )
    for kind, row in r["endpoints"].items():
        print(
            f"{kind:<12}{row['ok']:>7}{row['errors']:>6}{row['refused']:>6}{row['rps']:>8}"
            f"{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}"
        )
    print(
        f"errors: {r['errors']} {r['error_samples'] or ''}; refused (503): {r['refused']}\n"
        f"server CPU: {r['server_cpu_ms_per_request']} ms per request, "
        f"{r['server_cores_busy']} cores busy; load generator: "
        f"{r['loadgen_cpu_ms_per_request']} ms per request\n"
        f"server RSS: {r['rss_mb_start']:.0f} MB at the start, {r['rss_mb_end']:.0f} MB at the end"
    )


def parse_mix(text: str) -> dict[str, float]:
    mix = {k: float(w) for k, _, w in (p.partition("=") for p in text.split(","))}
    if not mix or set(mix) - set(KINDS) or min(mix.values()) <= 0:
        raise SystemExit(f"--mix: weights > 0 for some of {', '.join(KINDS)}")
    return mix


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--kb", required=True, help="an existing, ingested knowledge base")
    ap.add_argument(
        "--phase",
        action="append",
        choices=(*PHASES, "all"),
        help="repeatable, run in the order given (a phase may repeat); default all",
    )
    ap.add_argument("--seconds", type=float, default=60.0, help="per phase (saturation: half)")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--rate", type=float, default=1.0, help="open loop: requests/s per client")
    ap.add_argument(
        "--mixed-rate", type=float, help="the mixed phase in open loop (default: closed loop)"
    )
    ap.add_argument("--chats", type=int, default=10, help="sequential streaming chats to time")
    ap.add_argument("--queries", type=Path, default=SCIFACT, help="folder with SciFact queries")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument(
        "--mix",
        default=",".join(f"{k}={w}" for k, w in MIX),
        help="the mixed phase's request mix (default: %(default)s)",
    )
    args = ap.parse_args()
    phases = PHASES if not args.phase or "all" in args.phase else tuple(args.phase)
    if not 1 <= args.clients <= 64 or not 1 <= args.seconds <= 600:
        raise SystemExit("keep it bounded: 1-64 clients, 1-600 seconds")
    if not 0 < args.rate <= 20 or not 0 < (args.mixed_rate or 1) <= 20:
        raise SystemExit("--rate, --mixed-rate: more than 0, at most 20 requests/s per client")
    if "://" not in args.kb and not Path(args.kb).is_file():
        raise SystemExit(f"no knowledge base at {args.kb}")
    mix = parse_mix(args.mix)
    queries = distinct_queries(load_claims(args.queries))
    port = free_port()
    base = f"http://{HOST}:{port}"
    report: dict[str, Any] = {"cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wav = question_wav(folder)
        proc = start_server(args.kb, port, folder / "server.log")
        try:
            wait_healthy(base, proc)
            needs = {"search"} | (set(mix) if "mixed" in phases else set())
            asyncio.run(warm_up(base, queries, wav, needs))
            report["rss_mb_after_warm_up"] = round(rss_mb(proc.pid), 1)
            for n, name in enumerate(phases):
                key = name if name not in phases[:n] else f"{name}#{phases[:n].count(name) + 1}"
                if name == "chat":
                    ttft = asyncio.run(first_token_times(base, queries, args.chats))
                    report[key] = {
                        "first_token_ms": [round(t * 1000, 1) for t in ttft],
                        "first_token_p50_ms": round(float(np.nanmedian(ttft)) * 1000, 1),
                    }
                    print(
                        f"\n== {key}: first streamed content token, {len(ttft)} sequential "
                        f"requests: p50 {report[key]['first_token_p50_ms']} ms; "
                        f"all {report[key]['first_token_ms']}"
                    )
                    continue
                clients, seconds, rate = {
                    "single": (1, args.seconds / 4, None),
                    "saturation": (args.clients, args.seconds / 2, None),
                    "open": (args.clients, args.seconds, args.rate),
                    "mixed": (args.clients, args.seconds, args.mixed_rate),
                }[name]
                report[key] = measure(
                    key, proc.pid, base, queries, wav, clients=clients, seconds=seconds,
                    mix=mix if name == "mixed" else {"search": 1.0}, rate=rate,
                )  # fmt: skip
            report["rss_mb_end"] = round(rss_mb(proc.pid), 1)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log_tail = (folder / "server.log").read_text(errors="replace")[-2000:]
    errors = sum(v.get("errors", 0) for v in report.values() if isinstance(v, dict))
    if errors and log_tail.strip():
        print("--- server log (tail) ---\n" + log_tail)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
