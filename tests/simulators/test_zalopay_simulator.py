"""The ZaloPay simulator speaks ZaloPay's Open API v2: checked here with the test's own HMACs, never the
adapter's."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from simulators.zalopay import DEV_APP, SimulatorConfig, create_app
from simulators.zalopay import signing as sim_signing
from simulators.zalopay.qr import crc16_ccitt
from simulators.zalopay.simulator_state import simulator_of
from simulators.zalopay.store import Order
from tests.zalopay_vectors import CALLBACK_DATA, CALLBACK_KEY2, CALLBACK_MAC

pytestmark = pytest.mark.anyio

HOST = "http://zalopay.test"
KEY1, KEY2 = DEV_APP.key1, DEV_APP.key2
CALLBACK_URL = "http://merchant.test/callback"


def _mac(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def _today() -> str:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%y%m%d")


@dataclass
class Merchant:
    """Answers each callback with the next of `answers` (the last one repeats), recording them."""

    answers: list[int] = field(default_factory=lambda: [1])
    received: list[dict[str, Any]] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.received.append(json.loads(request.content))
        code = self.answers[min(len(self.received), len(self.answers)) - 1]
        return httpx.Response(200, json={"return_code": code, "return_message": "x"})


@dataclass
class Sim:
    app: Any
    client: httpx.AsyncClient
    merchant: Merchant

    async def drain(self) -> None:
        await simulator_of(self.app.state).callbacks.drain()


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    merchant = Merchant()
    app = create_app(
        SimulatorConfig(apps=[DEV_APP], public_url=HOST, callback_retry_intervals=(0, 0, 0)),
        callback_transport=httpx.MockTransport(merchant.handler),
    )
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as client:
        yield Sim(app, client, merchant)


def order_fields(app_trans_id: str | None = None, amount: str = "35000", **changes: str) -> dict[str, str]:
    fields = {
        "app_id": "2553",
        "app_user": "dvc-gateway",
        "app_trans_id": app_trans_id or f"{_today()}_{secrets.token_hex(8)}",
        "app_time": "1795928400000",
        "amount": amount,
        "item": "[]",
        "embed_data": json.dumps({"redirecturl": "http://gw.test/return"}),
        "description": "Le phi ho so",
        "callback_url": CALLBACK_URL,
        **changes,
    }
    order = ["app_id", "app_trans_id", "app_user", "amount", "app_time", "embed_data", "item"]
    fields.setdefault("mac", _mac(KEY1, "|".join(fields[name] for name in order)))
    return fields


async def create(sim: Sim, fields: dict[str, str], how: str = "form") -> dict[str, Any]:
    if how == "json":
        r = await sim.client.post("/v2/create", json={**fields, "app_id": int(fields["app_id"])})
    elif how == "query":
        r = await sim.client.post("/v2/create", params=fields)
    else:
        r = await sim.client.post("/v2/create", data=fields)
    assert r.status_code == 200, r.text
    return r.json()


async def paid_order(sim: Sim) -> tuple[dict[str, str], dict[str, Any]]:
    fields = order_fields()
    await create(sim, fields)
    r = await sim.client.post(f"/_sim/zalopay/orders/{fields['app_trans_id']}/pay")
    assert r.status_code == 200, r.text
    return fields, r.json()


def test_the_simulator_signs_zalopays_published_callback_example_as_published() -> None:
    example = Order(
        app=DEV_APP,
        app_trans_id="200904_2553_1598435687208",
        app_user="demo",
        app_time=1599189392817,
        amount=10000,
        item='[{"itemid":"knb","itemname":"kim nguyen bao","itemprice":198400,"itemquantity":1}]',
        embed_data='{"merchantinfo":"embeddata123","promotioninfo":""}',
        description="",
        callback_url="",
        redirect_url="",
        expires_at_ms=0,
        zp_trans_id=200904000000389,
        server_time=1599189413498,
    )
    assert example.callback_data() == CALLBACK_DATA
    assert sim_signing.mac(CALLBACK_KEY2, CALLBACK_DATA) == CALLBACK_MAC == sim_signing.mac(KEY2, CALLBACK_DATA)


@pytest.mark.parametrize("how", ["form", "json", "query"])
async def test_an_order_is_created_from_each_encoding(sim: Sim, how: str) -> None:
    answer = await create(sim, order_fields(), how)
    assert (answer["return_code"], answer["sub_return_code"]) == (1, 1)
    assert answer["order_url"].startswith(f"{HOST}/pay?order=")
    assert answer["zp_trans_token"] == answer["order_token"]
    qr = answer["qr_code"]
    assert qr.startswith("000201") and "5303704" in qr and "540535000" in qr
    assert qr[-4:] == f"{crc16_ccitt(qr[:-4].encode()):04X}"


@pytest.mark.parametrize(
    ("name", "fields", "sub_code"),
    [
        ("wrong mac", order_fields(mac="0" * 64), -402),
        ("mac of key2", order_fields(mac=_mac(KEY2, "x")), -402),
        ("unknown app", order_fields(app_id="9999"), -402),
        ("yesterday's date", order_fields(app_trans_id="200101_000001"), -401),
        ("no date", order_fields(app_trans_id="ABC_000001"), -401),
        ("a fractional amount", order_fields(amount="35000.5"), -401),
        ("a negative amount", order_fields(amount="-35000"), -401),
        ("embed_data not an object", order_fields(embed_data="[]"), -401),
    ],
)
async def test_a_bad_create_is_refused(sim: Sim, name: str, fields: dict[str, str], sub_code: int) -> None:
    answer = await create(sim, fields)
    assert (answer["return_code"], answer["sub_return_code"]) == (2, sub_code), name


async def test_a_repeated_app_trans_id_is_refused(sim: Sim) -> None:
    fields = order_fields()
    assert (await create(sim, fields))["return_code"] == 1
    again = await create(sim, fields)
    assert (again["return_code"], again["sub_return_code"]) == (2, -68)


async def test_paying_sends_a_callback_signed_with_key2(sim: Sim) -> None:
    fields, settled = await paid_order(sim)
    assert settled["callback"]["return_code"] == 1 and settled["status"] == "paid"
    [callback] = sim.merchant.received
    assert callback["type"] == 1
    assert callback["mac"] == _mac(KEY2, callback["data"])
    data = json.loads(callback["data"])
    assert list(data) == [
        "app_id",
        "app_trans_id",
        "app_time",
        "app_user",
        "amount",
        "embed_data",
        "item",
        "zp_trans_id",
        "server_time",
        "channel",
        "merchant_user_id",
        "user_fee_amount",
        "discount_amount",
    ]
    assert (data["app_trans_id"], data["amount"], data["app_id"]) == (fields["app_trans_id"], 35000, 2553)
    assert data["zp_trans_id"] == settled["zp_trans_id"]


async def test_a_callback_answered_0_is_sent_again_at_most_three_times(sim: Sim) -> None:
    sim.merchant.answers = [0]
    await paid_order(sim)
    await sim.drain()
    assert len(sim.merchant.received) == 4


async def test_a_callback_answered_0_then_1_stops(sim: Sim) -> None:
    sim.merchant.answers = [0, 1]
    await paid_order(sim)
    await sim.drain()
    assert len(sim.merchant.received) == 2


async def test_a_callback_answered_minus_1_is_not_sent_again(sim: Sim) -> None:
    sim.merchant.answers = [-1]
    await paid_order(sim)
    await sim.drain()
    assert len(sim.merchant.received) == 1


async def test_query_reports_unpaid_then_paid(sim: Sim) -> None:
    fields = order_fields()
    await create(sim, fields)

    async def query(app_trans_id: str) -> dict[str, Any]:
        mac = _mac(KEY1, f"2553|{app_trans_id}|{KEY1}")
        r = await sim.client.post("/v2/query", data={"app_id": "2553", "app_trans_id": app_trans_id, "mac": mac})
        return r.json()

    assert (await query(fields["app_trans_id"]))["return_code"] == 3
    await sim.client.post(f"/_sim/zalopay/orders/{fields['app_trans_id']}/pay")
    paid = await query(fields["app_trans_id"])
    assert (paid["return_code"], paid["amount"]) == (1, 35000) and isinstance(paid["zp_trans_id"], int)
    assert (await query(f"{_today()}_nothing"))["return_code"] == 2
    bad = await sim.client.post(
        "/v2/query", data={"app_id": "2553", "app_trans_id": fields["app_trans_id"], "mac": "0" * 64}
    )
    assert bad.json()["sub_return_code"] == -402


async def test_refunds_in_part_never_exceed_the_payment(sim: Sim) -> None:
    _, settled = await paid_order(sim)

    async def refund(m_refund_id: str, amount: int) -> dict[str, Any]:
        body = {
            "app_id": "2553",
            "m_refund_id": m_refund_id,
            "zp_trans_id": str(settled["zp_trans_id"]),
            "amount": str(amount),
            "timestamp": "1795928400000",
            "description": "Hoan phi",
        }
        text = "|".join(body[n] for n in ("app_id", "zp_trans_id", "amount", "description", "timestamp"))
        body["mac"] = _mac(KEY1, text)
        return (await sim.client.post("/v2/refund", data=body)).json()

    first = await refund(f"{_today()}_2553_a1", 10000)
    assert first["return_code"] == 3 and isinstance(first["refund_id"], int)
    assert (await refund(f"{_today()}_2553_a1", 10000))["refund_id"] == first["refund_id"]  # asked again
    assert (await refund(f"{_today()}_2553_a2", 25001))["sub_return_code"] == -13
    assert (await refund(f"{_today()}_2553_a3", 25000))["return_code"] == 3
    assert (await refund("not_the_shape", 1))["sub_return_code"] == -401
    # A new m_refund_id begins with the day it is sent (GMT+7): yesterday's date is refused.
    assert (await refund("010101_2553_a4", 1))["sub_return_code"] == -401
    status = {"app_id": "2553", "m_refund_id": f"{_today()}_2553_a1", "timestamp": "1795928400001"}
    status["mac"] = _mac(KEY1, "|".join(status.values()))
    assert (await sim.client.post("/v2/query_refund", data=status)).json()["return_code"] == 1


async def test_the_page_pays_and_sends_the_browser_back_signed(sim: Sim) -> None:
    answer = await create(sim, order_fields())
    url = httpx.URL(answer["order_url"])
    page = await sim.client.get(url.path, params=url.params)
    assert page.status_code == 200 and "35,000 VND" in page.text
    token = url.params["order"]
    r = await sim.client.post(f"/pay/{token}", data={"action": "pay"})
    assert r.status_code == 303
    back = dict(parse_qsl(urlsplit(r.headers["location"]).query, keep_blank_values=True))
    assert back["status"] == "1"
    names = ("appid", "apptransid", "pmcid", "bankcode", "amount", "discountamount", "status")
    assert back["checksum"] == _mac(KEY2, "|".join(back[n] for n in names))
    await sim.drain()
    assert len(sim.merchant.received) == 1


async def test_faults_fail_the_api_and_duplicate_or_drop_callbacks(sim: Sim) -> None:
    r = await sim.client.put("/_sim/zalopay/faults", json={"api_http_5xx": 1, "callback_duplicate": 1})
    assert r.status_code == 200, r.text
    assert (await sim.client.post("/v2/create", data=order_fields())).status_code == 503
    await paid_order(sim)
    assert len(sim.merchant.received) == 2
    await sim.client.put("/_sim/zalopay/faults", json={"callback_drop": True})
    await paid_order(sim)
    await sim.drain()
    assert len(sim.merchant.received) == 2
    assert (await sim.client.put("/_sim/zalopay/faults", json={"callback_drop": "yes"})).status_code == 422


async def test_out_of_order_sends_a_callback_after_the_next_one(sim: Sim) -> None:
    await sim.client.put("/_sim/zalopay/faults", json={"callback_out_of_order": True})
    first, _ = await paid_order(sim)
    assert sim.merchant.received == []
    second, _ = await paid_order(sim)
    order = [json.loads(c["data"])["app_trans_id"] for c in sim.merchant.received]
    assert order == [second["app_trans_id"], first["app_trans_id"]]


async def test_the_control_api_settles_a_failure_without_a_callback(sim: Sim) -> None:
    fields = order_fields()
    await create(sim, fields)
    r = await sim.client.post(f"/_sim/zalopay/orders/{fields['app_trans_id']}/pay", json={"outcome": "cancel"})
    assert (r.status_code, r.json()["status"], r.json()["callback"]) == (200, "cancelled", None)
    assert (await sim.client.post(f"/_sim/zalopay/orders/{fields['app_trans_id']}/pay")).status_code == 409
    assert (await sim.client.post("/_sim/zalopay/orders/nothing/pay")).status_code == 404
    assert sim.merchant.received == []


async def test_the_index_lists_the_apps_and_never_their_keys(sim: Sim) -> None:
    r = await sim.client.get("/")
    assert r.status_code == 200 and "2553" in r.text
    assert KEY1 not in r.text and KEY2 not in r.text
