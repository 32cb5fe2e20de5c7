"""Concurrent refunds of one payment, and refunds whose outcome was not known when the request ended.

Whatever VNPay did is what the gateway ends up showing: the same total refunded, a final state for
every refund, its webhook, and its Idempotency-Key answering that state.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from gateway.payments.refunds import send_lease
from tests.harness import World, payment_body, reference_of

pytestmark = pytest.mark.anyio

REASON = "Hồ sơ bị từ chối, hoàn phí"


async def paid(world: World, amount: int, refunds_complete_at_once: bool = True) -> dict[str, Any]:
    await world.faults(refund_pending=not refunds_complete_at_once)
    line = {"kind": "charge", "code": "LP-HT", "description": "Lệ phí", "amount": amount}
    payment = (await world.create_payment(body=payment_body(fee_lines=[line]))).json()
    await world.open_checkout(payment["checkout_url"])
    await world.settle(reference_of(payment), "00")
    return await world.get_payment(payment["id"])


async def refund(world: World, payment_id: str, key: str, **body: object) -> httpx.Response:
    return await world.http.post(
        f"/v1/payments/{payment_id}/refunds",
        json={"reason": REASON, **body},
        headers={**world.auth(), "Idempotency-Key": key},
    )


async def at_vnpay(world: World, payment: dict[str, Any]) -> dict[str, Any]:
    r = await world.sim.get(f"/_sim/vnpay/transactions/{reference_of(payment)}")
    return dict(r.json())


async def listed(world: World, payment_id: str) -> list[dict[str, Any]]:
    r = await world.http.get(f"/v1/payments/{payment_id}/refunds", headers=world.auth())
    return list(r.json())


async def resolve_all(world: World) -> None:
    """The resolver until nothing is due (each round sends at most one refund per payment)."""
    for _ in range(30):
        if not await world.run_resolver():
            return
    raise AssertionError("the resolver kept finding work")


async def test_concurrent_refunds_all_end_as_vnpay_made_them(world: World) -> None:
    payment = await paid(world, 100_000)
    keys = [f"rf-{i}" for i in range(10)]
    answers = await asyncio.gather(*(refund(world, payment["id"], key, amount=10_000) for key in keys))
    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers]
    assert {a.json()["status"] for a in answers} <= {"succeeded", "pending"}

    await resolve_all(world)
    vnpay = await at_vnpay(world, payment)
    assert vnpay["refunded_amount"] == 100_000
    assert (await world.get_payment(payment["id"]))["refunded_amount"] == 100_000
    assert [r["status"] for r in await listed(world, payment["id"])] == ["succeeded"] * 10
    # One at a time at VNPay, so each partial refund was a part (03) and the last one all that was left (02).
    assert [r["vnp_TransactionType"] for r in vnpay["refunds"]] == ["03"] * 9 + ["02"]
    for key in keys:  # every key answers the refund's final state
        again = await refund(world, payment["id"], key, amount=10_000)
        assert (again.status_code, again.json()["status"]) == (201, "succeeded")
    await world.run_dispatcher()
    assert [e["type"] for e in world.portal.events()].count("refund.succeeded") == 10


async def test_concurrent_refunds_beyond_what_was_paid_are_refused(world: World) -> None:
    payment = await paid(world, 35_000)
    answers = await asyncio.gather(*(refund(world, payment["id"], str(uuid.uuid4()), amount=10_000) for _ in range(10)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 3 + [422] * 7, [a.text for a in answers]
    refused = [a.json() for a in answers if a.status_code == 422]
    assert all(p["type"].endswith("refund-exceeds-paid") for p in refused)

    await resolve_all(world)
    assert (await at_vnpay(world, payment))["refunded_amount"] == 30_000
    assert (await world.get_payment(payment["id"]))["refunded_amount"] == 30_000


class AnswerLost(httpx.AsyncBaseTransport):
    """VNPay gets the request and acts on it; its answer never arrives (a read timeout)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.lose = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.lose > 0:
            self.lose -= 1
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


async def test_a_refund_whose_answer_was_lost_is_resolved_by_querydr(world: World) -> None:
    payment = await paid(world, 35_000)
    lossy = AnswerLost(world.vnpay.inner)
    world.vnpay.inner = lossy
    lossy.lose = 1
    first = await refund(world, payment["id"], "lost", amount=5_000)
    assert (first.status_code, first.json()["status"]) == (201, "processing")
    assert (await at_vnpay(world, payment))["refunded_amount"] == 5_000  # VNPay did refund
    assert (await refund(world, payment["id"], "lost", amount=5_000)).json()["status"] == "processing"

    assert await world.run_resolver() == 0  # not asked while the send may still be under way
    world.clock.advance(send_lease(world.app.state.settings, world.app.state.providers))
    assert await world.run_resolver() == 1
    assert (await world.get_payment(payment["id"]))["refunded_amount"] == 5_000
    again = await refund(world, payment["id"], "lost", amount=5_000)
    assert (again.json()["id"], again.json()["status"]) == (first.json()["id"], "succeeded")
    events = (await world.http.get(f"/v1/payments/{payment['id']}/events", headers=world.auth())).json()
    assert events[-1]["cause"] == "query" and events[-1]["refund_id"] == first.json()["id"]
    await world.run_dispatcher()
    assert [e["type"] for e in world.portal.events()] == ["payment.succeeded", "refund.succeeded"]


