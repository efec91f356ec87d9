"""Bounded load on ``cairn serve``, on loopback only (issue #5).

Starts ``cairn serve`` on 127.0.0.1 with an existing knowledge base (``--kb``; nothing is
ingested), runs ``--clients`` concurrent clients for ``--seconds`` with a fixed mix of
requests, then stops the server it started:

* 70% ``GET /api/search`` with SciFact test claims,
* 20% ``POST /api/ask`` with the same claims,
* 10% ``POST /v1/audio/transcriptions`` with a short WAV (eSpeak NG, else a tone).

It reports, per endpoint, throughput and p50/p95/p99 latency, the error count, the server's
resident memory at start (after a warm-up) and at the end, and the time to the first streamed
content token of a few sequential grounded ``/v1/chat/completions`` requests.

    python bench/load_test.py --kb /tmp/sf.sqlite --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

HOST = "127.0.0.1"  # never anything else: this is a local, bounded test
ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT.parent / "shared/benchdata/scifact/queries_test.jsonl"
MIX = (("search", 0.7), ("ask", 0.2), ("transcribe", 0.1))
KINDS = tuple(k for k, _ in MIX)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux ``/proc``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_claims(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh if line.strip()]


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
    error_samples: list[str] = field(default_factory=list)

    def ok(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def fail(self, kind: str, why: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.error_samples) < 5:
            self.error_samples.append(f"{kind}: {why}")


async def one_request(
    client: httpx.AsyncClient, kind: str, claim: str, wav: bytes
) -> httpx.Response:
    if kind == "search":
        return await client.get("/api/search", params={"q": claim, "k": 10})
    if kind == "ask":
        return await client.post("/api/ask", json={"question": claim})
    return await client.post(
        "/v1/audio/transcriptions",
        files={"file": ("q.wav", wav, "audio/wav")},
        data={"model": "whisper-1"},
    )


async def worker(
    client: httpx.AsyncClient,
    stats: Stats,
    claims: list[str],
    wav: bytes,
    until: float,
    rng: random.Random,
    mix: dict[str, float],
) -> None:
    kinds = list(mix)
    weights = list(mix.values())
    while time.monotonic() < until:
        kind = rng.choices(kinds, weights)[0]
        claim = rng.choice(claims)
        began = time.perf_counter()
        try:
            resp = await one_request(client, kind, claim, wav)
        except httpx.HTTPError as err:
            stats.fail(kind, type(err).__name__)
            continue
        took = time.perf_counter() - began
        if resp.status_code == 200:
            stats.ok(kind, took)
        else:
            stats.fail(kind, f"HTTP {resp.status_code} {resp.text[:120]}")


async def first_token_times(base: str, claims: list[str], n: int) -> list[float]:
    """Seconds to the first streamed content token, ``n`` sequential grounded chats."""
    out = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        for claim in claims[:n]:
            messages = [{"role": "user", "content": claim}]
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


async def warm_up(base: str, claims: list[str], wav: bytes) -> None:
    """Load the embedder, Whisper and the answer models before anything is timed."""
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        for kind in ("search", "ask", "transcribe"):
            resp = await one_request(client, kind, claims[0], wav)
            resp.raise_for_status()


async def load(
    base: str, claims: list[str], wav: bytes, clients: int, seconds: float, mix: dict[str, float]
) -> Stats:
    stats = Stats()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(
                worker(client, stats, claims, wav, until, random.Random(seed), mix)
                for seed in range(clients)
            )
        )
    return stats


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) * 1000 if values else float("nan")


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--kb", required=True, help="an existing, ingested knowledge base")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--chats", type=int, default=5, help="sequential streaming chats to time")
    ap.add_argument("--queries", type=Path, default=QUERIES)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument(
        "--mix",
        default=",".join(f"{k}={w}" for k, w in MIX),
        help="request mix, e.g. search=1 (default: %(default)s)",
    )
    args = ap.parse_args()
    if not 1 <= args.clients <= 64 or not 1 <= args.seconds <= 600:
        raise SystemExit("keep it bounded: 1-64 clients, 1-600 seconds")
    if "://" not in args.kb and not Path(args.kb).is_file():
        raise SystemExit(f"no knowledge base at {args.kb}")
    mix = {k: float(w) for k, _, w in (p.partition("=") for p in args.mix.split(","))}
    if not mix or set(mix) - set(KINDS) or min(mix.values()) <= 0:
        raise SystemExit(f"--mix: weights > 0 for some of {', '.join(KINDS)}")
    claims = load_claims(args.queries)
    port = free_port()
    base = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wav = question_wav(folder)
        proc = start_server(args.kb, port, folder / "server.log")
        try:
            wait_healthy(base, proc)
            asyncio.run(warm_up(base, claims, wav))
            rss_start = rss_mb(proc.pid)
            began = time.monotonic()
            stats = asyncio.run(load(base, claims, wav, args.clients, args.seconds, mix))
            wall = time.monotonic() - began
            rss_end = rss_mb(proc.pid)
            ttft = asyncio.run(first_token_times(base, claims[1:], args.chats))
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log_tail = (folder / "server.log").read_text(errors="replace")[-2000:]

    report: dict[str, Any] = {
        "clients": args.clients,
        "mix": mix,
        "seconds": round(wall, 1),
        "cpus": os.cpu_count(),
        "endpoints": {},
        "errors": sum(stats.errors.values()),
        "error_samples": stats.error_samples,
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": round(rss_end, 1),
        "chat_first_token_ms": [round(t * 1000, 1) for t in ttft],
        "chat_first_token_p50_ms": round(float(np.nanmedian(ttft)) * 1000, 1) if ttft else None,
    }
    print(f"{args.clients} clients, {wall:.1f} s, {os.cpu_count()} CPUs, server on {base}")
    print(f"{'endpoint':<12}{'ok':>7}{'err':>6}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for kind in mix:
        lat = stats.latencies.get(kind, [])
        row = {
            "ok": len(lat),
            "errors": stats.errors.get(kind, 0),
            "rps": round(len(lat) / wall, 2),
            "p50_ms": round(pct(lat, 50), 1),
            "p95_ms": round(pct(lat, 95), 1),
            "p99_ms": round(pct(lat, 99), 1),
        }
        report["endpoints"][kind] = row
        print(
            f"{kind:<12}{row['ok']:>7}{row['errors']:>6}{row['rps']:>8}"
            f"{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}"
        )
    print(f"errors: {report['errors']} {stats.error_samples or ''}")
    print(f"server RSS: {rss_start:.0f} MB after warm-up, {rss_end:.0f} MB at the end")
    print(
        f"grounded chat, first streamed token (sequential, n={len(ttft)}): "
        f"p50 {report['chat_first_token_p50_ms']} ms; all {report['chat_first_token_ms']}"
    )
    if stats.errors and log_tail.strip():
        print("--- server log (tail) ---\n" + log_tail)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
