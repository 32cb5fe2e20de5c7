"""`dvc-gateway serve --workers N`: N processes share the port, a dead one is replaced, SIGTERM stops all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from gateway.settings import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pids(url: str, tries: int, want: int) -> set[int]:
    seen: set[int] = set()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (len(seen) < want or tries > 0):
        tries -= 1
        try:
            # A new connection each time: the kernel spreads connections, not requests, over the sockets.
            with httpx.Client(timeout=2) as c:
                seen.add(c.get(f"{url}/pid").json()["pid"])
        except httpx.TransportError:
            time.sleep(0.1)
    return seen


def test_workers_share_the_port_are_replaced_and_stop_together() -> None:
    port = _free_port()
    code = (
        "from gateway.serving import serve\n"
        f"raise SystemExit(serve('tests.serving_app:create', '127.0.0.1', {port}, 2, 'warning'))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        first = _pids(url, tries=40, want=2)
        assert len(first) == 2
        # Each worker froze what its app built at start-up.
        assert httpx.get(f"{url}/pid", timeout=2).json()["gc_frozen"] > 0

        victim = next(iter(first))
        os.kill(victim, signal.SIGKILL)
        after = _pids(url, tries=40, want=2)
        assert len(after) == 2 and victim not in after
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_a_worker_that_cannot_start_is_not_restarted_forever(monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.serving as serving

    monkeypatch.setattr(serving, "RESTART_PAUSE_SECONDS", 0.05)
    monkeypatch.setattr(serving, "MAX_QUICK_DEATHS", 2)
    started = time.monotonic()
    code = serving.serve("tests.serving_app:no_such_factory", "127.0.0.1", _free_port(), 2, "critical")
    assert code != 0
    assert time.monotonic() - started < 60
