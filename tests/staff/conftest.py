from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from playwright.sync_api import Browser

from gateway.app import create_app
from gateway.clock import Clock
from gateway.settings import Settings
from tests.reconciliation.world import finance
from tests.staff.browser import chromium
from tests.staff.helpers import GATEWAY, StaffWorld

__all__ = ["finance"]  # the finance world (tests/reconciliation/world.py), for test_finance.py


@pytest.fixture
def settings(clean_database: str) -> Settings:
    return Settings(database_url=clean_database, public_base_url=GATEWAY, workers_enabled=False, demo_enabled=False)


@pytest.fixture
async def staff_world(settings: Settings) -> AsyncIterator[StaffWorld]:
    clock = Clock()
    app = create_app(settings, clock=clock)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as http,
    ):
        yield StaffWorld(app=app, http=http, clock=clock)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, one per test module (tests/staff/browser.py)."""
    with chromium() as browser:
        yield browser
