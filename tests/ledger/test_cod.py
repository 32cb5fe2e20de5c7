"""Cash on delivery: the carrier's COD event posts once, in the transaction that applies it, however often
the carrier reports it (a push and a poll, or a later event with the amount again)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from contracts.shipments import ShipmentCreate
from contracts.shipping import CarrierEvent, ShipmentStatus
from gateway.auth import Caller
from gateway.db.models import JournalEntry
from gateway.ledger import accounts
from gateway.ledger.balances import balances
from gateway.ledger.checks import check_ledger
from tests.shipments.conftest import ShipWorld, settings, ship, shipment_body

pytestmark = pytest.mark.anyio
__all__ = ["settings", "ship"]  # the postal world's fixtures, for this module


async def test_cod_collected_is_posted_once(ship: ShipWorld) -> None:
    assert ship.world.client is not None
    caller = Caller(id=ship.world.client.id, name=ship.world.client.name)
    async with ship.world.app.state.sessionmaker() as session:
        service = ship.service(session)
        shipment = await service.create(caller, ShipmentCreate.model_validate(shipment_body()), "key-1")
        await service.book(shipment)
        await session.commit()
        assert shipment.carrier_order_id is not None
        at = shipment.created_at + timedelta(hours=5)
        delivered = CarrierEvent(shipment.carrier_order_id, "21", ShipmentStatus.DELIVERED, at, cod_amount=32_000)
        again = CarrierEvent(
            shipment.carrier_order_id, "22", ShipmentStatus.DELIVERED, at + timedelta(minutes=1), cod_amount=32_000
        )
        await service.apply_events([delivered])
        await service.apply_events([delivered, again])  # the poll repeats it; a later event carries it too
        await session.commit()
    async with ship.world.app.state.sessionmaker() as session:
        [entry] = await session.scalars(select(JournalEntry))
        assert (entry.cause, entry.cause_id) == ("cod_collected", shipment.id)
        assert {b.account: b.balance for b in await balances(session)} == {
            accounts.cod_receivable(shipment.carrier): 32_000,
            accounts.cod_payable(caller.id): 32_000,
        }
        assert await check_ledger(session) == []
