"""payOS end to end, in process and without a browser: the gateway creates a payment link at the payOS
simulator, the citizen's transfer lands, the simulator's webhook reaches the gateway and settles the
payment, the portal hears of it; and a refund of a payOS payment is refused, as payOS has no refund API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from adapters.payos.settings import PayOSSettings
from adapters.vnpay.settings import VNPaySettings
from gateway.app import create_app
from gateway.auth import new_client
from gateway.clock import Clock
from gateway.settings import Settings
from simulators.payos import Merchant, SimulatorConfig
from simulators.payos import create_app as create_simulator
from tests.harness import GATEWAY, HASH_SECRET, SIMULATOR, TMN_CODE, ByHost, FakeDNS, LateASGI, Portal, payment_body
from tests.payos_wire import signed, vietqr

PAYOS = "http://payos.test"
CLIENT_ID = "payos-test-client"
API_KEY = "payos-test-api-key"
# Not the simulator's published key: production settings take it.
CHECKSUM_KEY = "payos-test-checksum-key-0000000000000000000000000000000000000001"
HEADERS = {"x-client-id": CLIENT_ID, "x-api-key": API_KEY}


@dataclass
class PayOSWorld:
    http: httpx.AsyncClient  # the portal's client to the gateway
    sim: httpx.AsyncClient  # the test's hand on the payOS simulator
    portal: Portal
    api_key: str
    app: Any
    clock: Clock

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    async def create_payment(self, **overrides: Any) -> dict[str, Any]:
        headers = {**self.auth(), "Idempotency-Key": str(uuid.uuid4())}
        r = await self.http.post("/v1/payments", json=payment_body(provider="payos", **overrides), headers=headers)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def link(self, payment: dict[str, Any]) -> dict[str, Any]:
        """The payment link at payOS, found as payOS names it (its id is the checkout URL's last part)."""
        link_id = httpx.URL(payment["checkout_url"]).path.rsplit("/", 1)[-1]
        r = await self.sim.get(f"/v2/payment-requests/{link_id}", headers=HEADERS)
        body = r.json()
        assert body["signature"] == signed(body["data"], CHECKSUM_KEY)
        return dict(body["data"])


@pytest.fixture
async def payos_world(clean_database: str) -> AsyncIterator[PayOSWorld]:
    settings = Settings(
        database_url=clean_database,
        public_base_url=GATEWAY,
        workers_enabled=False,
        log_json=True,
        webhook_retry_schedule_seconds=[5, 60, 300],
        webhook_allow_http=True,
        webhook_allowed_hosts=["portal.test"],
        providers={
            "vnpay": VNPaySettings(
                tmn_code=TMN_CODE,
                hash_secret=HASH_SECRET,  # type: ignore[arg-type]
                payment_url=f"{SIMULATOR}/paymentv2/vpcpay.html",
                api_url=f"{SIMULATOR}/merchant_webapi/api/transaction",
            ),
            "payos": PayOSSettings(
                client_id=CLIENT_ID,
                api_key=API_KEY,  # type: ignore[arg-type]
                checksum_key=CHECKSUM_KEY,  # type: ignore[arg-type]
                api_url=PAYOS,
            ),
        },
    )
    portal = Portal()
    clock = Clock()
    gateway_proxy = LateASGI()
    merchant = Merchant(CLIENT_ID, API_KEY, CHECKSUM_KEY, webhook_url=f"{GATEWAY}/callbacks/payos/ipn")
    sim_app = create_simulator(
        SimulatorConfig(merchants=[merchant], public_url=PAYOS, webhook_retry_intervals=()),
        webhook_transport=httpx.ASGITransport(app=gateway_proxy),
    )
    app = create_app(
        settings,
        clock=clock,
        provider_transport=ByHost({"payos.test": httpx.ASGITransport(app=sim_app)}),
        webhook_transport=httpx.MockTransport(portal.handler),
        webhook_resolver=FakeDNS().resolve,
    )
    gateway_proxy.target = app
    async with (
        app.lifespan(),
        sim_app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as http,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=sim_app), base_url=PAYOS) as sim,
    ):
        async with app.state.sessionmaker() as session:
            client, key = new_client("Cổng DVC tỉnh", clock.now(), "http://portal.test/hooks")
            session.add(client)
            await session.commit()
        yield PayOSWorld(http=http, sim=sim, portal=portal, api_key=key, app=app, clock=clock)


