"""Forged and replayed VNPay messages, sent as an attacker would, change nothing (both databases).

The adapter-level tricks are in tests/conformance; these drive the HTTP endpoints and read the database.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from gateway.db.models import NotificationRejection, ProviderNotification, WebhookEvent
from gateway.notifications.rejections import SAMPLES_PER_HOUR
from tests.harness import World, reference_of, signed_ipn

pytestmark = pytest.mark.anyio


def query_of(url: str) -> str:
    return url.split("?", 1)[1]


async def ipn(world: World, query: str) -> str:
    r = await world.http.get(f"/callbacks/vnpay/ipn?{query}")
    assert r.status_code == 200
    return str(r.json()["RspCode"])


async def count(world: World, model: type, *where: object) -> int:
    async with world.app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def succeeded_webhooks(world: World) -> int:
    return await count(world, WebhookEvent, WebhookEvent.type == "payment.succeeded")


@pytest.mark.parametrize("prefix", ["%76np_", "vnp%5F", "%76%6E%70%5F"])
async def test_the_checkout_url_with_encoded_outcome_fields_is_refused(world: World, prefix: str) -> None:
    payment = (await world.create_payment()).json()
    forged = f"{query_of(payment['checkout_url'])}&{prefix}ResponseCode=00&{prefix}TransactionStatus=00"
    assert await ipn(world, forged) == "97"
    shown = await world.get_payment(payment["id"])
    assert (shown["status"], shown["paid_at"]) == ("pending", None)
    assert await succeeded_webhooks(world) == 0


async def test_the_checkout_url_alone_is_not_a_notification(world: World) -> None:
    payment = (await world.create_payment()).json()
    assert await ipn(world, query_of(payment["checkout_url"])) == "97"
    assert (await world.get_payment(payment["id"]))["status"] == "pending"


async def test_a_cancelled_payments_signed_return_cannot_be_turned_into_a_success(world: World) -> None:
    payment = (await world.create_payment()).json()
    await world.open_checkout(payment["checkout_url"])
    txn = await world.settle(reference_of(payment), "24")
    assert (await world.get_payment(payment["id"]))["status"] == "failed"  # the simulator's IPN
    cancelled = query_of(txn["return_url"])
    for prefix in ("%76np_", "vnp%5F", "vnp_"):
        forged = f"{cancelled}&{prefix}ResponseCode=00&{prefix}TransactionStatus=00"
        assert await ipn(world, forged) == "97"
        r = await world.http.get(f"/callbacks/vnpay/return?{forged}", follow_redirects=False)
        assert r.status_code == 400 and "location" not in r.headers
    assert (await world.get_payment(payment["id"]))["status"] == "failed"
    assert await succeeded_webhooks(world) == 0


async def test_an_unsigned_return_shows_a_neutral_page(world: World) -> None:
    payment = (await world.create_payment()).json()
    r = await world.http.get(
        "/callbacks/vnpay/return", params={"vnp_TxnRef": reference_of(payment)}, follow_redirects=False
    )
    assert r.status_code == 400 and "location" not in r.headers
    assert r.headers["content-type"].startswith("text/html")
    assert payment["id"] not in r.text and "portal.example" not in r.text


async def test_a_signed_return_redirects_to_the_portal(world: World) -> None:
    payment = (await world.create_payment()).json()
    r = await world.http.get("/callbacks/vnpay/return", params=signed_ipn(payment), follow_redirects=False)
    assert r.status_code in (302, 303, 307)
    assert f"payment_id={payment['id']}" in r.headers["location"]


async def test_forged_notifications_are_counted_and_only_sampled(world: World) -> None:
    payment = (await world.create_payment()).json()
    junk = "x" * 2_000  # under the callbacks' size cap (gateway/limits.py), over a sample's bound
    sent = SAMPLES_PER_HOUR + 5
    for _ in range(sent):
        assert await ipn(world, f"{query_of(payment['checkout_url'])}&vnp_Junk={junk}") == "97"
    async with world.app.state.sessionmaker() as session:
        counted = await session.scalar(select(func.sum(NotificationRejection.count)))
        samples = list(await session.scalars(select(ProviderNotification)))
    assert counted == sent
    assert len(samples) == SAMPLES_PER_HOUR
    assert all(not s.signature_valid and s.ack_code == "97" for s in samples)
    assert all(len(value) <= 256 for s in samples for value in s.payload.values())
    assert samples[0].payload["_truncated"] == "true"


async def test_a_genuine_ipn_still_credits_once(world: World) -> None:
    payment = (await world.create_payment()).json()
    params = signed_ipn(payment)
    genuine = str(httpx.QueryParams(params))
    assert await ipn(world, genuine) == "00"
    assert await ipn(world, genuine) == "02"
    assert (await world.get_payment(payment["id"]))["status"] == "succeeded"
    assert await succeeded_webhooks(world) == 1
    assert await count(world, ProviderNotification, ProviderNotification.signature_valid.is_(True)) == 2
