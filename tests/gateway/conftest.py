from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.vnpay.settings import VNPaySettings
from adapters.vnpost.settings import VNPostSettings
from gateway.app import create_app
from gateway.clock import Clock
from gateway.settings import Settings
from simulators.vnpay import Merchant, SimulatorConfig
from simulators.vnpay import create_app as create_simulator
from tests.harness import GATEWAY, HASH_SECRET, SIMULATOR, TMN_CODE, FakeDNS, Flaky, LateASGI, Portal, World


@pytest.fixture
def settings(clean_database: str) -> Settings:
    return Settings(
        database_url=clean_database,
        public_base_url=GATEWAY,
        workers_enabled=False,
        log_json=True,
        webhook_retry_schedule_seconds=[5, 60, 300],
        # The recording portal (tests/harness.py) is http and has no public address.
        webhook_allow_http=True,
        webhook_allowed_hosts=["portal.test"],
        # No carrier: these tests are the payments'; shipments have theirs (tests/shipments).
        carriers={"vnpost": VNPostSettings(enabled=False)},
        providers={
            "vnpay": VNPaySettings(
                tmn_code=TMN_CODE,
                hash_secret=HASH_SECRET,  # type: ignore[arg-type]
                payment_url=f"{SIMULATOR}/paymentv2/vpcpay.html",
                api_url=f"{SIMULATOR}/merchant_webapi/api/transaction",
            )
        },
    )


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    clock = Clock()
    portal = Portal()
    dns = FakeDNS()
    gateway_proxy = LateASGI()
    sim_app = create_simulator(
        SimulatorConfig(
            merchants=[Merchant(TMN_CODE, HASH_SECRET, f"{GATEWAY}/callbacks/vnpay/ipn", "DVC Gateway (test)")],
            public_url=SIMULATOR,
            ipn_retry_intervals=(),
        ),
        ipn_transport=httpx.ASGITransport(app=gateway_proxy),
    )
    vnpay = Flaky(httpx.ASGITransport(app=sim_app))
    app = create_app(
        settings,
        clock=clock,
        provider_transport=vnpay,
        webhook_transport=httpx.MockTransport(portal.handler),
        webhook_resolver=dns.resolve,
    )
    gateway_proxy.target = app
    # Everything runs on the test's own event loop: asyncpg connections belong to the loop that made them.
    async with (
        app.lifespan(),
        sim_app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY, follow_redirects=True) as http,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=sim_app), base_url=SIMULATOR, follow_redirects=True) as sim,
    ):
        world = World(app=app, sim_app=sim_app, http=http, sim=sim, portal=portal, clock=clock, vnpay=vnpay, dns=dns)
        world.client, world.api_key = await world.add_client()
        yield world