@pytest.mark.anyio
async def test_a_payos_payment_is_paid_by_vietqr_and_its_webhook_settles_it(payos_world: PayOSWorld) -> None:
    w = payos_world
    payment = await w.create_payment()
    assert payment["status"] == "pending"
    link = await w.link(payment)
    assert (link["amount"], link["status"]) == (payment["amount"], "PENDING")
    qr = vietqr(payment["qr_code"])
    assert qr["amount"] == payment["amount"]

    paid = await w.sim.post(f"/_sim/payos/payment-requests/{link['orderCode']}/pay")
    webhook = paid.json()["webhook"]
    assert (webhook["http_status"], webhook["acknowledged"]) == (200, True)

    r = await w.http.get(f"/v1/payments/{payment['id']}", headers=w.auth())
    assert r.json()["status"] == "succeeded"
    assert await w.app.state.dispatcher.run_once() >= 1
    assert [e["type"] for e in w.portal.events()] == ["payment.succeeded"]


@pytest.mark.anyio
async def test_a_webhook_the_gateway_cannot_verify_is_answered_yet_changes_nothing(payos_world: PayOSWorld) -> None:
    w = payos_world
    payment = await w.create_payment()
    link = await w.link(payment)
    data = {"orderCode": link["orderCode"], "amount": link["amount"], "code": "00"}
    forged = {"code": "00", "desc": "success", "success": True, "data": data, "signature": "0" * 64}
    r = await w.http.post("/callbacks/payos/ipn", json=forged)
    assert r.status_code == 200  # payOS must not send a forgery again; nothing else is learnt from it
    assert (await w.http.get(f"/v1/payments/{payment['id']}", headers=w.auth())).json()["status"] == "pending"


@pytest.mark.anyio
async def test_a_refund_of_a_payos_payment_is_refused_as_payos_has_no_refund_api(payos_world: PayOSWorld) -> None:
    w = payos_world
    payment = await w.create_payment()
    link = await w.link(payment)
    await w.sim.post(f"/_sim/payos/payment-requests/{link['orderCode']}/pay")
    r = await w.http.post(
        f"/v1/payments/{payment['id']}/refunds",
        json={"reason": "Hoàn phí nộp thừa"},
        headers={**w.auth(), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/refund-not-offered") and problem["provider"] == "payos"
    assert "has no refund API" in problem["detail"] and "another way" in problem["detail"]
    listed = await w.http.get(f"/v1/payments/{payment['id']}/refunds", headers=w.auth())
    assert listed.json() == []  # nothing reserved


@pytest.mark.anyio
async def test_a_payment_whose_webhook_was_lost_is_resolved_by_asking_payos(payos_world: PayOSWorld) -> None:
    w = payos_world
    payment = await w.create_payment()
    link = await w.link(payment)
    assert (await w.sim.put("/_sim/payos/faults", json={"webhook_drop": True})).status_code == 200
    paid = await w.sim.post(f"/_sim/payos/payment-requests/{link['orderCode']}/pay")
    assert paid.json()["webhook"]["dropped"] is True
    assert (await w.http.get(f"/v1/payments/{payment['id']}", headers=w.auth())).json()["status"] == "pending"
    w.clock.advance(timedelta(seconds=901))
    assert await w.app.state.resolver.run_once() == 1
    assert (await w.http.get(f"/v1/payments/{payment['id']}", headers=w.auth())).json()["status"] == "succeeded"
    events = (await w.http.get(f"/v1/payments/{payment['id']}/events", headers=w.auth())).json()
    assert events[-1]["cause"] == "query"


@pytest.mark.anyio
async def test_payos_confirms_the_gateways_webhook_url(payos_world: PayOSWorld) -> None:
    """payOS tests a URL with a webhook for an order the gateway never made: a 2xx lets it register."""
    w = payos_world
    url = f"{GATEWAY}/callbacks/payos/ipn"
    r = await w.sim.post("/confirm-webhook", json={"webhookUrl": url}, headers=HEADERS)
    assert (r.status_code, r.json()["code"], r.json()["data"]["webhookUrl"]) == (200, "00", url)


@pytest.mark.anyio
async def test_duplicated_webhooks_credit_once(payos_world: PayOSWorld) -> None:
    w = payos_world
    payment = await w.create_payment()
    link = await w.link(payment)
    assert (await w.sim.put("/_sim/payos/faults", json={"webhook_duplicate": 2})).status_code == 200
    await w.sim.post(f"/_sim/payos/payment-requests/{link['orderCode']}/pay")
    r = await w.http.get(f"/v1/payments/{payment['id']}", headers=w.auth())
    assert r.json()["status"] == "succeeded"
    assert await w.app.state.dispatcher.run_once() >= 1
    assert [e["type"] for e in w.portal.events()] == ["payment.succeeded"]
