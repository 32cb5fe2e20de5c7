"""The MoMo simulator speaks MoMo's protocol to a client that signs with its own code (not the adapter's,
not the simulator's): create, query, refund, IPNs acknowledged only by 204, the page, and the faults."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from simulators.momo import DEV_MERCHANT, SimulatorConfig, create_app
from simulators.momo import app as momo_app

BASE = "http://momo.test"
ACCESS_KEY = "F8BBA842ECF85"
SECRET = "K951B6PE1waDMi640xX08PD3vg6EkVlz"
CREATE = "accessKey amount extraData ipnUrl orderId orderInfo partnerCode redirectUrl requestId requestType"
QUERY = "accessKey orderId partnerCode requestId"
REFUND = "accessKey amount description orderId partnerCode requestId transId"
IPN = (
    "accessKey amount extraData message orderId orderInfo orderType partnerCode payType requestId responseTime "
    "resultCode transId"
)


def sign(body: dict[str, Any], names: str, secret: str = SECRET) -> dict[str, Any]:
    raw = "&".join(f"{n}={ACCESS_KEY if n == 'accessKey' else body.get(n, '')}" for n in names.split())
    return {**body, "signature": hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()}


def ipn_is_signed(body: dict[str, Any]) -> bool:
    return sign({k: v for k, v in body.items() if k != "signature"}, IPN)["signature"] == body["signature"]


@dataclass
class Merchant:
    """The merchant's IPN endpoint: answers each delivery with the next of `statuses` (then 204)."""

    statuses: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.received.append(json.loads(request.content))
        self.arrived.set()
        return httpx.Response(self.statuses.pop(0) if self.statuses else 204)


@dataclass
class Sim:
    client: httpx.AsyncClient
    merchant: Merchant

    async def create(self, order_id: str = "HS0001", amount: int = 35000, **changes: Any) -> httpx.Response:
        body = {
            "partnerCode": "MOMO",
            "requestId": order_id,
            "amount": amount,
            "orderId": order_id,
            "orderInfo": "Le phi ho so",
            "redirectUrl": "https://gw.example.vn/callbacks/momo/return",
            "ipnUrl": "https://gw.example.vn/callbacks/momo/ipn",
            "requestType": "captureWallet",
            "extraData": "",
            "lang": "vi",
            **changes,
        }
        return await self.client.post("/v2/gateway/api/create", json=sign(body, CREATE))

    async def query(self, order_id: str) -> dict[str, Any]:
        body = sign({"partnerCode": "MOMO", "requestId": f"q-{order_id}", "orderId": order_id, "lang": "vi"}, QUERY)
        r = await self.client.post("/v2/gateway/api/query", json=body)
        assert r.status_code == 200
        return dict(r.json())

    async def refund(self, order_id: str, trans_id: int, amount: int, request_id: str | None = None) -> dict[str, Any]:
        body = {
            "partnerCode": "MOMO",
            "orderId": order_id,
            "requestId": request_id or order_id,
            "amount": amount,
            "transId": trans_id,
            "lang": "vi",
            "description": "Hoan phi",
        }
        r = await self.client.post("/v2/gateway/api/refund", json=sign(body, REFUND))
        assert r.status_code == 200
        return dict(r.json())


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    merchant = Merchant()
    config = SimulatorConfig(merchants=[DEV_MERCHANT], public_url=BASE, ipn_retry_intervals=(0, 0))
    app = create_app(config, ipn_transport=httpx.MockTransport(merchant.handler))
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield Sim(client, merchant)


@pytest.mark.anyio
async def test_create_answers_a_pay_url_a_deeplink_and_a_qr_payload(sim: Sim) -> None:
    r = await sim.create()
    body = r.json()
    assert (r.status_code, body["resultCode"], body["orderId"], body["amount"]) == (200, 0, "HS0001", 35000)
    assert body["payUrl"].startswith(f"{BASE}/v2/gateway/pay?t=")
    assert body["deeplink"].startswith("momo://") and body["qrCodeUrl"].startswith("momo://")
    again = await sim.create()
    assert again.json() == body  # a settled requestId is answered as the first time


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount": 999}, 22),
        ({"amount": 50_000_001}, 22),
        ({"amount": 9_999, "requestType": "payWithATM"}, 22),
        ({"amount": "35000"}, 20),
        ({"orderId": "HS 0001", "requestId": "r1"}, 20),
        ({"requestType": "payWithCC"}, 20),
        ({"partnerCode": "NOBODY"}, 13),
        ({"orderExpireTime": 0}, 20),
        ({"orderExpireTime": "15"}, 20),
        ({"orderExpireTime": 1.5}, 20),
        ({"orderExpireTime": True}, 20),
    ],
)
async def test_create_refuses_what_momo_refuses(sim: Sim, changes: dict[str, Any], code: int) -> None:
    assert (await sim.create(**changes)).json()["resultCode"] == code


@pytest.mark.anyio
async def test_create_refuses_a_bad_signature_and_a_duplicate_order_id(sim: Sim) -> None:
    body = sign({"partnerCode": "MOMO", "orderId": "X1", "requestId": "X1", "amount": 1000}, CREATE, "wrong")
    assert (await sim.client.post("/v2/gateway/api/create", json=body)).json()["resultCode"] == 13
    await sim.create("HS0002")
    assert (await sim.create("HS0002", requestId="other-request")).json()["resultCode"] == 41


