"""Webhook leases: short, renewed while a delivery runs, taken over once a dead process stops renewing.

Time is the world's clock, moved by hand; renewals run when the test lets the renewal loop's sleep return.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest

from gateway.webhooks.dispatcher import Dispatcher
from tests.harness import World, signed_ipn

pytestmark = pytest.mark.anyio


class HeldPortal:
    """A portal that takes as long as the test wants: it answers once `answer` is set."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.answer = asyncio.Event()
        self.received: list[httpx.Request] = []

    async def handler(self, request: httpx.Request) -> httpx.Response:
        self.received.append(request)
        self.reached.set()
        await self.answer.wait()
        return httpx.Response(204)


class Ticks:
    """The renewal loop's sleep: returns once per `tick()`."""

    def __init__(self) -> None:
        self.sleeping = 0
        self._ticks: asyncio.Queue[None] = asyncio.Queue()

    async def sleep(self, seconds: float) -> None:
        self.sleeping += 1
        await self._ticks.get()

    def tick(self) -> None:
        self._ticks.put_nowait(None)


async def until(condition: Callable[[], bool]) -> None:
    """Let other tasks run until `condition` holds: a bounded number of turns, no clock."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


@asynccontextmanager
async def dispatcher(
    world: World, portal: HeldPortal | None = None, ticks: Ticks | None = None
) -> AsyncIterator[Dispatcher]:
    state = world.app.state
    transport = httpx.MockTransport(portal.handler if portal else world.portal.handler)
    d = Dispatcher(state.sessionmaker, state.settings, world.clock, transport, sleep=(ticks or Ticks()).sleep)
    try:
        yield d
    finally:
        await d.aclose()


async def an_event(world: World) -> None:
    payment = (await world.create_payment()).json()
    r = await world.http.get("/callbacks/vnpay/ipn", params=signed_ipn(payment))
    assert r.json()["RspCode"] == "00"


async def test_the_claim_of_a_dead_process_is_taken_over_after_its_lease(world: World) -> None:
    lease = world.app.state.settings.webhook_lease_seconds
    assert lease <= 30
    await an_event(world)
    held = HeldPortal()
    async with dispatcher(world, held) as dying, dispatcher(world) as other:
        task = asyncio.create_task(dying.run_once())
        await held.reached.wait()
        task.cancel()  # the process dies mid-delivery: no more renewals, nothing recorded
        with pytest.raises(asyncio.CancelledError):
            await task

        assert await other.run_once() == 0  # still leased
        world.clock.advance(timedelta(seconds=lease - 1))
        assert await other.run_once() == 0
        world.clock.advance(timedelta(seconds=2))
        assert await other.run_once() == 1
    [event] = (await world.http.get("/v1/webhook-events", headers=world.auth())).json()
    assert event["status"] == "delivered" and event["attempts"] == 1
    assert [r.headers["webhook-id"] for r in world.portal.received] == [event["id"]]


async def test_a_live_process_keeps_its_claim_through_a_long_delivery(world: World) -> None:
    lease = world.app.state.settings.webhook_lease_seconds
    await an_event(world)
    held, ticks = HeldPortal(), Ticks()
    async with dispatcher(world, held, ticks) as slow, dispatcher(world) as other:
        task = asyncio.create_task(slow.run_once())
        await held.reached.wait()
        step = timedelta(seconds=lease * 0.4)
        for _ in range(4):  # 3.2 leases in all: without renewals the claim would have lapsed
            await until(lambda: ticks.sleeping == 1)
            world.clock.advance(step)
            assert await other.run_once() == 0
            ticks.sleeping = 0
            ticks.tick()
            await until(lambda: ticks.sleeping == 1)  # renewed, and asleep again
            world.clock.advance(step)
            assert await other.run_once() == 0
        held.answer.set()
        assert await task == 1
        world.clock.advance(timedelta(days=1))
        assert await other.run_once() == 0  # delivered, so nothing left to take over
    assert len(held.received) == 1 and world.portal.received == []
    [event] = (await world.http.get("/v1/webhook-events", headers=world.auth())).json()
    assert event["status"] == "delivered" and event["attempts"] == 1


async def test_a_claim_lost_while_stalled_is_not_delivered_twice_by_its_old_holder(world: World) -> None:
    """A process stalled past its lease finds its events taken over and leaves them to the new holder."""
    lease = world.app.state.settings.webhook_lease_seconds
    await an_event(world)
    await an_event(world)
    held = HeldPortal()
    async with dispatcher(world, held) as stalled, dispatcher(world) as other:
        task = asyncio.create_task(stalled.run_once())  # both events are one portal's: one after the other
        await held.reached.wait()
        world.clock.advance(timedelta(seconds=lease + 1))  # no renewal ran
        assert await other.run_once() == 2
        held.answer.set()
        assert await task == 2
    # The first event went to both (at least once); the second only to the process that held it.
    assert len(held.received) == 1 and len(world.portal.received) == 2
    events = (await world.http.get("/v1/webhook-events", headers=world.auth())).json()
    assert [e["status"] for e in events] == ["delivered", "delivered"]
