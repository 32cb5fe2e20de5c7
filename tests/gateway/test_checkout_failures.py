"""A provider that fails while its checkout is being created leaves a payment the resolver settles, and
the portal a clear answer: never a hole, never a payment the portal cannot see."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from contracts.errors import ProviderRejected, ProviderUnavailable
from contracts.providers import Checkout, CheckoutOrder
from gateway.db.models import IdempotencyKey, Payment
from tests.harness import World

pytestmark = pytest.mark.anyio


async def _payments(world: World) -> list[Payment]:
    async with world.app.state.sessionmaker() as session:
        return list(await session.scalars(select(Payment).order_by(Payment.created_at)))


async def test_an_unanswered_checkout_leaves_a_pending_payment_queried_at_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = world.app.state.providers.get("vnpay")

    async def timed_out(order: CheckoutOrder) -> Checkout:
        raise ProviderUnavailable("vnpay", "timed out")

    monkeypatch.setattr(provider, "create_checkout", timed_out)
    key = str(uuid.uuid4())
    r = await world.create_payment(idem=key)
    assert r.status_code == 504 and r.headers["content-type"].startswith("application/problem+json")
    [payment] = await _payments(world)
    assert (payment.status, payment.checkout_url) == ("pending", None)
    assert payment.next_query_at is not None and payment.next_query_at <= world.clock.now()
    async with world.app.state.sessionmaker() as session:
        assert await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == key)) is None

    monkeypatch.undo()
    again = await world.create_payment(idem=key)  # the key was released: the retry is a new request
    assert again.status_code == 201 and again.json()["checkout_url"]
    # The resolver settles the first: VNPay never heard of it, so it expires once past its time.
    grace = timedelta(seconds=world.app.state.settings.payment_expiry_grace_seconds + 1)
    world.clock.advance(payment.expires_at - world.clock.now() + grace)
    await world.run_resolver()
    first = next(p for p in await _payments(world) if p.id == payment.id)
    assert first.status == "expired"


async def test_a_refused_checkout_fails_the_payment(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    async def refused(order: CheckoutOrder) -> Checkout:
        raise ProviderRejected("vnpay", "merchant locked", codes={"code": "72"})

    monkeypatch.setattr(world.app.state.providers.get("vnpay"), "create_checkout", refused)
    r = await world.create_payment()
    assert r.status_code == 502
    [payment] = await _payments(world)
    assert payment.status == "failed" and payment.next_query_at is None
    await world.run_dispatcher()
    assert [e["type"] for e in world.portal.events()] == ["payment.failed"]
