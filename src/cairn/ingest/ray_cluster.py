"""A throwaway Ray cluster on loopback: one head and some worker nodes on this machine.

For tests, benchmarks and trying ``cairn ingest --ray`` without a real cluster. Every node is
a ``ray start --block`` process in a session of its own, with a private temp dir and free ports,
so :meth:`LocalRayCluster.stop` ends exactly the processes it started (their process groups),
and two clusters can run side by side. A real cluster is started with ``ray start`` by hand;
see docs/ray.md.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from cairn.errors import IngestError
from cairn.ports import free_port


def _ray_cli() -> str:
    here = Path(sys.executable).parent / "ray"
    found = str(here) if here.is_file() else shutil.which("ray")
    if not found:
        raise IngestError("ray-missing", "the `ray` command is missing: pip install 'cairn[ray]'")
    return found


class LocalRayCluster:
    """``with LocalRayCluster(workers=1) as cluster: ... cluster.address ...``"""

    def __init__(
        self,
        *,
        head_cpus: int = 1,
        workers: int = 1,
        worker_cpus: int = 1,
        object_store_mb: int = 200,
        start_timeout: float = 120.0,
    ) -> None:
        self.head_cpus = head_cpus
        self.n_workers = workers
        self.worker_cpus = worker_cpus
        self.object_store_bytes = object_store_mb * 1024 * 1024
        self.start_timeout = start_timeout
        self.port = 0
        self.temp_dir: Path | None = None
        self.head: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> LocalRayCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        # A short path: Ray's unix socket names must fit in 107 bytes.
        self.temp_dir = Path(tempfile.mkdtemp(prefix="cairn-ray-", dir="/tmp"))
        self.port = free_port()
        self.head = self._node(
            "head",
            [
                "--head",
                f"--port={self.port}",
                f"--num-cpus={self.head_cpus}",
                "--include-dashboard=false",
                f"--dashboard-port={free_port()}",
                f"--ray-client-server-port={free_port()}",
                "--disable-usage-stats",
            ],
        )
        for n in range(self.n_workers):
            self.add_worker(name=f"worker{n}")

    def add_worker(self, name: str | None = None) -> subprocess.Popen[bytes]:
        proc = self._node(
            name or f"worker{len(self.workers)}",
            [f"--address={self.address}", f"--num-cpus={self.worker_cpus}"],
        )
        self.workers.append(proc)
        return proc

    def _node(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        assert self.temp_dir is not None
        log = self.temp_dir / f"{name}.log"
        cmd = [
            _ray_cli(),
            "start",
            "--block",
            "--node-ip-address=127.0.0.1",
            "--num-gpus=0",
            f"--temp-dir={self.temp_dir}",
            f"--object-store-memory={self.object_store_bytes}",
            f"--dashboard-agent-listen-port={free_port()}",
            f"--metrics-export-port={free_port()}",
            *args,
        ]
        env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
        with log.open("wb") as out:
            proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env
            )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            if "Ray runtime started" in text:
                return proc
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        self._end(proc)
        raise IngestError("ray-start", f"Ray {name} node did not start ({log}):\n{tail}")

    def kill_worker(self, n: int = 0) -> None:
        """SIGKILL worker node ``n`` and everything it runs (a lost machine)."""
        proc = self.workers[n]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    @staticmethod
    def _end(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # `ray start --block` stops its own processes
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        # Whatever is left of this node's process group (it is a session of its own).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop(self) -> None:
        for proc in [*self.workers, *([self.head] if self.head else [])]:
            self._end(proc)
        self.workers = []
        self.head = None
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir = None
