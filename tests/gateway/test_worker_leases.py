"""The payment resolver's and the shipment poller's leases: short, renewed while the work runs (the same
`Lease` as the webhook dispatcher's, gateway/db/claims.py), taken over once a dead process stops renewing.

Time is the world's clock, moved by hand; renewals run when the test lets the renewal loop's sleep return.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from gateway.db.models import Payment
from gateway.payments.resolver import Resolver
from tests.gateway.test_webhook_leases import Ticks, until
from tests.harness import World

pytestmark = pytest.mark.anyio


class HangingQuery:
    """VNPay's query as a provider that takes as long as the test wants."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.answer = asyncio.Event()

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.reached.set()
        await self.answer.wait()
        raise AssertionError("this test never lets it answer")


async def due_payment(world: World) -> str:
    payment = (await world.create_payment()).json()
    world.clock.advance(timedelta(seconds=world.app.state.settings.payment_first_query_seconds + 1))
    return str(payment["id"])


async def next_query_at(world: World, payment_id: str) -> datetime:
    found = await scheduled_query(world, payment_id)
    assert found is not None
    return found


async def scheduled_query(world: World, payment_id: str) -> datetime | None:
    async with world.app.state.sessionmaker() as session:
        return (await session.get_one(Payment, payment_id)).next_query_at


def resolver(world: World, ticks: Ticks | None = None) -> Resolver:
    state = world.app.state
    return Resolver(state.sessionmaker, state.providers, state.settings, world.clock, (ticks or Ticks()).sleep)


async def test_the_resolver_lease_is_short(world: World) -> None:
    settings = world.app.state.settings
    assert resolver(world).payment_lease.length == timedelta(seconds=settings.worker_lease_seconds)
    assert settings.worker_lease_seconds <= 30


async def test_a_live_resolver_keeps_a_slow_query_and_a_dead_ones_is_taken_over(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    lease = world.app.state.settings.worker_lease_seconds
    payment_id = await due_payment(world)
    hang = HangingQuery()
    monkeypatch.setattr(world.app.state.providers.get("vnpay"), "query", hang)
    ticks = Ticks()
    slow, other = resolver(world, ticks), resolver(world)

    task = asyncio.create_task(slow.run_once())
    await hang.reached.wait()
    step = timedelta(seconds=lease * 0.4)
    for _ in range(4):  # 3.2 leases in all: without renewals the claim would have lapsed
        await until(lambda: ticks.sleeping >= 1)
        world.clock.advance(step)
        assert await other.run_once() == 0
        before = await next_query_at(world, payment_id)
        ticks.sleeping = 0
        ticks.tick()
        await until(lambda: ticks.sleeping >= 1)  # renewed, and asleep again
        assert await next_query_at(world, payment_id) > before
        world.clock.advance(step)
        assert await other.run_once() == 0

    task.cancel()  # the process dies mid-query: no more renewals, nothing recorded
    with pytest.raises(asyncio.CancelledError):
        await task
    world.clock.advance(timedelta(seconds=lease * 0.4 - 1))
    assert await other.run_once() == 0  # its last renewal still holds
    monkeypatch.undo()
    world.clock.advance(timedelta(seconds=lease * 0.6 + 2))
    assert await other.run_once() == 1


async def test_a_resolved_payment_leaves_the_renewals(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a payment is resolved its next query is its own schedule, not pushed on by the batch's renewals."""
    first = await due_payment(world)
    second = (await world.create_payment()).json()["id"]
    world.clock.advance(timedelta(seconds=world.app.state.settings.payment_first_query_seconds + 1))
    provider = world.app.state.providers.get("vnpay")
    real = provider.query
    hang = HangingQuery()

    async def one_hangs(ref: Any) -> Any:
        return await (hang(ref) if ref.reference == (await reference(world, second)) else real(ref))

    monkeypatch.setattr(provider, "query", one_hangs)
    ticks = Ticks()
    task = asyncio.create_task(resolver(world, ticks).run_once())
    await hang.reached.wait()
    await until(lambda: ticks.sleeping >= 1)
    until_before = await next_query_at(world, second)  # the claim's mark
    for _ in range(10_000):  # until the first is resolved: its next query is then no longer the mark
        scheduled = await scheduled_query(world, first)
        if scheduled != until_before:
            break
        await asyncio.sleep(0)
    ticks.sleeping = 0
    ticks.tick()
    await until(lambda: ticks.sleeping >= 1)
    assert await scheduled_query(world, first) == scheduled
    assert await next_query_at(world, second) > until_before
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def reference(world: World, payment_id: str) -> str:
    async with world.app.state.sessionmaker() as session:
        return (await session.get_one(Payment, payment_id)).provider_ref
