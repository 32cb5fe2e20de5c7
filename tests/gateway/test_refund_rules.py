"""A provider's refund rules, as its adapter declares them, enforced before anything is reserved or sent and
explained in the problem: the time window (with its deadline), whole-only refunds, the least refund."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from tests.harness import World, reference_of

pytestmark = pytest.mark.anyio


async def paid(world: World) -> dict:
    payment = (await world.create_payment()).json()
    await world.open_checkout(payment["checkout_url"])
    await world.settle(reference_of(payment), "00")
    return await world.get_payment(payment["id"])


async def refund(world: World, payment_id: str, **body: object) -> object:
    return await world.http.post(
        f"/v1/payments/{payment_id}/refunds",
        json={"reason": "Hồ sơ bị từ chối, hoàn phí", **body},
        headers={**world.auth(), "Idempotency-Key": str(uuid.uuid4())},
    )


async def refunds_of(world: World, payment_id: str) -> list:
    return (await world.http.get(f"/v1/payments/{payment_id}/refunds", headers=world.auth())).json()


async def test_a_refund_past_the_providers_window_is_refused_with_its_deadline(world: World) -> None:
    payment = await paid(world)
    window = world.app.state.providers.get("vnpay").refund_window
    world.clock.advance(window + timedelta(minutes=1))
    r = await refund(world, payment["id"], amount=5000)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/refund-window-closed")
    assert problem["provider"] == "vnpay" and problem["window_days"] == window.days
    assert f"{window.days} days" in problem["detail"]
    paid_at = datetime.fromisoformat(payment["paid_at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(problem["deadline"]) == paid_at + window
    assert await refunds_of(world, payment["id"]) == []  # nothing reserved
    sim = (await world.sim.get(f"/_sim/vnpay/transactions/{reference_of(payment)}")).json()
    assert sim["refunded_amount"] == 0  # and nothing sent to VNPay
    assert (await world.get_payment(payment["id"]))["refunded_amount"] == 0


async def test_a_refund_inside_the_window_goes_through(world: World) -> None:
    payment = await paid(world)
    window = world.app.state.providers.get("vnpay").refund_window
    world.clock.advance(window - timedelta(minutes=1))
    r = await refund(world, payment["id"], amount=5000)
    assert r.status_code == 201, r.text
    assert r.json()["status"] in ("succeeded", "processing")


async def test_a_partial_refund_of_a_provider_that_refunds_only_whole_payments_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment = await paid(world)
    provider = world.app.state.providers.get("vnpay")
    monkeypatch.setattr(provider, "capabilities", provider.capabilities - {"partial_refund"})
    r = await refund(world, payment["id"], amount=5000)
    assert r.status_code == 422 and r.json()["type"].endswith("/partial-refund-not-offered")
    assert r.json()["payment_amount"] == payment["amount"]
    assert await refunds_of(world, payment["id"]) == []
    whole = await refund(world, payment["id"])
    assert whole.status_code == 201, whole.text


async def test_a_refund_below_the_providers_least_refund_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment = await paid(world)
    monkeypatch.setattr(world.app.state.providers.get("vnpay"), "min_refund_amount", 1000)
    r = await refund(world, payment["id"], amount=999)
    assert r.status_code == 422 and r.json()["type"].endswith("/refund-below-minimum")
    assert r.json()["min_refund_amount"] == 1000 and "at least 1000 VND" in r.json()["detail"]
    assert await refunds_of(world, payment["id"]) == []
    assert (await refund(world, payment["id"], amount=1000)).status_code == 201
