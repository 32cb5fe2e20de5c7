"""A MoMo payment through the whole gateway in process, on SQLite and PostgreSQL, with no browser: the
gateway calls the MoMo simulator (routed by host among the providers), the simulator posts its IPNs back
to the gateway, and a recording portal gets the webhooks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from adapters.momo.settings import MoMoSettings
from adapters.vnpay.settings import VNPaySettings
from gateway.app import create_app
from gateway.auth import new_client
from gateway.clock import Clock
from gateway.settings import Settings
from simulators.momo import Merchant as MoMoMerchant
from simulators.momo import SimulatorConfig as MoMoSimulatorConfig
from simulators.momo import create_app as create_momo_simulator
from simulators.vnpay import Merchant, SimulatorConfig
from simulators.vnpay import create_app as create_vnpay_simulator
from tests.harness import (
    GATEWAY,
    HASH_SECRET,
    SIMULATOR,
    TMN_CODE,
    ByHost,
    FakeDNS,
    LateASGI,
    Portal,
    payment_body,
)

MOMO = "http://momo.test"
PARTNER = MoMoMerchant("DVCGWMOMO01", "DVCGWACCESSKEY01", "DVCGWTESTSECRETMOMO0000000000001", "DVC Gateway (test)")


@dataclass
class MoMoWorld:
    http: httpx.AsyncClient  # the portal's client to the gateway
    sim: httpx.AsyncClient  # the test driving the MoMo simulator
    portal: Portal
    api_key: str
    app: Any

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    async def create_payment(self, amount: int = 35000) -> dict[str, Any]:
        lines = [{"kind": "charge", "code": "LP-HT", "description": "Lệ phí hồ sơ", "amount": amount}]
        r = await self.http.post(
            "/v1/payments",
            json=payment_body(provider="momo", fee_lines=lines),
            headers={**self.auth(), "Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def get_payment(self, payment_id: str) -> dict[str, Any]:
        r = await self.http.get(f"/v1/payments/{payment_id}", headers=self.auth())
        assert r.status_code == 200, r.text
        return dict(r.json())


@pytest.fixture
async def momo_world(clean_database: str) -> AsyncIterator[MoMoWorld]:
    settings = Settings(
        database_url=clean_database,
        public_base_url=GATEWAY,
        workers_enabled=False,
        log_json=True,
        webhook_allow_http=True,
        webhook_allowed_hosts=["portal.test"],
        providers={
            "vnpay": VNPaySettings(
                tmn_code=TMN_CODE,
                hash_secret=HASH_SECRET,  # type: ignore[arg-type]
                payment_url=f"{SIMULATOR}/paymentv2/vpcpay.html",
                api_url=f"{SIMULATOR}/merchant_webapi/api/transaction",
            ),
            "momo": MoMoSettings(
                partner_code=PARTNER.partner_code,
                access_key=PARTNER.access_key,
                secret_key=PARTNER.secret_key,  # type: ignore[arg-type]
                api_url=MOMO,
            ),
        },
    )
    portal = Portal()
    gateway_proxy = LateASGI()
    to_gateway = httpx.ASGITransport(app=gateway_proxy)
    vnpay_app = create_vnpay_simulator(
        SimulatorConfig(
            merchants=[Merchant(TMN_CODE, HASH_SECRET, f"{GATEWAY}/callbacks/vnpay/ipn")], public_url=SIMULATOR
        ),
        ipn_transport=to_gateway,
    )
    # No scheduled re-delivery: each test sends what it means to, and nothing runs after it.
    momo_app = create_momo_simulator(
        MoMoSimulatorConfig(merchants=[PARTNER], public_url=MOMO, ipn_retry_intervals=()), ipn_transport=to_gateway
    )
    app = create_app(
        settings,
        clock=Clock(),
        provider_transport=ByHost(
            {"vnpay.test": httpx.ASGITransport(app=vnpay_app), "momo.test": httpx.ASGITransport(app=momo_app)}
        ),
        webhook_transport=httpx.MockTransport(portal.handler),
        webhook_resolver=FakeDNS().resolve,
    )
    gateway_proxy.target = app
    async with (
        app.lifespan(),
        vnpay_app.lifespan(),
        momo_app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as http,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=momo_app), base_url=MOMO) as sim,
    ):
        async with app.state.sessionmaker() as session:
            client, key = new_client("Cổng DVC tỉnh", Clock().now(), "http://portal.test/hooks")
            session.add(client)
            await session.commit()
        yield MoMoWorld(http=http, sim=sim, portal=portal, api_key=key, app=app)


async def _reference(world: MoMoWorld, payment: dict[str, Any]) -> str:
    """The orderId the gateway gave MoMo, read from MoMo's payment page link as a person would follow it."""
    token = httpx.URL(payment["checkout_url"]).params["t"]
    page = await world.sim.get("/v2/gateway/pay", params={"t": token})
    assert page.status_code == 200
    marker = "Đơn hàng "
    return page.text.split(marker, 1)[1].split("<", 1)[0]


