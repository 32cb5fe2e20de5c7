"""VNPay's IPN: the acknowledgement codes VNPay expects, and exactly-once crediting."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from gateway.db.models import PaymentEvent, ProviderNotification, WebhookEvent
from tests.harness import World, signed_ipn

pytestmark = pytest.mark.anyio


async def ipn(world: World, params: dict[str, str]) -> dict[str, str]:
    r = await world.http.get("/callbacks/vnpay/ipn", params=params)
    assert r.status_code == 200
    return r.json()


async def count(world: World, model: type, **where: str) -> int:
    async with world.app.state.sessionmaker() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return int(await session.scalar(query) or 0)


async def test_success_is_confirmed_with_00(world: World) -> None:
    payment = (await world.create_payment()).json()
    assert await ipn(world, signed_ipn(payment)) == {"RspCode": "00", "Message": "Confirm Success"}
    assert (await world.get_payment(payment["id"]))["status"] == "succeeded"


async def test_invalid_signature_is_97_and_changes_nothing(world: World) -> None:
    payment = (await world.create_payment()).json()
    forged = {**signed_ipn(payment), "vnp_ResponseCode": "00", "vnp_Amount": "100"}
    assert (await ipn(world, forged))["RspCode"] == "97"
    bad_hash = {**signed_ipn(payment), "vnp_SecureHash": "0" * 128}
    assert (await ipn(world, bad_hash))["RspCode"] == "97"
    assert (await world.get_payment(payment["id"]))["status"] == "pending"
    assert await count(world, PaymentEvent, payment_id=payment["id"]) == 1  # only "created"
    assert await count(world, ProviderNotification, ack_code="97") == 2  # kept as evidence


async def test_unknown_order_is_01(world: World) -> None:
    payment = (await world.create_payment()).json()
    assert (await ipn(world, signed_ipn(payment, vnp_TxnRef="NOSUCHORDER")))["RspCode"] == "01"


async def test_amount_mismatch_is_04_and_changes_nothing(world: World) -> None:
    payment = (await world.create_payment()).json()
    assert (await ipn(world, signed_ipn(payment, vnp_Amount="100000")))["RspCode"] == "04"
    assert (await world.get_payment(payment["id"]))["status"] == "pending"


async def test_duplicate_ipn_is_02_and_credits_once(world: World) -> None:
    payment = (await world.create_payment()).json()
    params = signed_ipn(payment)
    assert (await ipn(world, params))["RspCode"] == "00"
    assert (await ipn(world, params))["RspCode"] == "02"
    assert (await ipn(world, params))["RspCode"] == "02"
    assert await count(world, WebhookEvent, type="payment.succeeded") == 1
    assert await count(world, PaymentEvent, payment_id=payment["id"], to_status="succeeded") == 1


async def test_concurrent_duplicates_credit_once(world: World) -> None:
    payment = (await world.create_payment()).json()
    params = signed_ipn(payment)
    answers = await asyncio.gather(*(ipn(world, params) for _ in range(5)))
    codes = sorted(a["RspCode"] for a in answers)
    assert codes.count("00") == 1, codes
    assert set(codes) <= {"00", "02", "99"}  # 99 asks VNPay to retry, which then gets 02
    assert await count(world, WebhookEvent, type="payment.succeeded") == 1


async def test_late_failure_after_success_does_not_regress(world: World) -> None:
    payment = (await world.create_payment()).json()
    assert (await ipn(world, signed_ipn(payment, "00")))["RspCode"] == "00"
    assert (await ipn(world, signed_ipn(payment, "99")))["RspCode"] == "02"
    assert (await world.get_payment(payment["id"]))["status"] == "succeeded"


async def test_success_after_a_failure_ipn_still_credits(world: World) -> None:
    """Out of order: VNPay's proof of money outranks an earlier failure report."""
    payment = (await world.create_payment()).json()
    assert (await ipn(world, signed_ipn(payment, "24")))["RspCode"] == "00"
    assert (await world.get_payment(payment["id"]))["status"] == "failed"
    assert (await ipn(world, signed_ipn(payment, "00")))["RspCode"] == "00"
    assert (await world.get_payment(payment["id"]))["status"] == "succeeded"
    assert (await ipn(world, signed_ipn(payment, "00")))["RspCode"] == "02"


async def test_success_for_cancelled_payment_is_recorded(world: World) -> None:
    payment = (await world.create_payment()).json()
    r = await world.http.post(f"/v1/payments/{payment['id']}/cancel", headers=world.auth())
    assert r.json()["status"] == "cancelled"
    assert (await ipn(world, signed_ipn(payment)))["RspCode"] == "00"
    assert (await world.get_payment(payment["id"]))["status"] == "succeeded"


async def test_a_paid_payment_cannot_be_cancelled(world: World) -> None:
    payment = (await world.create_payment()).json()
    assert (await ipn(world, signed_ipn(payment)))["RspCode"] == "00"
    r = await world.http.post(f"/v1/payments/{payment['id']}/cancel", headers=world.auth())
    assert r.status_code == 409
    problem = r.json()
    assert problem["status"] == 409 and problem["current_status"] == "succeeded"
    assert problem["type"].endswith("/invalid-transition")
    assert (await world.get_payment(payment["id"]))["status"] == "succeeded"


async def test_suspicious_07_keeps_payment_open(world: World) -> None:
    payment = (await world.create_payment()).json()
    assert (await ipn(world, signed_ipn(payment, "07", "00")))["RspCode"] == "00"
    assert (await world.get_payment(payment["id"]))["status"] == "processing"


async def test_malformed_ipn_is_99(world: World) -> None:
    payment = (await world.create_payment()).json()
    params = signed_ipn(payment, vnp_Amount="abc")
    assert (await ipn(world, params))["RspCode"] == "99"


async def test_ipn_signed_over_another_encoding_is_accepted(world: World) -> None:
    """The hash covers the query as VNPay encoded it; a verifier must not depend on re-encoding it alike."""
    from urllib.parse import quote_plus

    from adapters.vnpay.signing import hmac_sha512
    from tests.harness import HASH_SECRET

    payment = (await world.create_payment()).json()
    params = signed_ipn(payment, vnp_OrderInfo="Thanh toan (HS*1)")
    params.pop("vnp_SecureHash")
    query = "&".join(f"{quote_plus(k)}={quote_plus(v, safe='()*')}" for k, v in sorted(params.items()))
    url = f"/callbacks/vnpay/ipn?{query}&vnp_SecureHash={hmac_sha512(HASH_SECRET, query)}"
    assert (await world.http.get(url)).json()["RspCode"] == "00"
    forged = url.replace("vnp_ResponseCode=00", "vnp_ResponseCode=24")
    assert (await world.http.get(forged)).json()["RspCode"] == "97"
