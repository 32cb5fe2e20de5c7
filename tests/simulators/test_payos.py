"""The payOS simulator: its API as payOS answers, its VietQR, webhooks and their re-delivery, the page, the
control and faults APIs."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest

from simulators.payos import SimulatorConfig, create_app
from simulators.payos.config import DEV_MERCHANT
from tests.payos_wire import signed, tlv, vietqr

SIM = "http://payos.test"
HOOK = "http://merchant.test/hook"
HEADERS = {"x-client-id": DEV_MERCHANT.client_id, "x-api-key": DEV_MERCHANT.api_key}
KEY = DEV_MERCHANT.checksum_key


@dataclass
class Merchant:
    statuses: list[int] = field(default_factory=list)  # answered in turn, then 200
    received: list[dict[str, Any]] = field(default_factory=list)
    arrived: anyio.Event = field(default_factory=anyio.Event)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.received.append(json.loads(request.content))
        if len(self.received) >= 2:
            self.arrived.set()
        return httpx.Response(self.statuses.pop(0) if self.statuses else 200, json={"ok": True})


@dataclass
class Sim:
    client: httpx.AsyncClient
    merchant: Merchant

    async def create(self, order_code: int = 1001, amount: int = 35000, **changes: Any) -> httpx.Response:
        body: dict[str, Any] = {
            "orderCode": order_code,
            "amount": amount,
            "description": "LE PHI HS0001",
            "cancelUrl": "https://gw.example.vn/callbacks/payos/return",
            "returnUrl": "https://gw.example.vn/callbacks/payos/return",
        }
        text = "&".join(f"{k}={body[k]}" for k in ("amount", "cancelUrl", "description", "orderCode", "returnUrl"))
        body["signature"] = hmac.new(KEY.encode(), text.encode(), hashlib.sha256).hexdigest()
        body.update(changes)
        return await self.client.post("/v2/payment-requests", json=body, headers=HEADERS)


@pytest.fixture
def merchant() -> Merchant:
    return Merchant()


@pytest.fixture
async def sim(merchant: Merchant) -> AsyncIterator[Sim]:
    config = SimulatorConfig(public_url=SIM, webhook_retry_intervals=(0.01, 0.01))
    config.merchants[0].webhook_url = HOOK
    app = create_app(config, webhook_transport=httpx.MockTransport(merchant.handler))
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SIM) as client:
        yield Sim(client, merchant)


def _data(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == "00", body
    assert body["signature"] == signed(body["data"], KEY)
    data: dict[str, Any] = body["data"]
    return data


@pytest.mark.anyio
async def test_a_payment_link_carries_a_vietqr_for_its_account_amount_and_purpose(sim: Sim) -> None:
    data = _data(await sim.create())
    assert set(data) == {
        "bin", "accountNumber", "accountName", "amount", "description", "orderCode", "currency",
        "paymentLinkId", "status", "expiredAt", "checkoutUrl", "qrCode",
    }  # fmt: skip
    qr = vietqr(data["qrCode"])
    assert (qr["bin"], qr["account"], qr["amount"]) == (data["bin"], data["accountNumber"], 35000)
    assert qr["purpose"].endswith("LE PHI HS0001")
    assert data["checkoutUrl"] == f"{SIM}/web/{data['paymentLinkId']}"


def test_the_decoder_refuses_a_payload_whose_crc_or_length_is_wrong() -> None:
    good = "00020101021238560010A0000007270126000697041501121133666688880208QRIBFTTA53037045405500005802VN62170813LE PHI HS000163045F81"  # noqa: E501
    assert vietqr(good)["amount"] == 50000
    with pytest.raises(AssertionError):
        vietqr(good[:-1] + "0")
    with pytest.raises(AssertionError):
        tlv("0105123")


@pytest.mark.anyio
async def test_a_link_is_read_by_order_code_or_id_and_cancelled(sim: Sim) -> None:
    link_id = _data(await sim.create())["paymentLinkId"]
    by_code = _data(await sim.client.get("/v2/payment-requests/1001", headers=HEADERS))
    assert by_code == _data(await sim.client.get(f"/v2/payment-requests/{link_id}", headers=HEADERS))
    assert (by_code["status"], by_code["amountRemaining"], by_code["transactions"]) == ("PENDING", 35000, [])
    reason = {"cancellationReason": "Nguoi nop huy"}
    forged = await sim.client.post(
        "/v2/payment-requests/1001/cancel", json={**reason, "signature": "0" * 64}, headers=HEADERS
    )
    assert forged.json()["code"] == "20"
    body = {**reason, "signature": signed(reason, KEY)}
    cancelled = _data(await sim.client.post("/v2/payment-requests/1001/cancel", json=body, headers=HEADERS))
    assert (cancelled["status"], cancelled["cancellationReason"]) == ("CANCELLED", "Nguoi nop huy")
    assert cancelled["canceledAt"] is not None


@pytest.mark.anyio
async def test_refusals_come_with_payos_codes(sim: Sim) -> None:
    assert (await sim.create(signature="0" * 64)).json()["code"] == "20"
    assert (await sim.create(description="x" * 26)).json()["code"] == "20"
    assert (await sim.create(amount=0)).json()["code"] == "20"
    _data(await sim.create())
    assert (await sim.create()).json()["code"] == "231"
    assert (await sim.client.get("/v2/payment-requests/999", headers=HEADERS)).json()["code"] == "101"
    wrong = await sim.client.get("/v2/payment-requests/1001", headers={**HEADERS, "x-api-key": "wrong"})
    assert wrong.status_code == 401


@pytest.mark.anyio
async def test_paying_sends_a_signed_webhook_and_the_link_is_paid(sim: Sim) -> None:
    _data(await sim.create())
    answer = (await sim.client.post("/_sim/payos/payment-requests/1001/pay")).json()
    webhook = answer["webhook"]
    assert (answer["status"], webhook["http_status"], webhook["acknowledged"]) == ("PAID", 200, True)
    assert sim.merchant.received == [webhook["body"]]
    data = webhook["body"]["data"]
    assert webhook["body"]["signature"] == signed(data, KEY)
    assert (data["orderCode"], data["amount"], data["code"]) == (1001, 35000, "00")
    link = _data(await sim.client.get("/v2/payment-requests/1001", headers=HEADERS))
    assert (link["status"], link["amountPaid"], link["transactions"][0]["reference"]) == (
        "PAID",
        35000,
        data["reference"],
    )
    assert (await sim.client.post("/_sim/payos/payment-requests/1001/pay")).status_code == 409


@pytest.mark.anyio
async def test_a_webhook_not_answered_2xx_is_delivered_again(sim: Sim) -> None:
    sim.merchant.statuses = [500]
    _data(await sim.create())
    first = (await sim.client.post("/_sim/payos/payment-requests/1001/pay")).json()["webhook"]
    assert (first["http_status"], first["acknowledged"]) == (500, False)
    with anyio.fail_after(10):
        await sim.merchant.arrived.wait()
    assert sim.merchant.received[0] == sim.merchant.received[1]


@pytest.mark.anyio
async def test_faults_answer_503_and_drop_webhooks(sim: Sim) -> None:
    assert (
        await sim.client.put("/_sim/payos/faults", json={"api_http_5xx": 1, "webhook_drop": True})
    ).status_code == 200
    assert (await sim.create()).status_code == 503
    _data(await sim.create())
    assert (await sim.client.post("/_sim/payos/payment-requests/1001/pay")).json()["webhook"]["dropped"] is True
    assert sim.merchant.received == []
    assert (await sim.client.put("/_sim/payos/faults", json={"webhook_drop": "yes"})).status_code == 400
    assert (await sim.client.delete("/_sim/payos/faults")).json()["webhook_drop"] is False


@pytest.mark.anyio
async def test_out_of_order_sends_a_webhook_after_the_next_links(sim: Sim) -> None:
    assert (await sim.client.put("/_sim/payos/faults", json={"webhook_out_of_order": True})).status_code == 200
    _data(await sim.create())
    _data(await sim.create(order_code=1002))
    held = (await sim.client.post("/_sim/payos/payment-requests/1001/pay")).json()["webhook"]
    assert (held["held"], held["dropped"]) == (True, False) and sim.merchant.received == []
    sent = (await sim.client.post("/_sim/payos/payment-requests/1002/pay")).json()["webhook"]
    assert (sent["held"], sent["acknowledged"]) == (False, True)
    assert [body["data"]["orderCode"] for body in sim.merchant.received] == [1002, 1001]
    for body in sim.merchant.received:
        assert body["signature"] == signed(body["data"], KEY)


@pytest.mark.anyio
async def test_the_page_shows_the_qr_and_pays_or_cancels(sim: Sim) -> None:
    link_id = _data(await sim.create())["paymentLinkId"]
    page = await sim.client.get(f"/web/{link_id}")
    assert "<svg" in page.text and "113366668888" in page.text and "35,000 VND" in page.text
    paid = await sim.client.post(f"/web/{link_id}/pay")
    assert paid.status_code == 303
    back = httpx.URL(paid.headers["location"])
    assert (back.params["status"], back.params["orderCode"], back.params["cancel"]) == ("PAID", "1001", "false")
    other = _data(await sim.create(order_code=1002))["paymentLinkId"]
    cancelled = httpx.URL((await sim.client.post(f"/web/{other}/cancel")).headers["location"])
    assert (cancelled.params["status"], cancelled.params["cancel"]) == ("CANCELLED", "true")


@pytest.mark.anyio
async def test_confirm_webhook_registers_only_a_url_that_answers(sim: Sim) -> None:
    sim.merchant.statuses = [500]
    refused = await sim.client.post(
        "/confirm-webhook", json={"webhookUrl": "http://merchant.test/new"}, headers=HEADERS
    )
    assert refused.status_code == 400
    ok = await sim.client.post("/confirm-webhook", json={"webhookUrl": "http://merchant.test/new"}, headers=HEADERS)
    assert ok.json()["data"]["webhookUrl"] == "http://merchant.test/new"
    test_hook = sim.merchant.received[-1]
    assert test_hook["signature"] == signed(test_hook["data"], KEY)


@pytest.mark.anyio
async def test_the_control_api_cancels_and_lists_webhook_attempts(sim: Sim) -> None:
    _data(await sim.create())
    _data(await sim.create(order_code=1002))
    cancelled = (await sim.client.post("/_sim/payos/payment-requests/1001/pay", json={"outcome": "cancelled"})).json()
    assert cancelled == {"status": "CANCELLED", "webhook": None}
    assert (await sim.client.post("/_sim/payos/payment-requests/1002/pay", json={"outcome": "x"})).status_code == 400
    assert (await sim.client.post("/_sim/payos/payment-requests/9/pay")).status_code == 404
    await sim.client.post("/_sim/payos/payment-requests/1002/pay", json={})
    attempts = (await sim.client.get("/_sim/payos/payment-requests/1002/webhooks")).json()
    assert attempts == {
        "acknowledged": True,
        "attempts": [{"number": 1, "kind": "notify", "http_status": 200, "error": None}],
    }


@pytest.mark.anyio
async def test_a_paid_links_webhook_is_sent_again_exactly_as_first_sent(sim: Sim) -> None:
    _data(await sim.create())
    assert (await sim.client.post("/_sim/payos/payment-requests/1001/webhook")).status_code == 409  # not paid
    first = (await sim.client.post("/_sim/payos/payment-requests/1001/pay")).json()["webhook"]
    replay = await sim.client.post("/_sim/payos/payment-requests/1001/webhook")
    assert replay.status_code == 200 and replay.json()["acknowledged"] is True
    assert sim.merchant.received == [first["body"], first["body"]]
    attempts = (await sim.client.get("/_sim/payos/payment-requests/1001/webhooks")).json()["attempts"]
    assert [a["kind"] for a in attempts] == ["notify", "resend"]
