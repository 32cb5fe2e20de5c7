"""Shipments through the real VNPost adapter and its simulator: quote, book, every scripted progression, the
simulator's duplicated, reordered and dropped pushes, the polling fallback, a forged push.

The gateway calls the simulator's partner API and the simulator pushes to the gateway's /callbacks/vnpost,
both by ASGI in this process; each signs and verifies with its own code.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from adapters.vnpost.settings import VNPostSettings
from contracts import s10
from gateway.app import create_app
from gateway.clock import Clock
from gateway.db.models import NotificationRejection, ProviderNotification
from gateway.settings import Settings
from gateway.shipments.poller import ShipmentPoller
from simulators.vnpost import DEV_ACCOUNT, SimulatorConfig
from simulators.vnpost import create_app as create_simulator
from simulators.vnpost.simulator_state import simulator_of
from tests.harness import GATEWAY, FakeDNS, LateASGI, Portal, World
from tests.shipments.bodies import address, shipment_body

pytestmark = pytest.mark.anyio
VNPOST = "http://vnpost.test"


@dataclass
class E2E:
    world: World
    sim_app: Any
    sim: httpx.AsyncClient
    carrier_transport: LosesAnswers

    @property
    def http(self) -> httpx.AsyncClient:
        return self.world.http

    async def book(self, **changes: Any) -> dict[str, Any]:
        headers = {**self.world.auth(), "Idempotency-Key": str(uuid.uuid4())}
        r = await self.http.post("/v1/shipments", json=shipment_body(**changes), headers=headers)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def get(self, shipment_id: str) -> dict[str, Any]:
        r = await self.http.get(f"/v1/shipments/{shipment_id}", headers=self.world.auth())
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def events(self, shipment_id: str) -> list[dict[str, Any]]:
        r = await self.http.get(f"/v1/shipments/{shipment_id}/events", headers=self.world.auth())
        assert r.status_code == 200, r.text
        return list(r.json())

    async def advance(self, order_id: str, **body: Any) -> dict[str, Any]:
        """A postman's scan at the simulator; its push reaches the gateway before this returns."""
        r = await self.sim.post(f"/_sim/vnpost/orders/{order_id}/advance", json=body)
        assert r.status_code == 200, r.text
        await simulator_of(self.sim_app.state).pushes.drain()
        return dict(r.json())

    async def scenario(self, order_id: str, name: str) -> None:
        r = await self.sim.put(f"/_sim/vnpost/orders/{order_id}/scenario", json={"scenario": name})
        assert r.status_code == 200, r.text

    async def faults(self, **faults: Any) -> None:
        r = await self.sim.put("/_sim/vnpost/faults", json=faults)
        assert r.status_code == 200, r.text

    async def to_the_end(self, order_id: str) -> None:
        while True:
            r = await self.sim.post(f"/_sim/vnpost/orders/{order_id}/advance", json={})
            if r.status_code == 409:
                return
            assert r.status_code == 200, r.text
            await simulator_of(self.sim_app.state).pushes.drain()

    async def poll(self) -> int:
        poller: ShipmentPoller = self.world.app.state.shipment_poller
        return await poller.run_once()

    async def webhooks(self) -> list[str]:
        await self.world.run_dispatcher()
        return [e["type"] for e in self.world.portal.events()]