async def test_a_refund_vnpay_never_got_fails_and_frees_its_amount(world: World) -> None:
    payment = await paid(world, 35_000)
    made = await refund(world, payment["id"], "made", amount=5_000)
    assert made.json()["status"] == "succeeded"
    world.vnpay.failures = 1  # this request never reaches VNPay
    lost = await refund(world, payment["id"], "never-sent", amount=30_000)
    assert lost.json()["status"] == "processing"
    assert (await refund(world, payment["id"], "more", amount=1)).status_code == 422  # still reserved

    world.clock.advance(send_lease(world.app.state.settings, world.app.state.providers))
    await world.run_resolver()  # querydr reports the earlier refund as the latest: this one was not made
    again = await refund(world, payment["id"], "never-sent", amount=30_000)
    assert again.json()["status"] == "failed"
    assert (await world.get_payment(payment["id"]))["refunded_amount"] == 5_000
    assert (await at_vnpay(world, payment))["refunded_amount"] == 5_000
    retry = await refund(world, payment["id"], "retry", amount=30_000)
    assert retry.json()["status"] == "succeeded"
    await world.run_dispatcher()
    types = [e["type"] for e in world.portal.events()]
    assert types == ["payment.succeeded", "refund.succeeded", "refund.failed", "refund.succeeded"]


async def test_a_refund_vnpay_is_processing_waits_and_so_does_the_next(world: World) -> None:
    payment = await paid(world, 35_000, refunds_complete_at_once=False)
    first = await refund(world, payment["id"], "first", amount=10_000)
    assert first.json()["status"] == "processing"  # VNPay answered 05
    second = await refund(world, payment["id"], "second", amount=25_000)
    assert second.json()["status"] == "pending"  # not sent while the first is at VNPay
    vnpay = await at_vnpay(world, payment)
    assert [r["amount"] for r in vnpay["refunds"]] == [10_000]

    world.clock.advance(send_lease(world.app.state.settings, world.app.state.providers))
    await world.run_resolver()  # still 05 at VNPay
    assert [r["status"] for r in await listed(world, payment["id"])] == ["processing", "pending"]

    request_id = vnpay["refunds"][0]["vnp_RequestId"]
    done = await world.sim.post(
        f"/_sim/vnpay/transactions/{reference_of(payment)}/refunds/{request_id}", json={"transaction_status": "00"}
    )
    assert done.status_code == 200
    world.clock.advance(timedelta(hours=1))
    await world.faults(refund_pending=False)
    await resolve_all(world)
    assert [r["status"] for r in await listed(world, payment["id"])] == ["succeeded", "succeeded"]
    vnpay = await at_vnpay(world, payment)
    assert [(r["amount"], r["vnp_TransactionType"]) for r in vnpay["refunds"]] == [(10_000, "03"), (25_000, "02")]
    assert (await world.get_payment(payment["id"]))["refunded_amount"] == 35_000
    assert (await refund(world, payment["id"], "second", amount=25_000)).json()["status"] == "succeeded"


async def test_a_refund_vnpay_refuses_later_fails_and_frees_its_amount(world: World) -> None:
    payment = await paid(world, 35_000, refunds_complete_at_once=False)
    first = await refund(world, payment["id"], "first", amount=10_000)
    request_id = (await at_vnpay(world, payment))["refunds"][0]["vnp_RequestId"]
    await world.sim.post(
        f"/_sim/vnpay/transactions/{reference_of(payment)}/refunds/{request_id}", json={"transaction_status": "09"}
    )
    world.clock.advance(send_lease(world.app.state.settings, world.app.state.providers))
    await world.run_resolver()
    assert (await refund(world, payment["id"], "first", amount=10_000)).json()["status"] == "failed"
    assert first.json()["status"] == "processing"
    assert (await world.get_payment(payment["id"]))["refunded_amount"] == 0
    await world.run_dispatcher()
    assert [e["type"] for e in world.portal.events()] == ["payment.succeeded", "refund.failed"]


async def test_a_failed_query_backs_off(world: World) -> None:
    payment = await paid(world, 35_000)
    world.vnpay.failures = 1
    await refund(world, payment["id"], "lost", amount=5_000)
    world.clock.advance(send_lease(world.app.state.settings, world.app.state.providers))
    world.vnpay.failures = 3  # every try of the query times out
    assert await world.run_resolver() == 1
    assert await world.run_resolver() == 0  # asked again later, not at once
    world.clock.advance(timedelta(seconds=61))  # the second step of payment_query_schedule_seconds
    await world.run_resolver()
    assert (await refund(world, payment["id"], "lost", amount=5_000)).json()["status"] == "failed"


async def test_a_refund_reserved_by_a_request_that_died_is_sent_by_the_resolver(world: World) -> None:
    from sqlalchemy import select

    from contracts.payments import RefundCreate
    from gateway.auth import Caller
    from gateway.db.models import Client
    from gateway.payments.refunds import RefundService
    from gateway.payments.service import PaymentService

    payment = await paid(world, 35_000)
    state = world.app.state
    async with state.sessionmaker() as session:
        client = await session.scalar(select(Client).where(Client.id == world.client.id))  # type: ignore[union-attr]
        assert client is not None
        service = RefundService(PaymentService(session, state.providers, state.settings, world.clock))
        await service.reserve(Caller.of(client), payment["id"], RefundCreate(amount=5000, reason="x"), "portal")
        await session.commit()
    assert await world.run_resolver() == 0  # the request may still be sending it
    world.clock.advance(send_lease(state.settings, state.providers))
    assert await world.run_resolver() == 1
    assert [r["status"] for r in await listed(world, payment["id"])] == ["succeeded"]
    vnpay = await at_vnpay(world, payment)
    assert [(r["amount"], r["create_by"]) for r in vnpay["refunds"]] == [(5000, "Cong DVC tinh")]
