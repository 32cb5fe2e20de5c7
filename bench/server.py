"""Start and stop an app under uvicorn, the way the gateway is served (`dvc-gateway serve`).

`python -m bench.serve <app> --workers N` (uvicorn; gateway/serving.py says how several workers differ
from `uvicorn --workers N`, which `as_served=True` runs instead) in its own process group, output to a log file,
readiness polled on an HTTP path until it answers 200 (bounded), stopped with SIGTERM then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
GATEWAY_APP = "gateway.asgi:create"
BASELINE_APP = "bench.baseline_app:create"


def listeners(port: int) -> int:
    """How many sockets listen on the port (one per worker with SO_REUSEPORT)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].rsplit(":", 1)[1] == f"{port:04X}" and fields[3] == "0A":  # 0A: LISTEN
                count += 1
    return count


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    app: str
    workers: int
    env: dict[str, str]
    log_path: Path
    ready_path: str = "/health"
    port: int = field(default_factory=free_port)
    wrap: list[str] = field(default_factory=list)  # e.g. py-spy record ... -- (profiling)
    as_served: bool = False  # plain `python -m uvicorn`, without bench/serve.py's TCP_NODELAY fix
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.as_served:
            cmd = [sys.executable, "-m", "uvicorn", self.app, "--factory", "--no-access-log"]
        else:
            cmd = [sys.executable, "-m", "bench.serve", self.app]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        return [*self.wrap, *cmd]

    def start(self, timeout: float = 60.0) -> None:
        env = {**os.environ, **self.env}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        # With several workers each must be listening (bench.serve: one socket per worker) before the
        # load starts, or the first connections all go to the first one up.
        want_listeners = 1 if self.as_served else self.workers
        ok_in_a_row = 0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}:\n{self.tail()}")
            try:
                r = httpx.get(self.base_url + self.ready_path, timeout=2)
                ok_in_a_row = ok_in_a_row + 1 if r.status_code == 200 else 0
            except httpx.HTTPError:
                ok_in_a_row = 0
            if ok_in_a_row >= 3 and listeners(self.port) >= want_listeners:
                time.sleep(0.3 if self.workers > 1 else 0.1)
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready within {timeout}s; see {self.log_path}:\n{self.tail()}")

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # The process group is the one this object started (start_new_session), nothing else.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGINT if self.wrap else signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# The load comes from one address with one key, faster than any limit a gateway is run with: the limits
# are raised out of reach, and every request is still counted (its cost is part of what is measured).
UNLIMITED = {
    "DVCGW_RATE_LIMIT_PER_KEY": "1000000000",
    "DVCGW_RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS": "1000000000",
    "DVCGW_RATE_LIMIT_CALLBACKS_PER_ADDRESS": "1000000000",
    "DVCGW_RATE_LIMIT_DEMO_PER_ADDRESS": "1000000000",
}


def gateway_env(database_url: str, log_level: str = "INFO") -> dict[str, str]:
    return {
        "DVCGW_DATABASE_URL": database_url,
        "DVCGW_WORKERS_ENABLED": "false",
        "DVCGW_LOG_LEVEL": log_level,
        "DVCGW_ENVIRONMENT": "bench",
        **UNLIMITED,
    }
