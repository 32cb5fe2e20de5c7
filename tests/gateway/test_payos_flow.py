"""payOS end to end, in process and without a browser: the gateway creates a payment link at the payOS
simulator, the citizen's transfer lands, the simulator's webhook reaches the gateway and settles the
payment, the portal hears of it; and a refund of a payOS payment is refused, as payOS has no refund API.

The browser return: payOS sends the citizen back with an unsigned query (code, id, cancel, status,
orderCode). The gateway believes none of it: orderCode only says which payment link to ask payOS about,
payOS's signed answer settles the payment, and the browser goes on to that payment's own return_url. A
forged query credits nothing; one naming no payment gets the neutral page and costs payOS no call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import select

from adapters.payos.settings import PayOSSettings
from adapters.vnpay.settings import VNPaySettings
from gateway.app import create_app
from gateway.auth import new_client
from gateway.clock import Clock
from gateway.db.models import ProviderNotification
from gateway.notifications import service as notification_service
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


@pytest.mark.anyio
async def test_out_of_order_webhooks_credit_once_and_the_final_state_stands(payos_world: PayOSWorld) -> None:
    w = payos_world
    first, second = await w.create_payment(), await w.create_payment()
    first_link, second_link = await w.link(first), await w.link(second)
    faults = {"webhook_duplicate": 1, "webhook_out_of_order": True}
    assert (await w.sim.put("/_sim/payos/faults", json=faults)).status_code == 200
    held = await w.sim.post(f"/_sim/payos/payment-requests/{first_link['orderCode']}/pay")
    assert held.json()["webhook"]["held"] is True
    assert (await status_of(w, first))["status"] == "pending"
    # Meanwhile the resolver asks payOS and settles the first payment from its signed answer.
    await w.app.state.resolver.resolve(first["id"])
    assert (await status_of(w, first))["status"] == "succeeded"
    # The second link's webhook goes out (twice), then the first's, late: neither credits anything again.
    await w.sim.post(f"/_sim/payos/payment-requests/{second_link['orderCode']}/pay")
    late = (await w.sim.get(f"/_sim/payos/payment-requests/{first_link['orderCode']}/webhooks")).json()
    assert late["acknowledged"] is True and [(a["kind"], a["http_status"]) for a in late["attempts"]] == [
        ("notify", 200)
    ]
    async with w.app.state.sessionmaker() as session:
        acks = await session.scalars(
            select(ProviderNotification.ack_code)
            .where(ProviderNotification.reference == str(first_link["orderCode"]))
            .order_by(ProviderNotification.id)
        )
        assert list(acks) == ["02"]  # the late webhook found the payment already final: nothing changed
    for payment in (first, second):
        after = await status_of(w, payment)
        assert (after["status"], after["amount"]) == ("succeeded", payment["amount"])
    await w.app.state.dispatcher.run_once()
    assert [e["type"] for e in w.portal.events()] == ["payment.succeeded"] * 2


# -- the browser return ----------------------------------------------------------------------------------


def back(link: dict, *, status: str, cancel: bool = False, **changes: object) -> str:
    query = {"code": "00", "id": link["id"], "cancel": str(cancel).lower(), "status": status}
    query["orderCode"] = link["orderCode"]
    query.update({k: str(v) for k, v in changes.items()})
    return "/callbacks/payos/return?" + urlencode(query)


async def status_of(w: PayOSWorld, payment: dict) -> dict:
    return (await w.http.get(f"/v1/payments/{payment['id']}", headers=w.auth())).json()


def redirected_to(r: httpx.Response, payment: dict) -> dict[str, str]:
    assert r.status_code in (302, 303), r.text
    location = urlsplit(r.headers["location"])
    portal = urlsplit(payment_body(provider="payos")["return_url"])  # the one the payment was created with
    assert (location.scheme, location.netloc, location.path) == (portal.scheme, portal.netloc, portal.path)
    return dict(parse_qsl(location.query))


@pytest.mark.anyio
async def test_a_forged_paid_return_for_an_unpaid_link_credits_nothing(payos_world: PayOSWorld) -> None:
    w = payos_world
    payment = await w.create_payment()
    link = await w.link(payment)
    r = await w.http.get(back(link, status="PAID"))
    assert redirected_to(r, payment)["status"] == "pending"  # what payOS says, not what the query said
    after = await status_of(w, payment)
    assert after["status"] == "pending" and after["paid_at"] is None
    assert await w.app.state.dispatcher.run_once() == 0 and w.portal.events() == []


@pytest.mark.anyio
async def test_a_paid_return_is_settled_from_payos_answer_when_the_webhook_is_lost(payos_world: PayOSWorld) -> None:
    w = payos_world
    payment = await w.create_payment()
    link = await w.link(payment)
    assert (await w.sim.put("/_sim/payos/faults", json={"webhook_drop": True})).status_code == 200
    await w.sim.post(f"/_sim/payos/payment-requests/{link['orderCode']}/pay")
    assert (await status_of(w, payment))["status"] == "pending"  # no webhook arrived
    r = await w.http.get(back(link, status="PAID"))
    query = redirected_to(r, payment)
    assert (query["payment_id"], query["status"]) == (payment["id"], "succeeded")
    assert (await status_of(w, payment))["status"] == "succeeded"
    again = await w.http.get(back(link, status="PAID"))  # a reload changes nothing
    assert redirected_to(again, payment)["status"] == "succeeded"
    await w.app.state.dispatcher.run_once()
    assert [e["type"] for e in w.portal.events()] == ["payment.succeeded"]


@pytest.mark.anyio
async def test_the_browser_back_from_the_simulators_page_reaches_the_portal(payos_world: PayOSWorld) -> None:
    w = payos_world
    payment = await w.create_payment()
    link = await w.link(payment)
    await w.sim.put("/_sim/payos/faults", json={"webhook_drop": True})
    paid = await w.sim.post(f"/web/{link['id']}/pay")
    assert paid.status_code == 303
    location = httpx.URL(paid.headers["location"])
    assert location.path == "/callbacks/payos/return"
    r = await w.http.get(f"{location.path}?{location.query.decode()}")
    assert redirected_to(r, payment)["status"] == "succeeded"


@pytest.mark.anyio
async def test_a_cancelled_return_is_settled_as_payos_says(payos_world: PayOSWorld) -> None:
    w = payos_world
    payment = await w.create_payment()
    link = await w.link(payment)
    # The query says the citizen cancelled, payOS does not: the link is still open, the payment too.
    r = await w.http.get(back(link, status="CANCELLED", cancel=True))
    assert redirected_to(r, payment)["status"] == "pending"
    cancelled = await w.sim.post(f"/web/{link['id']}/cancel")
    assert cancelled.status_code == 303
    r = await w.http.get(back(link, status="CANCELLED", cancel=True))
    assert redirected_to(r, payment)["status"] == (await status_of(w, payment))["status"] != "pending"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "query",
    [
        "code=00&status=PAID&orderCode=424242",  # no payment has it
        "code=00&status=PAID",  # names none
        "orderCode=12a",
        "orderCode=0",
        "orderCode=9007199254740992",  # past payOS's bound
        "orderCode=1&orderCode=2",
        "orderCode=" + "1" * 40,
        "x=" + "a" * 2000,
    ],
)
async def test_a_return_that_names_no_payment_gets_the_neutral_page_and_asks_payos_nothing(
    payos_world: PayOSWorld, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = payos_world
    asked = []
    provider = w.app.state.providers.get("payos")

    async def query_spy(ref: object) -> object:
        asked.append(ref)
        raise AssertionError("payOS must not be asked")

    monkeypatch.setattr(provider, "query", query_spy)
    r = await w.http.get(f"/callbacks/payos/return?{query}")
    assert r.status_code == 400 and "location" not in r.headers
    assert "Chưa xác nhận được kết quả thanh toán" in r.text
    assert asked == []


@pytest.mark.anyio
async def test_when_payos_is_slow_the_browser_goes_on_with_what_is_known(
    payos_world: PayOSWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = payos_world
    payment = await w.create_payment()
    link = await w.link(payment)
    provider = w.app.state.providers.get("payos")
    never = asyncio.Event()

    async def hangs(ref: object) -> object:
        await never.wait()
        raise AssertionError("unreachable")

    monkeypatch.setattr(provider, "query", hangs)
    monkeypatch.setattr(notification_service, "RETURN_QUERY_SECONDS", 0.05)
    r = await w.http.get(back(link, status="PAID"))
    assert redirected_to(r, payment)["status"] == "pending"