class LosesAnswers(httpx.AsyncBaseTransport):
    """The simulator's transport, losing the answer (after the simulator acted) of the next `lose` calls
    whose path ends with `path`."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.lose = 0
        self.path = "/CreateOrder"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.lose and request.url.path.endswith(self.path):
            self.lose -= 1
            raise httpx.ReadTimeout("the answer was lost on its way back", request=request)
        return response


@pytest.fixture
async def e2e(settings: Settings) -> AsyncIterator[E2E]:
    clock = Clock()
    portal = Portal()
    gateway_proxy = LateASGI()
    sim_app = create_simulator(
        SimulatorConfig(accounts=[DEV_ACCOUNT], callback_url=f"{GATEWAY}/callbacks/vnpost", push_retry_intervals=()),
        push_transport=httpx.ASGITransport(app=gateway_proxy),
    )
    # The adapter's defaults are the simulator's account and push key; only the address is the test's.
    settings.carriers = {"vnpost": VNPostSettings(_env_file=None, api_url=VNPOST)}  # type: ignore[call-arg]
    carrier_transport = LosesAnswers(httpx.ASGITransport(app=sim_app))
    app = create_app(
        settings,
        clock=clock,
        carrier_transport=carrier_transport,
        webhook_transport=httpx.MockTransport(portal.handler),
        webhook_resolver=FakeDNS().resolve,
    )
    gateway_proxy.target = app
    async with (
        app.lifespan(),
        sim_app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as http,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=sim_app), base_url=VNPOST) as sim,
    ):
        world = World(app=app, sim_app=sim_app, http=http, sim=sim, portal=portal, clock=clock, vnpay=None)  # type: ignore[arg-type]
        world.client, world.api_key = await world.add_client()
        yield E2E(world, sim_app, sim, carrier_transport)


async def test_quote_from_the_simulators_fee_table(e2e: E2E) -> None:
    body = {k: shipment_body()[k] for k in ("kind", "sender", "recipient", "parcel")} | {"service": "ETN011"}
    same = await e2e.http.post("/v1/shipments/quotes", json=body, headers=e2e.world.auth())
    assert same.status_code == 200, same.text
    far = body | {"recipient": address(province_code="79", ward_code="26740")}
    other = await e2e.http.post("/v1/shipments/quotes", json=far, headers=e2e.world.auth())
    assert other.status_code == 200, other.text
    assert other.json()["total"] > same.json()["total"] > 0
    assert other.json()["service"] == "ETN011"


async def test_delivered(e2e: E2E, capsys: pytest.CaptureFixture[str]) -> None:
    s = await e2e.book()
    assert (s["status"], s["booking"], s["carrier"]) == ("pending", "booked", "vnpost")
    assert s["office_code"] and s["postage"] > 0
    await e2e.to_the_end(s["carrier_order_id"])
    done = await e2e.get(s["id"])
    assert done["status"] == "delivered"
    assert done["delivered_at"] is not None
    assert s10.is_valid(done["item_number"])  # assigned when the post office accepted it
    timeline = await e2e.events(s["id"])
    moves = [e["status_after"] for e in timeline if e["status_before"] not in (None, e["status_after"])]
    assert moves == ["picked_up", "in_transit", "out_for_delivery", "delivered"]
    assert (await e2e.webhooks())[-1] == "shipment.delivered"
    tracking = await e2e.http.get(f"/v1/tracking/{done['item_number']}")
    assert tracking.status_code == 200 and tracking.json()["status"] == "delivered"
    logged = capsys.readouterr().out
    assert '"to_status":"delivered"' in logged  # what was done is logged, who it was for is not
    for personal in ("Nguyễn Văn An", "0912345678", "12 Tràng Tiền", "5 Lý Thường Kiệt", "126 Hàng Trống"):
        assert personal not in logged


async def test_two_failed_attempts_held_then_returned_to_the_agency(e2e: E2E) -> None:
    s = await e2e.book()
    await e2e.scenario(s["carrier_order_id"], "returned")
    await e2e.advance(s["carrier_order_id"], to="out_for_delivery")
    await e2e.advance(s["carrier_order_id"])  # failed, L01
    failed = await e2e.get(s["id"])
    assert (failed["status"], failed["failed_attempts"]) == ("delivery_failed", 1)
    await e2e.advance(s["carrier_order_id"])  # out again
    await e2e.advance(s["carrier_order_id"])  # failed, L05
    held = await e2e.get(s["id"])
    assert (held["status"], held["failed_attempts"]) == ("on_hold", 2)
    await e2e.to_the_end(s["carrier_order_id"])
    assert (await e2e.get(s["id"]))["status"] == "returned_to_agency"
    reasons = [e["reason_code"] for e in await e2e.events(s["id"]) if e["status_after"] == "delivery_failed"]
    assert reasons == ["L01", "L05"]
    hooks = await e2e.webhooks()
    assert hooks.count("shipment.delivery_failed") == 2
    assert hooks[-1] == "shipment.returned"
    assert "shipment.status_changed" in hooks[hooks.index("shipment.delivery_failed") :]


async def test_cancelled_by_the_portal_before_pickup(e2e: E2E) -> None:
    s = await e2e.book()
    r = await e2e.http.post(f"/v1/shipments/{s['id']}/cancel", headers=e2e.world.auth())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    await simulator_of(e2e.sim_app.state).pushes.drain()
    order = (await e2e.sim.get(f"/_sim/vnpost/orders/{s['carrier_order_id']}")).json()
    assert order["events"][-1]["status"] == 9  # Hủy thu gom, at the carrier too
    # The carrier's push of its cancellation is recorded, and changes nothing more.
    timeline = await e2e.events(s["id"])
    assert [(e["source"], e["code"]) for e in timeline if e["status_after"] == "cancelled"][-1] == ("carrier", "9")
    assert (await e2e.webhooks()).count("shipment.status_changed") == 1


async def test_cancelled_by_the_carrier_before_pickup(e2e: E2E) -> None:
    s = await e2e.book()
    await e2e.scenario(s["carrier_order_id"], "cancelled")
    await e2e.advance(s["carrier_order_id"])
    assert (await e2e.get(s["id"]))["status"] == "cancelled"


async def test_a_picked_up_shipment_cannot_be_cancelled(e2e: E2E) -> None:
    s = await e2e.book()
    await e2e.advance(s["carrier_order_id"], to="picked_up")
    r = await e2e.http.post(f"/v1/shipments/{s['id']}/cancel", headers=e2e.world.auth())
    assert r.status_code == 409, r.text
    assert (await e2e.get(s["id"]))["status"] == "picked_up"


async def test_cod_collected_and_recorded(e2e: E2E) -> None:
    s = await e2e.book(cod_amount=50_000)
    await e2e.scenario(s["carrier_order_id"], "cod")
    await e2e.to_the_end(s["carrier_order_id"])
    done = await e2e.get(s["id"])
    assert (done["status"], done["cod_amount"], done["cod_collected"]) == ("delivered", 50_000, 50_000)


async def test_duplicated_pushes_are_recorded_once(e2e: E2E) -> None:
    s = await e2e.book()
    await e2e.faults(push_duplicate=2)
    await e2e.to_the_end(s["carrier_order_id"])
    carrier = [e for e in await e2e.events(s["id"]) if e["source"] == "carrier" and e["code"] != "1"]
    keys = [(e["code"], e["occurred_at"]) for e in carrier]
    assert len(keys) == len(set(keys)) == 6  # 6 7 10 11 12 14, each once
    async with e2e.world.app.state.sessionmaker() as session:
        received = list(await session.scalars(select(ProviderNotification.id)))
    assert len(received) == 3 * 6  # every push came three times
    assert (await e2e.get(s["id"]))["status"] == "delivered"
    assert (await e2e.webhooks()).count("shipment.delivered") == 1


async def test_pushes_out_of_order_end_forward(e2e: E2E) -> None:
    s = await e2e.book()
    await e2e.faults(push_out_of_order=True)
    order_id = s["carrier_order_id"]
    await e2e.advance(order_id, to="out_for_delivery")
    await e2e.advance(order_id, to="delivered")  # its push overtakes the one before
    await e2e.faults(push_out_of_order=False)
    await e2e.sim.post(f"/_sim/vnpost/orders/{order_id}/push")  # the held-back one, if any is left
    await simulator_of(e2e.sim_app.state).pushes.drain()
    shipment = await e2e.get(s["id"])
    assert shipment["status"] == "delivered"
    late = [e for e in await e2e.events(s["id"]) if e["source"] == "carrier" and not e["applied"]]
    assert [e["code"] for e in late] == ["6", "7", "10", "11", "12"]  # arrived after 14, older than it
    assert all(e["status_after"] == "delivered" for e in late)


async def test_polling_finds_what_dropped_pushes_did_not_say(e2e: E2E) -> None:
    s = await e2e.book()
    await e2e.faults(push_drop=True)
    await e2e.to_the_end(s["carrier_order_id"])
    assert (await e2e.get(s["id"]))["status"] == "pending"
    e2e.world.clock.advance(timedelta(hours=2, seconds=1))
    assert await e2e.poll() == 1
    polled = await e2e.get(s["id"])
    assert polled["status"] == "delivered"
    assert s10.is_valid(polled["item_number"])
    e2e.world.clock.advance(timedelta(days=1))
    assert await e2e.poll() == 0  # delivered: no longer asked about


async def test_a_push_with_a_forged_signature_changes_nothing(e2e: E2E) -> None:
    s = await e2e.book()
    r = await e2e.advance(s["carrier_order_id"], to="picked_up")
    envelope = dict(r["push"])
    envelope["Data"] = envelope["Data"].replace('"Status":6', '"Status":14').replace('"status":6', '"status":14')
    forged = await e2e.http.post("/callbacks/vnpost", json=envelope)
    assert forged.status_code != 200
    assert (await e2e.get(s["id"]))["status"] == "picked_up"
    async with e2e.world.app.state.sessionmaker() as session:
        assert list(await session.scalars(select(NotificationRejection.count))) == [1]


async def test_a_booking_whose_answer_was_lost_is_linked_by_the_carriers_push(e2e: E2E) -> None:
    e2e.carrier_transport.lose = 1  # VNPost made the order; its answer never came back
    headers = {**e2e.world.auth(), "Idempotency-Key": str(uuid.uuid4())}
    r = await e2e.http.post("/v1/shipments", json=shipment_body(), headers=headers)
    assert r.status_code == 202, r.text
    shipment_id = r.json()["id"]
    e2e.world.clock.advance(timedelta(minutes=5))
    # Booked again: VNPost refuses a second order with the same reference, and the adapter finds the order
    # the first call made (orderTracking by saleOrderCode), so the shipment is booked without waiting for a push.
    assert await e2e.poll() == 1
    [order] = simulator_of(e2e.sim_app.state).store.orders.values()
    assert order.sale_order_code == shipment_id
    found = await e2e.get(shipment_id)
    assert (found["booking"], found["carrier_order_id"]) == ("booked", order.original_id)
    await e2e.advance(order.original_id, to="picked_up")
    linked = await e2e.get(shipment_id)
    assert (linked["booking"], linked["carrier_order_id"], linked["status"]) == (
        "booked",
        order.original_id,
        "picked_up",
    )
    assert (await e2e.webhooks())[:2] == ["shipment.booked", "shipment.status_changed"]


async def test_the_slip_names_the_item_the_addresses_and_the_documents(e2e: E2E) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    s = await e2e.book()
    await e2e.to_the_end(s["carrier_order_id"])
    done = await e2e.get(s["id"])
    r = await e2e.http.get(f"/v1/shipments/{s['id']}/slip", headers=e2e.world.auth())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/pdf")
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(r.content)).pages)
    assert done["item_number"] in text
    for printed in ("Nguyễn Văn An", "Trích lục khai sinh", s["dossier_code"]):
        assert printed in text
    a5 = await e2e.http.get(f"/v1/shipments/{s['id']}/slip?size=A5", headers=e2e.world.auth())
    assert a5.status_code == 200 and a5.content != r.content
    assert (await e2e.http.get(f"/v1/shipments/{s['id']}/slip?size=A4", headers=e2e.world.auth())).status_code == 400
    assert (await e2e.http.get(f"/v1/shipments/{s['id']}/slip")).status_code == 401
