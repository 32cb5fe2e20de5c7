from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.clock import Clock
from gateway.settings import Settings
from gateway.shipments.poller import ShipmentPoller
from gateway.shipments.service import ShipmentService
from tests.harness import GATEWAY, FakeDNS, Portal, World
from tests.shipments.bodies import shipment_body
from tests.shipments.fake_carrier import FakeCarrier


@dataclass
class ShipWorld:
    world: World
    carrier: FakeCarrier
    settings: Settings
    sent: list[dict[str, Any]] = field(default_factory=list)

    @property
    def http(self) -> httpx.AsyncClient:
        return self.world.http

    def auth(self, key: str | None = None) -> dict[str, str]:
        return self.world.auth(key)

    async def book(
        self, body: dict[str, Any] | None = None, idem: str | None = None, key: str | None = None
    ) -> httpx.Response:
        headers = {**self.auth(key), "Idempotency-Key": idem or str(uuid.uuid4())}
        return await self.http.post("/v1/shipments", json=body or shipment_body(), headers=headers)

    async def booked(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = await self.book(body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def get(self, shipment_id: str) -> dict[str, Any]:
        r = await self.http.get(f"/v1/shipments/{shipment_id}", headers=self.auth())
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def events(self, shipment_id: str) -> list[dict[str, Any]]:
        r = await self.http.get(f"/v1/shipments/{shipment_id}/events", headers=self.auth())
        assert r.status_code == 200, r.text
        return list(r.json())

    async def push(self, body: bytes) -> httpx.Response:
        return await self.http.post("/callbacks/vnpost", content=body, headers={"Content-Type": "application/json"})

    async def poll(self) -> int:
        poller: ShipmentPoller = self.world.app.state.shipment_poller
        return await poller.run_once()

    async def dispatch(self) -> None:
        await self.world.run_dispatcher()

    def service(self, session: Any) -> ShipmentService:
        return ShipmentService(session, self.carrier, self.settings, self.world.clock)

    def webhook_types(self) -> list[str]:
        return [e["type"] for e in self.world.portal.events()]


@pytest.fixture
def settings(clean_database: str) -> Settings:
    return Settings(
        database_url=clean_database,
        public_base_url=GATEWAY,
        workers_enabled=False,
        webhook_allow_http=True,
        webhook_allowed_hosts=["portal.test"],
        providers={},
    )


@pytest.fixture
async def ship(settings: Settings) -> AsyncIterator[ShipWorld]:
    clock = Clock()
    portal = Portal()
    dns = FakeDNS()
    carrier = FakeCarrier()
    app = create_app(
        settings,
        clock=clock,
        carrier=carrier,
        webhook_transport=httpx.MockTransport(portal.handler),
        webhook_resolver=dns.resolve,
    )
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as http,
    ):
        world = World(app=app, sim_app=app, http=http, sim=http, portal=portal, clock=clock, vnpay=None, dns=dns)  # type: ignore[arg-type]
        world.client, world.api_key = await world.add_client()
        yield ShipWorld(world=world, carrier=carrier, settings=settings)
