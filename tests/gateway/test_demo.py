"""The demo at /demo: a person plays the portal in a browser against the gateway and the VNPay simulator."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gateway.db.models import Client, Payment
from gateway.demo.controller import DEMO_CLIENT_NAME
from gateway.ids import new_id
from gateway.webhooks import signing
from tests.harness import GATEWAY, World, reference_of

pytestmark = pytest.mark.anyio


def form(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "dossier_code": "000.00.12.H29-241123-0042",
        "agency_code": "000.00.12.H29",
        "procedure_code": "1.001234",
        "payer_name": "Nguyễn Văn An",
        "payer_phone": "0912345678",
        # Three rows as the page sends them; the blank third one is ignored.
        "kind": ["charge", "postage", "fee"],
        "code": ["LP-HT", "BCCI", ""],
        "description": ["Lệ phí cấp bản sao trích lục hộ tịch", "Cước bưu chính công ích trả kết quả", ""],
        "amount": ["8000", "27000", ""],
    }
    body.update(overrides)
    return body


async def post_form(world: World, body: dict[str, Any]) -> httpx.Response:
    return await world.http.post("/demo/payments", data=body, follow_redirects=False)


async def create(world: World, **overrides: Any) -> str:
    r = await post_form(world, form(**overrides))
    assert r.status_code == 303, r.text
    match = re.fullmatch(r"/demo/payments/(pay_\w+)", r.headers["location"])
    assert match, r.headers["location"]
    return match.group(1)


async def demo_payments(world: World) -> list[Payment]:
    async with world.app.state.sessionmaker() as session:
        return list(
            await session.scalars(
                select(Payment).join(Client, Client.id == Payment.client_id).where(Client.name == DEMO_CLIENT_NAME)
            )
        )


async def demo_client(world: World) -> Client:
    async with world.app.state.sessionmaker() as session:
        client = await session.scalar(select(Client).where(Client.name == DEMO_CLIENT_NAME))
    assert client is not None
    return client


async def test_form_page_renders_a_sample_dossier(world: World) -> None:
    r = await world.http.get("/demo")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert re.search(r'name="dossier_code" value="000\.00\.12\.H29-\d{6}-\d{4}"', page)
    assert 'value="000.00.12.H29"' in page
    assert "Cấp bản sao trích lục hộ tịch" in page
    assert page.count('name="amount"') == 3
    assert 'value="8000"' in page
    assert 'value="27000"' in page
    assert "Chưa có khoản nào" in page  # no recent payments yet
    assert "https://" not in page.replace("https://www", "")  # nothing loaded from a CDN


async def test_demo_client_is_created_once_with_its_webhook_url(world: World) -> None:
    await world.http.get("/demo")
    await world.http.get("/demo")
    async with world.app.state.sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(Client).where(Client.name == DEMO_CLIENT_NAME))
    assert count == 1
    client = await demo_client(world)
    assert client.webhook_url == f"{GATEWAY}/demo/webhooks"
    assert world.app.state.demo_client_id == client.id


async def test_create_payment_redirects_to_its_page(world: World) -> None:
    payment_id = await create(world)
    [payment] = await demo_payments(world)
    assert payment.id == payment_id
    assert payment.amount == 35000
    assert [(x["kind"], x["code"], x["amount"]) for x in payment.lines] == [
        ("charge", "LP-HT", 8000),
        ("postage", "BCCI", 27000),
    ]
    assert payment.return_url == f"{GATEWAY}/demo/return"
    assert payment.dossier_code == "000.00.12.H29-241123-0042"
    assert payment.status == "pending"

    listed = await world.http.get("/demo")
    assert f"/demo/payments/{payment_id}" in listed.text
    assert "35.000 ₫" in listed.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": ["12.5", "27000", ""]}, "Phải là số nguyên đồng"),
        ({"amount": ["0", "27000", ""]}, "Phải lớn hơn 0"),
        ({"payer_name": "  "}, "Họ tên người nộp"),
        ({"payer_phone": "12345"}, "Số điện thoại"),
        (
            {"code": ["", "", ""], "description": ["", "", ""], "amount": ["", "", ""]},
            "Cần ít nhất một khoản phí",
        ),
        ({"code": ["LP HT", "BCCI", ""]}, "Khoản phí 1 – mã"),
    ],
)
async def test_bad_input_rerenders_the_form_and_creates_nothing(
    world: World, overrides: dict[str, Any], message: str
) -> None:
    r = await post_form(world, form(**overrides))
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert message in r.text
    assert 'class="err"' in r.text
    assert 'value="000.00.12.H29-241123-0042"' in r.text  # what the person typed is kept
    assert await demo_payments(world) == []


async def test_missing_name_field_is_400(world: World) -> None:
    body = form()
    del body["payer_name"]
    r = await post_form(world, body)
    assert r.status_code == 400
    assert await demo_payments(world) == []


async def test_payment_page_shows_amount_lines_and_checkout_link(world: World) -> None:
    payment_id = await create(world)
    [payment] = await demo_payments(world)
    r = await world.http.get(f"/demo/payments/{payment_id}")
    assert r.status_code == 200
    page = r.text
    assert "35.000 ₫" in page
    assert "8.000 ₫" in page
    assert "27.000 ₫" in page
    assert "Chờ thanh toán" in page
    assert "Thanh toán qua VNPay" in page
    assert f'href="{html.escape(payment.checkout_url)}"' in page
    assert "giờ Việt Nam" in page
    assert f"/demo/payments/{payment_id}/state" in page
    assert "Nguyễn Văn An" not in page  # no personal data on the page
    assert "0912345678" not in page


async def test_state_json(world: World) -> None:
    payment_id = await create(world)
    r = await world.http.get(f"/demo/payments/{payment_id}/state")
    assert r.status_code == 200
    state = r.json()
    assert state["status"] == "pending"
    assert state["status_label"] == "Chờ thanh toán"
    assert [(e["from"], e["to"], e["cause"]) for e in state["events"]] == [(None, "pending", "portal")]
    assert state["webhooks"] == []


async def test_other_clients_payments_are_not_shown(world: World) -> None:
    r = await world.create_payment()
    assert r.status_code == 201, r.text
    other = r.json()["id"]
    page = await world.http.get(f"/demo/payments/{other}")
    assert page.status_code == 404
    assert "Không tìm thấy" in page.text
    assert (await world.http.get(f"/demo/payments/{other}/state")).status_code == 404
    assert other not in (await world.http.get("/demo")).text


async def test_return_redirects_to_the_payment_page(world: World) -> None:
    r = await world.http.get("/demo/return?payment_id=pay_abc&status=processing", follow_redirects=False)
    assert r.status_code in (302, 303)
    assert r.headers["location"] == "/demo/payments/pay_abc"
    r = await world.http.get("/demo/return", follow_redirects=False)
    assert r.headers["location"] == "/demo"


def _event(payment_id: str, type_: str = "payment.succeeded") -> str:
    return json.dumps({"type": type_, "timestamp": "2024-11-23T10:00:00+00:00", "data": {"id": payment_id}})


async def test_webhook_receiver_verifies_and_dedupes(world: World) -> None:
    payment_id = await create(world)
    secret = (await demo_client(world)).webhook_secret
    payload = _event(payment_id)
    msg_id = new_id("msg")
    headers = signing.headers(secret, msg_id, world.clock.now(), payload)

    r = await world.http.post("/demo/webhooks", content=payload.encode(), headers=headers)
    assert r.status_code == 204
    again = await world.http.post("/demo/webhooks", content=payload.encode(), headers=headers)
    assert again.status_code == 204  # a redelivery is acknowledged, and counted only once

    [hook] = (await world.http.get(f"/demo/payments/{payment_id}/state")).json()["webhooks"]
    assert hook["webhook_id"] == msg_id
    assert hook["type"] == "payment.succeeded"
    assert hook["signature_valid"] is True
    assert hook["deliveries"] == 2
    page = await world.http.get(f"/demo/payments/{payment_id}")
    assert msg_id in page.text


async def test_webhook_receiver_rejects_a_bad_signature(world: World) -> None:
    payment_id = await create(world)
    payload = _event(payment_id)
    forged = signing.headers("whsec_" + "A" * 44, new_id("msg"), world.clock.now(), payload)
    r = await world.http.post("/demo/webhooks", content=payload.encode(), headers=forged)
    assert r.status_code == 401

    secret = (await demo_client(world)).webhook_secret
    tampered = signing.headers(secret, new_id("msg"), world.clock.now(), payload)
    r = await world.http.post("/demo/webhooks", content=_event(payment_id, "payment.failed"), headers=tampered)
    assert r.status_code == 401

    unsigned = await world.http.post("/demo/webhooks", content=payload.encode())
    assert unsigned.status_code == 401

    hooks = (await world.http.get(f"/demo/payments/{payment_id}/state")).json()["webhooks"]
    assert [h["signature_valid"] for h in hooks] == [False, False, False]


async def test_end_to_end_pay_return_and_webhook(world: World) -> None:
    """The whole demo: create, pay at the simulator, come back, receive the dispatcher's real webhook."""
    payment_id = await create(world)
    [payment] = await demo_payments(world)
    # VNPay's page (or its redirect to the payment-method page): the transaction now exists there.
    assert (await world.open_checkout(payment.checkout_url)).status_code in (200, 302, 303)
    await world.settle(reference_of({"checkout_url": payment.checkout_url}), "00")

    state = (await world.http.get(f"/demo/payments/{payment_id}/state")).json()
    assert state["status"] == "succeeded"
    assert state["paid_at"]
    page = await world.http.get(f"/demo/payments/{payment_id}")
    assert "Đã thanh toán" in page.text
    assert "Thanh toán qua VNPay" not in page.text  # no pay button once it is not pending

    back = await world.http.get(f"/demo/return?payment_id={payment_id}&status=succeeded", follow_redirects=False)
    assert back.headers["location"] == f"/demo/payments/{payment_id}"

    # The world's webhooks land in the recording portal; hand the delivery on to the demo's receiver.
    assert await world.run_dispatcher() == 1
    [delivery] = world.portal.received
    assert str(delivery.url) == f"{GATEWAY}/demo/webhooks"
    r = await world.http.post("/demo/webhooks", content=delivery.content, headers=dict(delivery.headers))
    assert r.status_code == 204
    [hook] = (await world.http.get(f"/demo/payments/{payment_id}/state")).json()["webhooks"]
    assert (hook["type"], hook["signature_valid"]) == ("payment.succeeded", True)
