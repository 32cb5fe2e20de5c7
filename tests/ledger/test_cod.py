"""Cash on delivery: the carrier's COD event posts once, in the transaction that applies it, however often
the carrier reports it (a push and a poll, or a later event with the amount again)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from contracts.shipments import ShipmentCreate
from contracts.shipping import CarrierEvent, ShipmentStatus
from gateway import cli
from gateway.auth import Caller
from gateway.db.models import JournalEntry, Shipment
from gateway.ledger import accounts
from gateway.ledger.balances import balances
from gateway.ledger.checks import check_ledger
from tests.ledger.world import before_the_ledger
from tests.shipments.conftest import ShipWorld, settings, ship, shipment_body

pytestmark = pytest.mark.anyio
__all__ = ["settings", "ship"]  # the postal world's fixtures, for this module


async def _delivered_with_cod(ship: ShipWorld, twice: bool) -> tuple[Shipment, Caller]:
    """A booked shipment delivered with 32,000 VND collected; `twice`: the carrier reports it again, by a
    poll repeating the event and by a later event carrying the amount too."""
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
        await service.apply_events([delivered])
        if twice:
            again = CarrierEvent(
                shipment.carrier_order_id, "22", ShipmentStatus.DELIVERED, at + timedelta(minutes=1), cod_amount=32_000
            )
            await service.apply_events([delivered, again])
        await session.commit()
    return shipment, caller


def _cod_balances(shipment: Shipment, caller: Caller) -> dict[accounts.Account, int]:
    return {accounts.cod_receivable(shipment.carrier): 32_000, accounts.cod_payable(caller.id): 32_000}


async def test_cod_collected_is_posted_once(ship: ShipWorld) -> None:
    shipment, caller = await _delivered_with_cod(ship, twice=True)
    async with ship.world.app.state.sessionmaker() as session:
        [entry] = await session.scalars(select(JournalEntry))
        assert (entry.cause, entry.cause_id) == ("cod_collected", shipment.id)
        assert {b.account: b.balance for b in await balances(session)} == _cod_balances(shipment, caller)
        assert await check_ledger(session) == []


async def test_old_cod_is_posted_and_the_command_reports_a_clean_ledger(
    ship: ShipWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as old:
        before_the_ledger(old)
        shipment, caller = await _delivered_with_cod(ship, twice=False)
    async with ship.world.app.state.sessionmaker() as session:
        assert list(await session.scalars(select(JournalEntry))) == []
    monkeypatch.setenv("DVCGW_DATABASE_URL", ship.world.app.state.settings.database_url)
    runner = CliRunner()
    # The command runs its own event loop: in a thread, away from the test's.
    result = await asyncio.to_thread(runner.invoke, cli.main, ["ledger", "backfill"])
    assert result.exit_code == 0, result.output
    assert "posted: 0 payments, 0 refunds, 1 COD collections" in result.output
    assert "check_ledger: 0 violations" in result.output
    async with ship.world.app.state.sessionmaker() as session:
        assert {b.account: b.balance for b in await balances(session)} == _cod_balances(shipment, caller)
