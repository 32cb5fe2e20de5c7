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
from playwright.sync_api import Browser, Page, sync_playwright

from gateway.cli import create_staff
from gateway.settings import ROOT, Settings
from tests.conftest import empty_tables
from tests.staff.helpers import PASSWORD

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
def served_gateway(database_url: str, factory: str | None = None) -> Iterator[str]:
    """The gateway on a free loopback port, on `database_url` emptied first, in a process of its own:
    `dvc-gateway serve`, or gateway/serving.py serving `factory` (module:function); its base URL while the
    block runs."""
    run_async(empty_tables(database_url))
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
    if factory is None:
        command = [sys.executable, "-c", "from gateway.cli import main; main()", "serve", "--port", str(port)]
    else:
        code = f"from gateway.serving import serve; raise SystemExit(serve({factory!r}, '127.0.0.1', {port}, 1))"
        command = [sys.executable, "-c", code]
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


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def phone_page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A new phone (360x740, touch, Vietnamese), its own cookies."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, base_url=base_url, locale="vi-VN")
    try:
        yield context.new_page()
    finally:
        context.close()


def add_staff(database_url: str, username: str, office: str | None = "100000", role: str = "postal") -> None:
    run_async(create_staff(Settings(database_url=database_url), username, PASSWORD, role, office))


def fits_the_screen(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/staff/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
