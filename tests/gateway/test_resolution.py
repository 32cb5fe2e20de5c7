"""No payment is left unknown: missing IPNs, abandoned checkouts and provider outages all end resolved."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.harness import World, reference_of

pytestmark = pytest.mark.anyio


async def paid_without_ipn(world: World) -> dict:
    payment = (await world.create_payment()).json()
    await world.open_checkout(payment["checkout_url"])
    await world.faults(ipn_drop=True)
    await world.settle(reference_of(payment), "00")
    assert (await world.get_payment(payment["id"]))["status"] == "pending"
    return payment


async def test_missing_ipn_is_resolved_by_querydr(world: World) -> None:
    payment = await paid_without_ipn(world)
    assert await world.run_resolver() == 0  # nothing is due yet
    world.clock.advance(timedelta(seconds=901))
    assert await world.run_resolver() == 1
    resolved = await world.get_payment(payment["id"])
    assert resolved["status"] == "succeeded"
    events = (await world.http.get(f"/v1/payments/{payment['id']}/events", headers=world.auth())).json()
    assert events[-1]["cause"] == "query"
    await world.run_dispatcher()
    assert [e["type"] for e in world.portal.events()] == ["payment.succeeded"]


async def test_citizen_return_without_ipn_triggers_an_immediate_query(world: World) -> None:
    payment = await paid_without_ipn(world)
    settled = (await world.sim.get(f"/_sim/vnpay/transactions/{reference_of(payment)}")).json()
    url = settled["return_url"]
    r = await world.http.get(url.replace("http://gateway.test", ""), follow_redirects=False)
    assert "status=processing" in r.headers["location"]
    assert await world.run_resolver() == 1  # due at once, no clock change
    assert (await world.get_payment(payment["id"]))["status"] == "succeeded"


async def test_abandoned_checkout_expires(world: World) -> None:
    payment = (await world.create_payment()).json()
    await world.open_checkout(payment["checkout_url"])  # VNPay knows it, the citizen never pays
    world.clock.advance(timedelta(seconds=900 + 121))
    await world.run_resolver()
    assert (await world.get_payment(payment["id"]))["status"] == "expired"
    await world.run_dispatcher()
    assert [e["type"] for e in world.portal.events()] == ["payment.expired"]


async def test_never_opened_checkout_expires(world: World) -> None:
    payment = (await world.create_payment()).json()  # VNPay answers 91: no such transaction
    world.clock.advance(timedelta(seconds=900 + 121))
    await world.run_resolver()
    assert (await world.get_payment(payment["id"]))["status"] == "expired"


async def test_provider_timeout_leaves_processing_then_resolves(world: World) -> None:
    payment = await paid_without_ipn(world)
    world.clock.advance(timedelta(seconds=901))
    world.vnpay.failures = 3  # every try of this round times out
    await world.run_resolver()
    stuck = await world.get_payment(payment["id"])
    assert stuck["status"] == "processing"
    assert await world.run_resolver() == 0  # backs off instead of hammering VNPay
    world.clock.advance(timedelta(seconds=61))  # the second step of payment_query_schedule_seconds
    await world.run_resolver()
    assert (await world.get_payment(payment["id"]))["status"] == "succeeded"


async def test_provider_5xx_is_retried_within_one_query(world: World) -> None:
    payment = await paid_without_ipn(world)
    world.clock.advance(timedelta(seconds=901))
    await world.faults(api_http_5xx=2)
    await world.run_resolver()
    assert (await world.get_payment(payment["id"]))["status"] == "succeeded"


async def test_ipn_arriving_after_expiry_still_credits(world: World) -> None:
    payment = (await world.create_payment()).json()
    await world.open_checkout(payment["checkout_url"])
    await world.faults(ipn_drop=True)
    await world.settle(reference_of(payment), "00")
    await world.faults(ipn_drop=False)
    world.clock.advance(timedelta(seconds=900 + 121))
    r = await world.sim.post(f"/_sim/vnpay/transactions/{reference_of(payment)}/ipn")
    assert r.status_code == 200, r.text
    assert (await world.get_payment(payment["id"]))["status"] == "succeeded"


async def test_duplicate_and_out_of_order_ipns_from_the_simulator_credit_once(world: World) -> None:
    payment = (await world.create_payment()).json()
    await world.open_checkout(payment["checkout_url"])
    await world.faults(ipn_duplicate=2, ipn_out_of_order=True)
    settled = await world.settle(reference_of(payment), "00")
    codes = [d["rsp_code"] for d in settled["ipn"]["deliveries"]]
    assert codes.count("00") == 1 and set(codes) <= {"00", "02"}, codes
    assert (await world.get_payment(payment["id"]))["status"] == "succeeded"
    await world.run_dispatcher()
    assert [e["type"] for e in world.portal.events()] == ["payment.succeeded"]


async def test_an_unreadable_answer_backs_off_like_any_failure(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    payment = await paid_without_ipn(world)
    world.clock.advance(timedelta(seconds=901))

    async def garbled(ref: object) -> object:
        raise ValueError("VNPay amount 12345 is not a whole number of đồng")

    monkeypatch.setattr(world.app.state.providers.get("vnpay"), "query", garbled)
    await world.run_resolver()
    events = (await world.http.get(f"/v1/payments/{payment['id']}/events", headers=world.auth())).json()
    assert events[-1]["to_status"] == "processing"
    assert "unreadable" in events[-1]["detail"]
    assert await world.run_resolver() == 0  # backed off, not re-queried at once