@pytest.mark.anyio
async def test_a_momo_payment_is_paid_through_the_simulator_and_refunded(momo_world: MoMoWorld) -> None:
    payment = await momo_world.create_payment()
    assert payment["status"] == "pending"
    assert payment["checkout_url"].startswith(f"{MOMO}/v2/gateway/pay?t=")
    assert payment["qr_code"].startswith("momo://") and payment["deeplink"].startswith("momo://")
    order_id = await _reference(momo_world, payment)

    paid = await momo_world.sim.post(f"/_sim/momo/orders/{order_id}/pay")
    assert paid.status_code == 200, paid.text
    sent = paid.json()
    assert sent["notification"]["resultCode"] == 0
    assert sent["notification"]["amount"] == payment["amount"]
    assert sent["deliveries"][0]["http_status"] == 204
    assert sent["acknowledged"] is True
    assert (await momo_world.get_payment(payment["id"]))["status"] == "succeeded"

    # The same IPN again is already final: still 204, nothing changes.
    again = await momo_world.sim.post(f"/_sim/momo/orders/{order_id}/notify")
    assert again.json()["deliveries"][-1]["http_status"] == 204

    refund = await momo_world.http.post(
        f"/v1/payments/{payment['id']}/refunds",
        json={"amount": 12000, "reason": "Hoàn phí nộp thừa"},
        headers={**momo_world.auth(), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert refund.status_code == 201, refund.text
    assert refund.json()["status"] == "succeeded"
    state = (await momo_world.sim.get(f"/_sim/momo/orders/{order_id}")).json()
    assert [(r["amount"], r["resultCode"]) for r in state["refundTrans"]] == [(12000, 0)]


@pytest.mark.anyio
async def test_a_momo_payment_the_citizen_refuses_fails(momo_world: MoMoWorld) -> None:
    payment = await momo_world.create_payment()
    order_id = await _reference(momo_world, payment)
    refused = await momo_world.sim.post(f"/_sim/momo/orders/{order_id}/pay", json={"resultCode": 1006})
    assert refused.json()["deliveries"][0]["http_status"] == 204
    status = (await momo_world.get_payment(payment["id"]))["status"]
    assert status in {"failed", "cancelled"}


@pytest.mark.anyio
async def test_the_browser_return_from_momo_is_recognised(momo_world: MoMoWorld) -> None:
    payment = await momo_world.create_payment()
    token = httpx.URL(payment["checkout_url"]).params["t"]
    back = await momo_world.sim.post("/v2/gateway/pay", data={"t": token, "action": "pay"})
    assert back.status_code == 303
    location = httpx.URL(back.headers["location"])
    assert location.path == "/callbacks/momo/return"
    returned = await momo_world.http.get(location.path, params=location.params)
    # A signed return sends the citizen on to the portal; a forged one gets the neutral page (400).
    assert returned.status_code in (302, 303, 307), returned.text


@pytest.mark.anyio
async def test_an_amount_momo_does_not_take_is_refused_by_the_simulator(momo_world: MoMoWorld) -> None:
    lines = [{"kind": "charge", "code": "LP-HT", "description": "Lệ phí hồ sơ", "amount": 500}]
    r = await momo_world.http.post(
        "/v1/payments",
        json=payment_body(provider="momo", fee_lines=lines),
        headers={**momo_world.auth(), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 502, r.text


@pytest.mark.anyio
async def test_a_payment_whose_ipn_never_came_is_settled_by_the_query(momo_world: MoMoWorld) -> None:
    payment = await momo_world.create_payment()
    token = httpx.URL(payment["checkout_url"]).params["t"]
    await momo_world.sim.put("/_sim/momo/faults", json={"ipn_drop": True})
    back = await momo_world.sim.post("/v2/gateway/pay", data={"t": token, "action": "pay"})
    location = httpx.URL(back.headers["location"])
    await momo_world.http.get(location.path, params=location.params)  # the return makes the query due now
    assert (await momo_world.get_payment(payment["id"]))["status"] != "succeeded"
    assert await momo_world.app.state.resolver.run_once() >= 1
    assert (await momo_world.get_payment(payment["id"]))["status"] == "succeeded"


@pytest.mark.anyio
async def test_a_momo_link_left_unpaid_lapses_at_momo_and_the_query_ends_the_payment(
    momo_world: MoMoWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulators.momo import app as momo_app

    payment = await momo_world.create_payment()
    order_id = await _reference(momo_world, payment)
    assert (await momo_world.sim.get(f"/_sim/momo/orders/{order_id}")).json()["resultCode"] == 1000
    created = datetime.fromisoformat(payment["created_at"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(payment["expires_at"].replace("Z", "+00:00"))
    start = momo_app.now_ms()
    # The gateway sent orderExpireTime: once that many minutes have passed at MoMo, the link is 1005.
    monkeypatch.setattr(momo_app, "now_ms", lambda: start + int((expires - created).total_seconds() * 1000) + 61_000)
    assert (await momo_world.sim.get(f"/_sim/momo/orders/{order_id}")).json()["resultCode"] == 1005
    await momo_world.app.state.resolver.resolve(payment["id"])
    after = await momo_world.get_payment(payment["id"])
    assert after["status"] == "failed" and after["paid_at"] is None


@pytest.mark.anyio
async def test_notifications_another_delivery_cannot_fix_are_answered_204(momo_world: MoMoWorld) -> None:
    payment = await momo_world.create_payment()
    order_id = await _reference(momo_world, payment)
    sent = (await momo_world.sim.post(f"/_sim/momo/orders/{order_id}/pay")).json()["notification"]
    forged = {**sent, "amount": 1000}
    r = await momo_world.http.post("/callbacks/momo/ipn", json=forged)
    assert (r.status_code, r.content) == (204, b"")
    assert (await momo_world.get_payment(payment["id"]))["amount"] == payment["amount"]


@pytest.mark.anyio
async def test_duplicated_and_out_of_order_ipns_credit_once(momo_world: MoMoWorld) -> None:
    from sqlalchemy import func, select

    from gateway.db.models import WebhookEvent

    payment = await momo_world.create_payment()
    order_id = await _reference(momo_world, payment)
    # The paid IPN twice more, then a stale "in progress" one for the same order after them.
    faults = await momo_world.sim.put("/_sim/momo/faults", json={"ipn_duplicate": 2, "ipn_out_of_order": True})
    assert faults.status_code == 200, faults.text
    paid = await momo_world.sim.post(f"/_sim/momo/orders/{order_id}/pay")
    assert [d["http_status"] for d in paid.json()["deliveries"]] == [204, 204, 204, 204]
    assert (await momo_world.get_payment(payment["id"]))["status"] == "succeeded"
    async with momo_world.app.state.sessionmaker() as session:
        events = await session.scalar(
            select(func.count()).select_from(WebhookEvent).where(WebhookEvent.type == "payment.succeeded")
        )
    assert events == 1
