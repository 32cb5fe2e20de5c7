"""What the shipment rules set is what the database holds: for every kind of change, the row is read back in
a new session and every column compared with the shipment as the rules left it (the pattern of
tests/gateway/test_persistence.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import inspect

from contracts.shipments import ShipmentCreate
from contracts.shipping import CarrierEvent, ShipmentStatus
from gateway.auth import Caller
from gateway.db.models import Shipment
from gateway.shipments.service import ShipmentService, StaffEvent
from tests.shipments.bodies import shipment_body
from tests.shipments.conftest import ShipWorld

pytestmark = pytest.mark.anyio
S = ShipmentStatus
COLUMNS = [column.key for column in inspect(Shipment).column_attrs]
Change = Callable[[ShipmentService, Shipment, ShipWorld], Awaitable[Any]]


def _event(s: Shipment, code: str, status: S, minutes: int, **extra: Any) -> CarrierEvent:
    assert s.carrier_order_id is not None
    at = s.created_at + timedelta(minutes=minutes)
    return CarrierEvent(s.carrier_order_id, code, status, at, location="100900", **extra)


async def _booked(service: ShipmentService, s: Shipment, ship: ShipWorld) -> None:
    await service.book(s)


async def _booking_unknown(service: ShipmentService, s: Shipment, ship: ShipWorld) -> None:
    ship.carrier.unavailable = 1
    await service.book(s)


async def _delivered(service: ShipmentService, s: Shipment, ship: ShipWorld) -> None:
    await service.book(s)
    events = [_event(s, "6", S.PICKED_UP, 1, item_number="EB000000014VN"), _event(s, "14", S.DELIVERED, 9)]
    await service.apply_events(events)


async def _cod_collected(service: ShipmentService, s: Shipment, ship: ShipWorld) -> None:
    await service.book(s)
    await service.apply_events([_event(s, "21", S.DELIVERED, 9, cod_amount=32_000)])


async def _held_after_attempts(service: ShipmentService, s: Shipment, ship: ShipWorld) -> None:
    await service.book(s)
    failed = [_event(s, "15", S.DELIVERY_FAILED, m, reason_code="KVN") for m in (5, 500)]
    await service.apply_events(failed)


async def _staff_report(service: ShipmentService, s: Shipment, ship: ShipWorld) -> None:
    await service.book(s)
    await service.record_event(s.id, StaffEvent(S.PICKED_UP, document_count=2, fees_collected=8000), "staff:an")


async def _corrected(service: ShipmentService, s: Shipment, ship: ShipWorld) -> None:
    await _delivered(service, s, ship)
    await service.correct(s.id, S.OUT_FOR_DELIVERY, "delivered to a neighbour by mistake", "staff:binh")


async def _cancelled(service: ShipmentService, s: Shipment, ship: ShipWorld) -> None:
    await service.book(s)
    await service.cancel(Caller(id=s.client_id, name="portal"), s.id)


CHANGES: dict[str, Change] = {
    "booked": _booked,
    "booking outcome unknown": _booking_unknown,
    "delivered by carrier events": _delivered,
    "COD collected": _cod_collected,
    "held after failed attempts": _held_after_attempts,
    "reported by staff": _staff_report,
    "corrected": _corrected,
    "cancelled by the portal": _cancelled,
}


def _row(shipment: Shipment) -> dict[str, Any]:
    return {name: getattr(shipment, name) for name in COLUMNS}


@pytest.mark.parametrize("change", list(CHANGES.values()), ids=list(CHANGES))
async def test_every_column_the_rules_set_is_stored(ship: ShipWorld, change: Change) -> None:
    assert ship.world.client is not None
    caller = Caller(id=ship.world.client.id, name=ship.world.client.name)
    async with ship.world.app.state.sessionmaker() as session:
        service = ship.service(session)
        shipment = await service.create(caller, ShipmentCreate.model_validate(shipment_body()), "key-1")
        created = _row(shipment)
        await change(service, shipment, ship)
        await session.commit()
        expected = _row(shipment)
    assert expected != created, "the change under test changed nothing"
    async with ship.world.app.state.sessionmaker() as session:
        stored = _row(await session.get_one(Shipment, shipment.id))
    assert stored == expected
