"""The gateway and the VNPay simulator wired together, as tests/gateway/conftest.py's `world` fixture does,
but as an async context manager: a Hypothesis example builds its own on its own event loop."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

from adapters.vnpay.settings import VNPaySettings
from adapters.vnpost.settings import VNPostSettings
from gateway.app import create_app
from gateway.clock import Clock
from gateway.ledger import money_events
from gateway.settings import Settings
from gateway.shipments import service as shipments_service
from simulators.vnpay import Merchant, SimulatorConfig
from simulators.vnpay import create_app as create_simulator
from tests.harness import GATEWAY, HASH_SECRET, SIMULATOR, TMN_CODE, FakeDNS, Flaky, LateASGI, Portal, World

# Modest example counts keep the suite fast; DVCGW_PROPERTY_EXAMPLES raises them for a longer hunt.
EXAMPLES = int(os.environ.get("DVCGW_PROPERTY_EXAMPLES", "8"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
UNIT = settings(max_examples=10 * EXAMPLES, deadline=None)


def gateway_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "public_base_url": GATEWAY,
        "workers_enabled": False,
        "webhook_retry_schedule_seconds": [5, 60, 300],
        "webhook_allow_http": True,
        "webhook_allowed_hosts": ["portal.test"],
        "carriers": {"vnpost": VNPostSettings(enabled=False)},
        "providers": {
            "vnpay": VNPaySettings(
                tmn_code=TMN_CODE,
                hash_secret=HASH_SECRET,  # type: ignore[arg-type]
                payment_url=f"{SIMULATOR}/paymentv2/vpcpay.html",
                api_url=f"{SIMULATOR}/merchant_webapi/api/transaction",
            )
        },
    }
    return Settings(**(values | overrides))


@asynccontextmanager
async def open_world(settings: Settings) -> AsyncIterator[World]:
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
    async with (
        app.lifespan(),
        sim_app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY, follow_redirects=True) as http,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=sim_app), base_url=SIMULATOR, follow_redirects=True) as sim,
    ):
        world = World(app=app, sim_app=sim_app, http=http, sim=sim, portal=portal, clock=clock, vnpay=vnpay, dns=dns)
        world.client, world.api_key = await world.add_client()
        yield world


def before_the_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    """The code before migration 0014: a success changed the status and posted nothing."""

    async def no_refund_entry(*_: Any) -> None:
        return None

    async def no_cod_entry(*_: Any) -> bool:
        return False

    monkeypatch.setattr(money_events, "payment_succeeded", lambda *_: None)
    monkeypatch.setattr(money_events, "refund_succeeded", no_refund_entry)
    monkeypatch.setattr(shipments_service, "post_once", no_cod_entry)
