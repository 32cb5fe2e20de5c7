"""The gateway served for real (`dvc-gateway serve`, a process of its own) and Debian's Chromium driving it.

Chromium comes from Debian (`apt-get install -y chromium`, which .ci/run does), never from
`playwright install`: Playwright from PyPI drives it through `executable_path`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
import pytest

from gateway.settings import ROOT

CHROMIUM = shutil.which("chromium") or (os.path.exists("/usr/bin/chromium") and "/usr/bin/chromium") or None
needs_chromium = pytest.mark.skipif(
    not CHROMIUM, reason="Debian's chromium is not installed (apt-get install -y chromium; .ci/run installs it)"
)
T = TypeVar("T")
PHONE = {"width": 360, "height": 740}


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs a coroutine to its end from a test that drives Playwright, whose own event loop holds this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_gateway(database_url: str) -> Iterator[str]:
    """`dvc-gateway serve` on a free loopback port, on `database_url`; its base URL while the block runs."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DVCGW_DATABASE_URL": database_url,
        "DVCGW_PUBLIC_BASE_URL": url,
        "DVCGW_WORKERS_ENABLED": "false",
        "DVCGW_DEMO_ENABLED": "false",
        "DVCGW_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-c", "from gateway.cli import main; main()", "serve", "--port", str(port)]
    proc = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "the gateway exited at start-up"
            assert time.monotonic() < deadline, "the gateway did not answer /health within 30 s"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)