@pytest.mark.anyio
async def test_a_paid_order_is_notified_signed_and_reads_as_paid(sim: Sim) -> None:
    await sim.create()
    assert (await sim.query("HS0001"))["resultCode"] == 1000
    paid = (await sim.client.post("/_sim/momo/orders/HS0001/pay")).json()
    assert paid["notification"]["resultCode"] == 0 and paid["acknowledged"] is True
    [ipn] = sim.merchant.received
    assert ipn_is_signed(ipn)
    assert isinstance(ipn["amount"], int) and ipn["amount"] == 35000
    answer = await sim.query("HS0001")
    assert (answer["resultCode"], answer["transId"]) == (0, ipn["transId"])
    assert (await sim.query("NOSUCH"))["resultCode"] == 42


@pytest.mark.anyio
async def test_an_order_unpaid_past_its_order_expire_time_is_expired_1005(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = (await sim.create(orderExpireTime=2)).json()  # minutes, outside the signature
    assert created["resultCode"] == 0
    await sim.create("HS0002")  # MoMo's own default lifetime
    start = momo_app.now_ms()
    monkeypatch.setattr(momo_app, "now_ms", lambda: start + 119_000)
    assert (await sim.query("HS0001"))["resultCode"] == 1000  # not yet
    monkeypatch.setattr(momo_app, "now_ms", lambda: start + 121_000)
    assert (await sim.query("HS0001"))["resultCode"] == 1005
    assert (await sim.query("HS0002"))["resultCode"] == 1000
    late = await sim.client.post("/_sim/momo/orders/HS0001/pay")
    assert late.status_code == 409 and "1005" in late.text  # a lapsed link cannot be paid
    token = httpx.URL(created["payUrl"]).params["t"]
    page = await sim.client.get("/v2/gateway/pay", params={"t": token})
    assert 'value="pay"' not in page.text and "hết hạn" in page.text
    assert sim.merchant.received == []  # nothing was paid, nothing notified


@pytest.mark.anyio
async def test_an_ipn_not_answered_204_is_delivered_again(sim: Sim) -> None:
    sim.merchant.statuses = [200]  # a merchant that answers 200 has not acknowledged, for MoMo
    await sim.create()
    paid = (await sim.client.post("/_sim/momo/orders/HS0001/pay", json={"resultCode": 1006})).json()
    assert paid["acknowledged"] is False
    while len(sim.merchant.received) < 2:
        sim.merchant.arrived.clear()
        await asyncio.wait_for(sim.merchant.arrived.wait(), timeout=10)
    assert [ipn["resultCode"] for ipn in sim.merchant.received] == [1006, 1006]


@pytest.mark.anyio
async def test_refunds_take_a_new_order_id_and_show_in_the_query(sim: Sim) -> None:
    await sim.create()
    trans_id = (await sim.client.post("/_sim/momo/orders/HS0001/pay")).json()["notification"]["transId"]
    assert (await sim.refund("HS0001", trans_id, 1000))["resultCode"] == 41  # the payment's own orderId
    done = await sim.refund("RF0001", trans_id, 12000)
    assert done["resultCode"] == 0
    assert (await sim.refund("RF0001", trans_id, 12000)) == done  # the same request, the same answer
    assert (await sim.refund("RF0001", trans_id, 12000, "another"))["resultCode"] == 41
    assert (await sim.refund("RF0002", trans_id, 30000))["resultCode"] == 22  # more than is left
    [row] = (await sim.query("HS0001"))["refundTrans"]
    assert (row["orderId"], row["amount"], row["resultCode"]) == ("RF0001", 12000, 0)


@pytest.mark.anyio
async def test_the_page_offers_qr_app_pay_and_cancel_and_returns_signed(sim: Sim) -> None:
    created = (await sim.create()).json()
    token = httpx.URL(created["payUrl"]).params["t"]
    page = await sim.client.get("/v2/gateway/pay", params={"t": token})
    assert created["qrCodeUrl"].replace("&", "&amp;") in page.text
    assert 'value="pay"' in page.text and 'value="cancel"' in page.text and "Mở ứng dụng MoMo" in page.text
    back = await sim.client.post("/v2/gateway/pay", data={"t": token, "action": "cancel"})
    assert back.status_code == 303
    fields = dict(httpx.URL(back.headers["location"]).params)
    assert fields["resultCode"] == "1006" and ipn_is_signed(fields)


@pytest.mark.anyio
async def test_faults_fail_the_api_and_drop_or_duplicate_ipns(sim: Sim) -> None:
    assert (await sim.client.put("/_sim/momo/faults", json={"api_http_5xx": 1})).status_code == 200
    assert (await sim.create()).status_code == 503
    assert (await sim.create()).json()["resultCode"] == 0
    await sim.client.put("/_sim/momo/faults", json={"ipn_duplicate": 1})
    await sim.client.post("/_sim/momo/orders/HS0001/pay")
    assert len(sim.merchant.received) == 2
    await sim.client.put("/_sim/momo/faults", json={"ipn_drop": True})
    await sim.create("HS0003")
    dropped = (await sim.client.post("/_sim/momo/orders/HS0003/pay")).json()
    assert dropped["delivered"] is False and len(sim.merchant.received) == 2
    await sim.client.put("/_sim/momo/faults", json={"ipn_out_of_order": True})
    await sim.create("HS0004")
    await sim.client.post("/_sim/momo/orders/HS0004/pay")
    assert [ipn["resultCode"] for ipn in sim.merchant.received[2:]] == [0, 1000]  # a stale one after the result
    assert all(ipn_is_signed(ipn) for ipn in sim.merchant.received)
    assert (await sim.client.put("/_sim/momo/faults", json={"ipn_drop": "yes"})).status_code == 422
    assert (await sim.client.delete("/_sim/momo/faults")).json()["ipn_drop"] is False
