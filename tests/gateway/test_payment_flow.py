"""The vertical slice: a portal creates a fee payment, the citizen pays at VNPay, the portal hears of it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.webhooks import signing
from tests.harness import World, payment_body

pytestmark = pytest.mark.anyio


async def test_create_answers_checkout_url_signed_for_vnpay(world: World) -> None:
    r = await world.create_payment()
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "pending"
    assert body["amount"] == 35000
    assert [line["amount"] for line in body["lines"]] == [8000, 27000]
    query = parse_qs(urlsplit(body["checkout_url"]).query)
    assert query["vnp_Amount"] == ["3500000"]  # ×100 on the wire
    assert query["vnp_TmnCode"] == ["DVCGW001"]
    assert query["vnp_Version"] == ["2.1.0"]
    assert query["vnp_ReturnUrl"] == ["http://gateway.test/callbacks/vnpay/return"]
    page = await world.open_checkout(body["checkout_url"])
    assert page.status_code == 200, page.text  # the simulator accepted our signature and fields


async def test_paid_through_ipn_and_portal_gets_signed_webhook(world: World) -> None:
    payment = (await world.create_payment()).json()
    await world.open_checkout(payment["checkout_url"])
    ref = payment["checkout_url"].split("vnp_TxnRef=")[1].split("&")[0]
    settled = await world.settle(ref, "00")
    assert settled["ipn"]["deliveries"][0]["rsp_code"] == "00"

    paid = await world.get_payment(payment["id"])
    assert paid["status"] == "succeeded"
    assert paid["paid_at"] is not None

    assert await world.run_dispatcher() == 1
    [delivery] = world.portal.received
    secret = world.client.webhook_secret  # type: ignore[union-attr]
    assert signing.verify(secret, dict(delivery.headers), delivery.content.decode(), world.clock.now())
    event = world.portal.events()[0]
    assert event["type"] == "payment.succeeded"
    assert event["data"]["id"] == payment["id"]
    assert "payer" not in event["data"]


async def test_failed_payment_is_final_and_reported(world: World) -> None:
    payment = (await world.create_payment()).json()
    await world.open_checkout(payment["checkout_url"])
    ref = payment["checkout_url"].split("vnp_TxnRef=")[1].split("&")[0]
    await world.settle(ref, "24")
    assert (await world.get_payment(payment["id"]))["status"] == "failed"
    await world.run_dispatcher()
    assert [e["type"] for e in world.portal.events()] == ["payment.failed"]


async def test_return_url_redirects_browser_to_portal_with_status(world: World) -> None:
    payment = (await world.create_payment()).json()
    await world.open_checkout(payment["checkout_url"])
    ref = payment["checkout_url"].split("vnp_TxnRef=")[1].split("&")[0]
    settled = await world.settle(ref, "00")
    ret = urlsplit(settled["return_url"])
    r = await world.http.get(ret.path, params=parse_qs(ret.query), follow_redirects=False)
    assert r.status_code in (302, 303)
    target = urlsplit(r.headers["location"])
    assert target.netloc == "dichvucong.example.gov.vn"
    q = parse_qs(target.query)
    assert q["payment_id"] == [payment["id"]] and q["status"] == ["succeeded"] and q["lang"] == ["vi"]


async def test_audit_trail_records_cause_and_provider_codes(world: World) -> None:
    payment = (await world.create_payment()).json()
    await world.open_checkout(payment["checkout_url"])
    ref = payment["checkout_url"].split("vnp_TxnRef=")[1].split("&")[0]
    await world.settle(ref, "00")
    r = await world.http.get(f"/v1/payments/{payment['id']}/events", headers=world.auth())
    events = r.json()
    assert [(e["from_status"], e["to_status"], e["cause"]) for e in events] == [
        (None, "pending", "portal"),
        ("pending", "succeeded", "ipn"),
    ]
    assert events[1]["provider_codes"]["vnp_ResponseCode"] == "00"
    assert events[1]["provider_codes"]["vnp_TransactionStatus"] == "00"


async def test_expiry_defaults_and_bounds(world: World) -> None:
    r = await world.create_payment(payment_body(expires_in_seconds=3600))
    body = r.json()
    assert body["expires_at"] > body["created_at"]
    too_long = await world.create_payment(payment_body(expires_in_seconds=10 * 365 * 24 * 3600))
    assert too_long.status_code == 422
    assert too_long.headers["content-type"].startswith("application/problem+json")
    _ = timedelta


async def test_citizen_ip_goes_to_vnpay(world: World) -> None:
    body = (await world.create_payment(payment_body(citizen_ip="113.160.22.5"))).json()
    assert parse_qs(urlsplit(body["checkout_url"]).query)["vnp_IpAddr"] == ["113.160.22.5"]
    default = (await world.create_payment()).json()
    assert parse_qs(urlsplit(default["checkout_url"]).query)["vnp_IpAddr"] == ["127.0.0.1"]
    bad = await world.create_payment(payment_body(citizen_ip="not-an-ip"))
    assert bad.status_code == 400
