"""Real processes for the crash and several-process suites: the five simulators, gateway processes on one
database, and a portal that records every webhook delivery.

Everything talks over loopback HTTP, as in production: the gateway is `dvc-gateway serve`, each simulator
is its own uvicorn process, and the only thing shared with the test is the database (read, never written,
by the checks) and the simulators' control APIs.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from gateway.settings import ROOT

CLI = str(Path(sys.executable).parent / "dvc-gateway")
PROVIDERS = ("vnpay", "momo", "zalopay", "payos")

# Each simulator as `make run` starts it, but told where this gateway is and re-delivering sooner, so a
# notification lost to a killed gateway comes again within the test (the schedules' shape is kept).
_SIMULATOR_CODE = {
    "vnpay": """
from simulators.vnpay.config import DEV_MERCHANT as M, SimulatorConfig
config = SimulatorConfig(merchants=[replace(M, ipn_url=GW + "/callbacks/vnpay/ipn")], public_url=ME,
                         ipn_retry_intervals=(1, 2, 4, 8, 15, 30))
from simulators.vnpay.app import create_app""",
    "momo": """
from simulators.momo.config import DEV_MERCHANT as M, SimulatorConfig
config = SimulatorConfig(merchants=[M], public_url=ME, ipn_retry_intervals=(1, 2, 4, 8, 15, 30))
from simulators.momo.app import create_app""",
    "zalopay": """
from simulators.zalopay.config import DEV_APP as A, SimulatorConfig
config = SimulatorConfig(apps=[replace(A, callback_url=GW + "/callbacks/zalopay/ipn")], public_url=ME,
                         callback_retry_intervals=(1.0, 3.0, 10.0))
from simulators.zalopay.app import create_app""",
    "payos": """
from simulators.payos.config import DEV_MERCHANT as M, SimulatorConfig
config = SimulatorConfig(merchants=[replace(M, webhook_url=GW + "/callbacks/payos/ipn")], public_url=ME,
                         webhook_retry_intervals=(1.0, 2.0, 4.0, 8.0, 15.0, 30.0))
from simulators.payos.app import create_app""",
    "vnpost": """
from simulators.vnpost.config import DEV_ACCOUNT as A, SimulatorConfig
config = SimulatorConfig(accounts=[A], callback_url=GW + "/callbacks/vnpost", push_retry_intervals=(1, 2, 4, 8, 15, 30))
from simulators.vnpost.app import create_app""",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


@dataclass
class Proc:
    """One command in a process group of its own (so SIGKILL takes its children too), logging to a file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    url: str  # where it answers
    ready_path: str = "/"
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - our own argv
                self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        # A bound on start-up, not a speed check: a process that never answers is a failed start.
        deadline = time.monotonic() + 90
        while not answers(self.url + self.ready_path):
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start; its log:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer does: no shutdown code runs."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(30)

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.popen is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Delivery:
    webhook_id: str
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Portal:
    """The portal's webhook receiver: records every delivery (answers 200). `hold` makes it wait before
    answering, and `reached` tells who waits that a delivery is in flight (to kill the gateway mid-delivery)."""

    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    hold: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    reached: threading.Event = field(default_factory=threading.Event)
    hold_seconds: float = 10.0
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def start(self) -> None:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), 64 * 1024)
                body = json.loads(self.rfile.read(length))
                with portal.lock:
                    portal.deliveries.append(Delivery(self.headers.get("webhook-id", ""), body))
                if portal.hold.is_set():
                    portal.reached.set()
                    portal.release.wait(portal.hold_seconds)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def snapshot(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries)


@dataclass
class World:
    """The simulators and the portal, started once; gateway processes are made with `gateway()`."""

    database_url: str
    logs: Path
    gateway_port: int = field(default_factory=free_port)
    sims: dict[str, Proc] = field(default_factory=dict)
    sim_urls: dict[str, str] = field(default_factory=dict)
    portal: Portal = field(default_factory=Portal)
    api_key: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def env(self, public_url: str | None = None) -> dict[str, str]:
        s = self.sim_urls
        env = {
            **os.environ,
            "DVCGW_DATABASE_URL": self.database_url,
            "DVCGW_PUBLIC_BASE_URL": public_url or self.gateway_url,
            "DVCGW_LOG_LEVEL": "WARNING",
            "DVCGW_WEBHOOK_ALLOW_HTTP": "true",
            "DVCGW_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]',
            "DVCGW_WEBHOOK_RETRY_SCHEDULE_SECONDS": "[1, 2, 3, 5, 8, 13, 21, 34, 55, 89]",
            # Asked about soon, so a notification lost to a crash is made up for within the run.
            "DVCGW_PAYMENT_FIRST_QUERY_SECONDS": "3",
            "DVCGW_PAYMENT_QUERY_SCHEDULE_SECONDS": "[2, 3, 5, 8, 13]",
            "DVCGW_SHIPMENT_POLL_STALE_SECONDS": "5",
            "DVCGW_SHIPMENT_BOOKING_RETRY_SECONDS": "[2, 3, 5, 8, 13]",
            "DVCGW_WORKER_POLL_SECONDS": "0.5",
            "DVCGW_RATE_LIMIT_STORE": "memory",
            "DVCGW_VNPAY_PAYMENT_URL": f"{s['vnpay']}/paymentv2/vpcpay.html",
            "DVCGW_VNPAY_API_URL": f"{s['vnpay']}/merchant_webapi/api/transaction",
            "DVCGW_MOMO_API_URL": s["momo"],
            "DVCGW_ZALOPAY_API_URL": s["zalopay"],
            "DVCGW_PAYOS_API_URL": s["payos"],
            "DVCGW_VNPOST_API_URL": s["vnpost"],
            "PYTHONUNBUFFERED": "1",
        }
        return env | self.extra_env

    def start(self) -> None:
        self.portal.start()
        for name, code in _SIMULATOR_CODE.items():
            port = free_port()
            me = f"http://127.0.0.1:{port}"
            self.sim_urls[name] = me
            source = (
                f"from dataclasses import replace\nimport uvicorn\nGW = {self.gateway_url!r}\nME = {me!r}\n{code}\n"
                f"uvicorn.run(create_app(config), host='127.0.0.1', port={port}, log_level='warning')\n"
            )
            proc = Proc(name, [sys.executable, "-c", source], dict(os.environ), self.logs / f"{name}.log", me)
            proc.start()
            self.sims[name] = proc
        cli(["db", "upgrade"], self.env())
        out = cli(["clients", "create", "Cổng DVC tỉnh (crash)", "--webhook-url", self.portal.url], self.env())
        self.api_key = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("API key"))

    def gateway(self, port: int | None = None, name: str = "gateway") -> Proc:
        port = port or self.gateway_port
        url = f"http://127.0.0.1:{port}"
        # Every gateway process gives providers the same public URL (one load balancer in front of them).
        return Proc(
            name,
            [CLI, "serve", "--port", str(port)],
            self.env(),
            self.logs / f"{name}-{port}.log",
            url,
            "/health",
        )

    def stop(self) -> None:
        for proc in self.sims.values():
            proc.stop()
        self.portal.stop()


def cli(args: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run([CLI, *args], cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    if proc.returncode:
        raise RuntimeError(f"dvc-gateway {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


@contextlib.contextmanager
def world(database_url: str, logs: Path, **extra_env: str) -> Iterator[World]:
    w = World(database_url, logs, extra_env=extra_env)
    try:
        w.start()
        yield w
    finally:
        w.stop()
