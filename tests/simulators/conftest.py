"""Fixtures: a VNPay simulator whose IPNs land in an in-process fake merchant."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from simulators.vnpay import SimulatorConfig, create_app
from tests.simulators.vnpay_sandbox import SANDBOX, FakeMerchant, Sandbox, asgi, make_config


@pytest.fixture
def sim_config() -> SimulatorConfig:
    return make_config()


@pytest.fixture
async def sandbox(sim_config: SimulatorConfig) -> AsyncIterator[Sandbox]:
    merchant = FakeMerchant()
    app = create_app(sim_config, ipn_transport=asgi(merchant))
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=asgi(app), base_url=SANDBOX) as client,
    ):
        yield Sandbox(app=app, client=client, merchant=merchant, config=sim_config)
