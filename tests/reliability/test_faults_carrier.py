"""The faults suite for the carrier: VNPost's pushes duplicated, held back out of order or lost, its API
answering 503 or slowly, through the VNPost simulator's faults API and the real VNPost adapter. After each:
the shipment is in the state VNPost shows, each carrier event is on its timeline once, every portal event
was delivered and none went out under two ids."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from adapters.vnpost.codes import status_of
from gateway.db.models import ShipmentEvent
from tests.reliability.faults_checks import check_webhooks
from tests.reliability.faults_world import Everything, everything, gateway_settings
from tests.shipments.bodies import shipment_body

pytestmark = pytest.mark.anyio

PUSH_FAULTS: dict[str, dict[str, Any]] = {
    "none": {},
    "duplicate": {"push_duplicate": 2},
    "out_of_order": {"push_out_of_order": True},
    "lost": {"push_drop": True},
    "slow": {"api_delay_ms": 50, "push_delay_ms": 20},
}


@pytest.fixture
async def e(clean_database: str) -> AsyncIterator[Everything]:
    async with everything(gateway_settings(clean_database)) as world:
        yield world


async def _faults(e: Everything, **switches: Any) -> None:
    r = await e.carrier_client.put("/_sim/vnpost/faults", json=switches)
    assert r.status_code == 200, r.text


async def _book(e: Everything, dossier: str) -> httpx.Response:
    headers = {**e.world.auth(), "Idempotency-Key": str(uuid.uuid4())}
    body = shipment_body(dossier_code=dossier)
    return await e.world.http.post("/v1/shipments", json=body, headers=headers)


async def _shipment(e: Everything, shipment_id: str) -> dict[str, Any]:
    r = await e.world.http.get(f"/v1/shipments/{shipment_id}", headers=e.world.auth())
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _polled(e: Everything) -> None:
    """Pushes drained, then time passes until every shipment is due a poll, and the poller runs."""
    await e.settle_everything()
    e.world.clock.advance(timedelta(seconds=e.settings.shipment_poll_stale_seconds + 1))
    while await e.app.state.shipment_poller.run_once():
        pass
    while await e.world.run_dispatcher():
        pass


async def _check_against_carrier(e: Everything, shipment_id: str) -> None:
    shipment = await _shipment(e, shipment_id)
    order = (await e.carrier_client.get(f"/_sim/vnpost/orders/{shipment['carrier_order_id']}")).json()
    assert shipment["status"] == status_of(int(order["events"][-1]["status"])).value, (shipment, order)
    async with e.app.state.sessionmaker() as session:
        rows = (
            (await session.execute(select(ShipmentEvent).where(ShipmentEvent.shipment_id == shipment_id)))
            .scalars()
            .all()
        )
    keys = [r.dedupe_key for r in rows if r.dedupe_key]
    assert len(keys) == len(set(keys)), "a carrier event recorded twice"
    # Every carrier event on the timeline, once. Status 1 (order created) is the booking's own answer: it is
    # recorded as an event only when tracking reports it (a poll), not from a push.
    recorded = {int(key.split("|")[1]) for key in keys}
    shown = [int(ev["status"]) for ev in order["events"]]
    assert {code for code in shown if code != 1} <= recorded <= set(shown), (keys, shown)
    await check_webhooks(e)


@pytest.mark.parametrize("fault", list(PUSH_FAULTS))
async def test_pushes_under_faults_leave_each_shipment_as_vnpost_shows_it(e: Everything, fault: str) -> None:
    first, second = [(await _book(e, f"000.00.12.H29-241123-000{n}")).json() for n in (1, 2)]
    assert first["booking"] == second["booking"] == "booked", (first, second)
    await _faults(e, **PUSH_FAULTS[fault])
    for shipment in (first, second):
        r = await e.carrier_client.post(
            f"/_sim/vnpost/orders/{shipment['carrier_order_id']}/advance", json={"to": "delivered"}
        )
        assert r.status_code == 200, r.text
    await _polled(e)
    for shipment in (first, second):
        await _check_against_carrier(e, shipment["id"])
        assert (await _shipment(e, shipment["id"]))["status"] == "delivered"


async def test_a_booking_the_carrier_answered_503_is_booked_once_later(e: Everything) -> None:
    await _faults(e, api_http_5xx=3)
    r = await _book(e, "000.00.12.H29-241123-0003")
    assert r.status_code in (201, 202), r.text
    shipment = r.json()
    assert shipment["booking"] == "requested"
    await _faults(e)
    # Tried again on the booking schedule (after the first attempt, its second wait).
    e.world.clock.advance(timedelta(seconds=e.settings.shipment_booking_retry_seconds[1] + 1))
    while await e.app.state.shipment_poller.run_once():
        pass
    booked = await _shipment(e, shipment["id"])
    assert booked["booking"] == "booked" and booked["carrier_order_id"]
    await e.carrier_client.post(f"/_sim/vnpost/orders/{booked['carrier_order_id']}/advance", json={"to": "delivered"})
    await _polled(e)
    await _check_against_carrier(e, shipment["id"])
