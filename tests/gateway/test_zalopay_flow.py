"""ZaloPay end to end, in process: the gateway creates the order at the ZaloPay simulator, the citizen pays,
the simulator's callback reaches the gateway, and refunds and queries go back to the simulator."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.vnpay.settings import VNPaySettings
from adapters.zalopay.settings import ZaloPaySettings
from contracts.providers import ProviderOutcome, TransactionRef
from gateway.app import create_app
from gateway.clock import Clock
from gateway.settings import Settings
from simulators.vnpay import Merchant, SimulatorConfig
from simulators.vnpay import create_app as create_vnpay
from simulators.zalopay import App
from simulators.zalopay import SimulatorConfig as ZaloPayConfig
from simulators.zalopay import create_app as create_zalopay
from simulators.zalopay.simulator_state import simulator_of
from simulators.zalopay.store import Order
from tests.harness import GATEWAY, HASH_SECRET, SIMULATOR, TMN_CODE, ByHost, FakeDNS, LateASGI, Portal, World

pytestmark = pytest.mark.anyio

ZALOPAY = "http://zalopay.test"
APP_ID = 2620
KEY1 = "ZPTESTKEY1000000000000000000001"  # not the sandbox's: production settings take them
KEY2 = "ZPTESTKEY2000000000000000000002"


@pytest.fixture
def settings(clean_database: str) -> Settings:
    return Settings(
        database_url=clean_database,
        public_base_url=GATEWAY,
        workers_enabled=False,
        log_json=True,
        webhook_allow_http=True,
        webhook_allowed_hosts=["portal.test"],
        receipt_webhooks_enabled=False,  # one event per payment outcome, as these tests count them
        providers={
            "vnpay": VNPaySettings(
                tmn_code=TMN_CODE,
                hash_secret=HASH_SECRET,  # type: ignore[arg-type]
                payment_url=f"{SIMULATOR}/paymentv2/vpcpay.html",
                api_url=f"{SIMULATOR}/merchant_webapi/api/transaction",
            ),
            "zalopay": ZaloPaySettings(app_id=APP_ID, key1=KEY1, key2=KEY2, api_url=ZALOPAY),  # type: ignore[arg-type]
        },
    )


@dataclass
class ZaloPayWorld:
    world: World
    zalopay: httpx.AsyncClient  # a browser / test driver talking to the ZaloPay simulator
    zalopay_app: Any

    def order(self, payment: dict[str, Any]) -> Order:
        token = httpx.URL(payment["checkout_url"]).params["order"]
        return simulator_of(self.zalopay_app.state).store.by_token[token]


@pytest.fixture
async def zworld(settings: Settings) -> AsyncIterator[ZaloPayWorld]:
    clock = Clock()
    gateway_proxy = LateASGI()
    to_gateway = httpx.ASGITransport(app=gateway_proxy)
    vnpay_app = create_vnpay(
        SimulatorConfig(
            merchants=[Merchant(TMN_CODE, HASH_SECRET, f"{GATEWAY}/callbacks/vnpay/ipn", "DVC Gateway (test)")],
            public_url=SIMULATOR,
            ipn_retry_intervals=(),
        ),
        ipn_transport=to_gateway,
    )
    zalopay_app = create_zalopay(
        ZaloPayConfig(
            apps=[App(APP_ID, KEY1, KEY2, name="DVC Gateway (test)")], public_url=ZALOPAY, callback_retry_intervals=()
        ),
        callback_transport=to_gateway,
    )
    routes: dict[str, httpx.AsyncBaseTransport] = {
        "vnpay.test": httpx.ASGITransport(app=vnpay_app),
        "zalopay.test": httpx.ASGITransport(app=zalopay_app),
    }
    portal = Portal()
    app = create_app(
        settings,
        clock=clock,
        provider_transport=ByHost(routes),
        webhook_transport=httpx.MockTransport(portal.handler),
        webhook_resolver=FakeDNS().resolve,
    )
    gateway_proxy.target = app
    async with (
        app.lifespan(),
        vnpay_app.lifespan(),
        zalopay_app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as http,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=vnpay_app), base_url=SIMULATOR) as sim,
        httpx.AsyncClient(transport=routes["zalopay.test"], base_url=ZALOPAY) as zalopay,
    ):
        world = World(app=app, sim_app=vnpay_app, http=http, sim=sim, portal=portal, clock=clock, vnpay=None)  # type: ignore[arg-type]
        world.client, world.api_key = await world.add_client()
        yield ZaloPayWorld(world, zalopay, zalopay_app)


async def _payment(z: ZaloPayWorld) -> dict[str, Any]:
    from tests.harness import payment_body

    r = await z.world.create_payment(payment_body(provider="zalopay"))
    assert r.status_code == 201, r.text
    return r.json()


async def _pay(z: ZaloPayWorld, payment: dict[str, Any], outcome: str = "success") -> dict[str, Any]:
    order = z.order(payment)
    r = await z.zalopay.post(f"/_sim/zalopay/orders/{order.app_trans_id}/pay", json={"outcome": outcome})
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_zalopay_order_is_created_with_the_gateways_urls(zworld: ZaloPayWorld) -> None:
    payment = await _payment(zworld)
    order = zworld.order(payment)
    assert payment["checkout_url"].startswith(f"{ZALOPAY}/pay?order=")
    assert payment["qr_code"].startswith("000201") and "vn.zalopay" in payment["qr_code"]
    assert order.amount == payment["amount"] == 35000
    assert order.callback_url == f"{GATEWAY}/callbacks/zalopay/ipn"
    assert order.redirect_url == f"{GATEWAY}/callbacks/zalopay/return"
    assert order.app_trans_id[:7].endswith("_") and len(order.app_trans_id) <= 40
    page = await zworld.zalopay.get(httpx.URL(payment["checkout_url"]).raw_path.decode())
    assert page.status_code == 200 and "35,000 VND" in page.text


async def test_paid_through_the_callback(zworld: ZaloPayWorld) -> None:
    payment = await _payment(zworld)
    settled = await _pay(zworld, payment)
    assert settled["callback"]["return_code"] == 1
    paid = await zworld.world.get_payment(payment["id"])
    assert paid["status"] == "succeeded" and paid["paid_at"] is not None
    again = await zworld.zalopay.post(f"/_sim/zalopay/orders/{zworld.order(payment).app_trans_id}/callback")
    assert again.json()["return_code"] == 1  # already final: still success to ZaloPay
    await zworld.world.run_dispatcher()
    assert [e["type"] for e in zworld.world.portal.events()] == ["payment.succeeded"]


async def test_a_forged_callback_is_answered_minus_one(zworld: ZaloPayWorld) -> None:
    payment = await _payment(zworld)
    order = zworld.order(payment)
    order.zp_trans_id, order.server_time = 1, 1
    forged = {"data": order.callback_data(), "mac": "0" * 64, "type": 1}
    r = await zworld.world.http.post("/callbacks/zalopay/ipn", json=forged)
    assert (r.status_code, r.json()["return_code"]) == (200, -1)
    assert (await zworld.world.get_payment(payment["id"]))["status"] == "pending"


async def test_a_cancelled_order_is_learnt_by_query(zworld: ZaloPayWorld) -> None:
    payment = await _payment(zworld)
    settled = await _pay(zworld, payment, "cancel")
    assert settled["callback"] is None  # ZaloPay calls back only for a paid order
    provider = zworld.world.app.state.providers.get("zalopay")

    order = zworld.order(payment)
    result = await provider.query(TransactionRef(order.app_trans_id, datetime.now(UTC)))
    assert result.outcome is ProviderOutcome.FAILED


async def _refund(z: ZaloPayWorld, payment_id: str, amount: int) -> dict[str, Any]:
    r = await z.world.http.post(
        f"/v1/payments/{payment_id}/refunds",
        json={"reason": "Hoàn phí", "amount": amount},
        headers={**z.world.auth(), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_refund_in_progress_is_settled_by_query_refund(zworld: ZaloPayWorld) -> None:
    payment = await _payment(zworld)
    await _pay(zworld, payment)
    first = await _refund(zworld, payment["id"], 10000)
    assert first["status"] == "processing"  # ZaloPay answers 3 and completes the refund later
    zworld.world.clock.advance(timedelta(hours=1))
    await zworld.world.run_resolver()  # /v2/query_refund with the same m_refund_id answers 1
    assert (await zworld.world.get_payment(payment["id"]))["refunded_amount"] == 10000
    r = await zworld.zalopay.put("/_sim/zalopay/faults", json={"refund_pending": False})
    assert r.status_code == 200, r.text
    rest = await _refund(zworld, payment["id"], 25000)
    assert rest["status"] == "succeeded"
    assert zworld.order(payment).refunded == 35000
    refunds = simulator_of(zworld.zalopay_app.state).store.refunds
    assert [m_refund_id.split("_")[1] for _, m_refund_id in refunds] == [str(APP_ID)] * 2
    assert (await zworld.world.get_payment(payment["id"]))["refunded_amount"] == 35000


async def test_the_citizen_pays_on_the_page_and_comes_back_through_the_gateway(zworld: ZaloPayWorld) -> None:
    payment = await _payment(zworld)
    token = httpx.URL(payment["checkout_url"]).params["order"]
    paid = await zworld.zalopay.post(f"/pay/{token}", data={"action": "pay"})
    assert paid.status_code == 303
    back = httpx.URL(paid.headers["location"])
    assert f"{back.scheme}://{back.host}{back.path}" == f"{GATEWAY}/callbacks/zalopay/return"
    returned = await zworld.world.http.get(back.raw_path.decode())
    assert returned.status_code in (302, 303), returned.text  # on to the portal, not the neutral page
    assert f"payment_id={payment['id']}" in returned.headers["location"]
    await simulator_of(zworld.zalopay_app.state).callbacks.drain()
    assert (await zworld.world.get_payment(payment["id"]))["status"] == "succeeded"


async def test_a_return_with_a_forged_checksum_gets_the_neutral_page(zworld: ZaloPayWorld) -> None:
    payment = await _payment(zworld)
    reference = zworld.order(payment).app_trans_id
    query = f"appid={APP_ID}&apptransid={reference}&pmcid=38&bankcode=&amount=35000&discountamount=0&status=1"
    r = await zworld.world.http.get(f"/callbacks/zalopay/return?{query}&checksum={'0' * 64}")
    assert r.status_code == 400


async def test_duplicated_and_out_of_order_callbacks_credit_once(zworld: ZaloPayWorld) -> None:
    first, second = await _payment(zworld), await _payment(zworld)
    faults = {"callback_duplicate": 2, "callback_out_of_order": True}
    assert (await zworld.zalopay.put("/_sim/zalopay/faults", json=faults)).status_code == 200
    await _pay(zworld, first)  # held back: it goes out after the next order's, each sent three times
    assert (await zworld.world.get_payment(first["id"]))["status"] == "pending"
    await _pay(zworld, second)
    for payment in (first, second):
        assert (await zworld.world.get_payment(payment["id"]))["status"] == "succeeded"
    await zworld.world.run_dispatcher()
    assert [e["type"] for e in zworld.world.portal.events()] == ["payment.succeeded"] * 2
