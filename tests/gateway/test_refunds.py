"""Refunds: full or partial, never more than was paid, every provider outcome recorded."""

from __future__ import annotations

import uuid

import pytest

from tests.harness import World, reference_of, signed_ipn

pytestmark = pytest.mark.anyio


async def paid(world: World, refunds_complete_at_once: bool = True) -> dict:
    # Real VNPay answers a refund with 05 (processing); most tests want one it completes at once.
    await world.faults(refund_pending=not refunds_complete_at_once)
    payment = (await world.create_payment()).json()
    await world.open_checkout(payment["checkout_url"])
    await world.settle(reference_of(payment), "00")
    return await world.get_payment(payment["id"])


async def refund(world: World, payment_id: str, key: str | None = None, **body: object) -> object:
    return await world.http.post(
        f"/v1/payments/{payment_id}/refunds",
        json={"reason": "Hồ sơ bị từ chối, hoàn phí", **body},
        headers={**world.auth(), "Idempotency-Key": key or str(uuid.uuid4())},
    )


async def test_full_refund(world: World) -> None:
    payment = await paid(world)
    r = await refund(world, payment["id"])
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "succeeded" and r.json()["amount"] == 35000
    assert (await world.get_payment(payment["id"]))["refunded_amount"] == 35000
    sim = (await world.sim.get(f"/_sim/vnpay/transactions/{reference_of(payment)}")).json()
    assert sim["refunded_amount"] == 35000  # VNPay really refunded
    assert (await refund(world, payment["id"], amount=1)).status_code == 422
    await world.run_dispatcher()
    assert [e["type"] for e in world.portal.events()] == ["payment.succeeded", "refund.succeeded"]


async def test_partial_refunds_never_exceed_paid(world: World) -> None:
    payment = await paid(world)
    assert (await refund(world, payment["id"], amount=27000)).json()["status"] == "succeeded"
    over = await refund(world, payment["id"], amount=8001)
    assert over.status_code == 422
    assert over.json()["refundable"] == 8000
    assert (await refund(world, payment["id"], amount=8000)).json()["status"] == "succeeded"
    listed = (await world.http.get(f"/v1/payments/{payment['id']}/refunds", headers=world.auth())).json()
    assert [x["amount"] for x in listed] == [27000, 8000]
    assert (await world.get_payment(payment["id"]))["refunded_amount"] == 35000


async def test_refund_is_idempotent(world: World) -> None:
    payment = await paid(world)
    first = await refund(world, payment["id"], key="rf-1", amount=5000)
    again = await refund(world, payment["id"], key="rf-1", amount=5000)
    assert again.json() == first.json()
    assert (await world.get_payment(payment["id"]))["refunded_amount"] == 5000


async def test_unpaid_payment_cannot_be_refunded(world: World) -> None:
    payment = (await world.create_payment()).json()
    r = await refund(world, payment["id"])
    assert r.status_code == 409 and r.json()["type"].endswith("invalid-transition")


async def test_provider_refusal_is_a_failed_refund(world: World) -> None:
    # The gateway believes the payment succeeded, VNPay has no successful transaction: it answers 91/95.
    payment = (await world.create_payment()).json()
    await world.open_checkout(payment["checkout_url"])
    await world.http.get("/callbacks/vnpay/ipn", params=signed_ipn(payment))
    r = await refund(world, payment["id"])
    assert r.status_code == 201
    assert r.json()["status"] == "failed"
    assert (await world.get_payment(payment["id"]))["refunded_amount"] == 0
    await world.run_dispatcher()
    assert world.portal.events()[-1]["type"] == "refund.failed"


async def test_refund_timeout_is_processing_and_not_resent(world: World) -> None:
    payment = await paid(world)
    world.vnpay.failures = 1
    calls = world.vnpay.calls
    r = await refund(world, payment["id"])
    assert r.json()["status"] == "processing"
    assert world.vnpay.calls == calls + 1  # one try only: VNPay may have acted on it
    # The amount stays reserved until reconciliation says what happened.
    assert (await refund(world, payment["id"], amount=1)).status_code == 422


async def test_retry_after_a_crash_mid_refund_does_not_refund_twice(world: World) -> None:
    """The process died after reserving the refund, before answering: the retry finishes that refund."""
    from datetime import timedelta

    from sqlalchemy import select

    from contracts.payments import RefundCreate
    from gateway.db.models import Client
    from gateway.payments.refunds import RefundService
    from gateway.payments.service import PaymentService

    payment = await paid(world)
    state = world.app.state
    async with state.sessionmaker() as session:
        client = await session.scalar(select(Client).where(Client.id == world.client.id))  # type: ignore[union-attr]
        service = RefundService(PaymentService(session, state.providers, state.settings, world.clock))
        await service.reserve(client, payment["id"], RefundCreate(amount=5000, reason="x"), "portal", "crash-1")
        await session.commit()
        from gateway.idempotency import Idempotency

        idem = Idempotency(state.sessionmaker, world.clock, 60, 24)
        body = b'{"reason": "x", "amount": 5000}'
        assert await idem.begin(client.id, "crash-1", f"POST /v1/payments/{payment['id']}/refunds", body) is None
    world.clock.advance(timedelta(seconds=61))  # the dead request's lock runs out
    calls = world.vnpay.calls
    r = await refund(world, payment["id"], key="crash-1", amount=5000, reason="x")
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "succeeded"
    assert world.vnpay.calls == calls + 1
    listed = (await world.http.get(f"/v1/payments/{payment['id']}/refunds", headers=world.auth())).json()
    assert len(listed) == 1
    assert (await world.get_payment(payment["id"]))["refunded_amount"] == 5000


async def test_refund_vnpay_is_still_processing_stays_processing(world: World) -> None:
    payment = await paid(world, refunds_complete_at_once=False)
    r = await refund(world, payment["id"], amount=8000)
    assert r.json()["status"] == "processing"
    assert (await world.get_payment(payment["id"]))["refunded_amount"] == 0  # not refunded until it is
    over = await refund(world, payment["id"], amount=27001)
    assert over.status_code == 422  # but the amount is reserved
    await world.run_dispatcher()
    assert [e["type"] for e in world.portal.events()] == ["payment.succeeded"]


async def test_a_refund_sent_before_a_crash_is_never_sent_again(world: World) -> None:
    """The process died after VNPay got the refund and before the answer was stored."""
    from datetime import timedelta

    from sqlalchemy import update

    from gateway.db.models import IdempotencyKey, Refund

    payment = await paid(world)
    world.vnpay.failures = 1  # the answer is lost; VNPay may or may not have acted
    first = await refund(world, payment["id"], key="lost-answer", amount=5000)
    assert first.json()["status"] == "processing"
    async with world.app.state.sessionmaker() as session:  # as if the response had never been stored
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == "lost-answer")
            .values(response_status=None, response_body=None, locked_until=world.clock.now())
        )
        await session.execute(update(Refund).values(status="processing"))
        await session.commit()
    world.clock.advance(timedelta(seconds=1))
    calls = world.vnpay.calls
    again = await refund(world, payment["id"], key="lost-answer", amount=5000)
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["status"] == "processing"
    assert world.vnpay.calls == calls  # not sent again
