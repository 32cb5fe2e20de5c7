"""The whole gateway in process with every provider's simulator and the carrier's, for the reliability suites.

Each payment provider is reached through a `Rail`: how its simulator is paid, asked for its own view of an
order, told to send a notification again and given faults. The suites speak only of rails, so one
parametrized test covers VNPay, MoMo, ZaloPay and payOS alike. The carrier is the real VNPost adapter
against the VNPost simulator. Every simulator re-delivers at once (zero waits) so a test settles by
draining them, with no sleeping.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from sqlalchemy import select

from adapters.momo.settings import MoMoSettings
from adapters.payos.settings import PayOSSettings
from adapters.vnpay.settings import VNPaySettings
from adapters.vnpost.provider import VNPostProvider
from adapters.vnpost.settings import VNPostSettings
from adapters.zalopay.settings import ZaloPaySettings
from gateway.app import create_app
from gateway.clock import Clock
from gateway.db.models import Payment
from gateway.settings import Settings
from simulators import momo, payos, vnpay, vnpost, zalopay
from simulators.payos.state import simulator_of as payos_state
from simulators.vnpay.simulator_state import simulator_of as vnpay_state
from simulators.vnpost.simulator_state import simulator_of as vnpost_state
from simulators.zalopay.simulator_state import simulator_of as zalopay_state
from tests.harness import GATEWAY, HASH_SECRET, SIMULATOR, TMN_CODE, ByHost, FakeDNS, LateASGI, Portal, World
from tests.harness import payment_body as harness_payment_body

MOMO, ZALOPAY, PAYOS, VNPOST = "http://momo.test", "http://zalopay.test", "http://payos.test", "http://vnpost.test"
MOMO_PARTNER = momo.Merchant("DVCGWMOMO01", "DVCGWACCESSKEY01", "DVCGWTESTSECRETMOMO0000000000001", "DVC (test)")
ZALOPAY_APP = zalopay.App(2620, "ZPTESTKEY1000000000000000000001", "ZPTESTKEY2000000000000000000002", name="DVC")
PAYOS_MERCHANT = payos.Merchant(
    "payos-test-client",
    "payos-test-api-key",
    "payos-test-checksum-key-0000000000000000000000000000000000000001",
    webhook_url=f"{GATEWAY}/callbacks/payos/ipn",
)
REDELIVER = (0.0, 0.0, 0.0)  # the providers' re-delivery schedules, without their waits


class Deadline(httpx.AsyncBaseTransport):
    """Keeps the gateway's provider deadline on an in-process transport (ASGI transports ignore httpx's
    timeouts): an answer slower than `seconds` is a ReadTimeout, as on a real network. None: no deadline."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seconds: float | None = None
        # The next request this matches reaches the provider, which acts on it, but its answer is lost on
        # the way back: the gateway sees a timeout and cannot know what happened.
        self.lose_answer_to: Callable[[httpx.Request], bool] | None = None
        self.lost: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.lose_answer_to is not None and self.lose_answer_to(request):
            self.lose_answer_to = None
            response = await self.inner.handle_async_request(request)
            await response.aread()
            self.lost.append(f"{request.method} {request.url.path} -> {response.status_code}")
            raise httpx.ReadTimeout("the provider's answer was lost", request=request)
        if self.seconds is None:
            return await self.inner.handle_async_request(request)
        try:
            async with asyncio.timeout(self.seconds):
                return await self.inner.handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout("the provider did not answer in time", request=request) from None


@dataclass
class Rail:
    """One payment provider as the suites drive it, through its simulator's control and faults APIs."""

    name: str
    app: Any
    client: httpx.AsyncClient  # the test's hand on the simulator
    control: str  # the control API's prefix
    faults_on: dict[str, dict[str, Any]]  # fault name in the suite -> this simulator's fault switches
    pay_path: Callable[[str], str]
    pay_body: dict[str, Any]
    resend_path: Callable[[str], str]
    provider_status: Callable[[dict[str, Any]], str]  # "paid", "unpaid" or "failed", from its order view
    order_path: Callable[[str], str]
    drain_deliveries: Callable[[], Awaitable[None]]
    provider_refunded: Callable[[dict[str, Any]], int] = lambda _: 0  # VND refunded there, from its order view

    async def faults(self, **switches: Any) -> None:
        r = await self.client.put(f"{self.control}/faults", json=switches)
        assert r.status_code == 200, r.text

    async def fault(self, name: str) -> None:
        await self.faults(**self.faults_on[name])

    async def clear_faults(self) -> None:
        r = await self.client.delete(f"{self.control}/faults")
        assert r.status_code in (200, 204), r.text

    async def pay(self, reference: str) -> None:
        r = await self.client.post(self.pay_path(reference), json=self.pay_body)
        assert r.status_code == 200, r.text

    async def resend(self, reference: str) -> None:
        r = await self.client.post(self.resend_path(reference))
        assert r.status_code == 200, r.text

    async def status(self, reference: str) -> str:
        r = await self.client.get(self.order_path(reference))
        if r.status_code == 404 or (self.name == "payos" and r.json().get("code") != "00"):
            return "absent"  # the provider never made it (a create that failed before it arrived)
        assert r.status_code == 200, r.text
        return self.provider_status(r.json())

    async def refunded(self, reference: str) -> int:
        r = await self.client.get(self.order_path(reference))
        return self.provider_refunded(r.json()) if r.status_code == 200 else 0

    async def drain(self) -> None:
        await self.drain_deliveries()


def _faults_named(notification: str) -> dict[str, dict[str, Any]]:
    """The suite's faults in one simulator's words (`notification`: what it calls its notifications)."""
    return {
        "drop": {f"{notification}_drop": True},
        "duplicate": {f"{notification}_duplicate": 2},
        "out_of_order": {f"{notification}_out_of_order": True},
        "api_5xx": {"api_http_5xx": 3},
        "slow": {"api_delay_ms": 50},
    }


def _vnpay_status(view: dict[str, Any]) -> str:
    if view["vnp_ResponseCode"] is None:
        return "unpaid"
    # Paid is for good: a refund later changes vnp_TransactionStatus (05, 06, 09), not that it was paid.
    return "paid" if view["vnp_ResponseCode"] == "00" else "failed"


def _momo_status(view: dict[str, Any]) -> str:
    code = view.get("resultCode")
    return "paid" if code == 0 else "unpaid" if code in (None, 1000) else "failed"


def _zalopay_status(view: dict[str, Any]) -> str:
    return {"paid": "paid", "unpaid": "unpaid"}.get(str(view.get("status")).lower(), "failed")


def _payos_status(view: dict[str, Any]) -> str:
    return {"PAID": "paid", "PENDING": "unpaid"}.get(str(view["data"]["status"]), "failed")


@dataclass
class Everything:
    """The gateway, its portal and every simulator, sharing one clock."""

    world: World
    rails: dict[str, Rail]
    deadline: Deadline
    carrier_app: Any
    carrier_client: httpx.AsyncClient
    carrier: VNPostProvider
    settings: Settings
    _payos_headers: dict[str, str] = field(default_factory=dict)

    @property
    def app(self) -> Any:
        return self.world.app

    async def create(self, provider: str, idem: str | None = None, amount: int = 35000) -> httpx.Response:
        lines = [{"kind": "fee", "code": "LP-HT", "description": "Lệ phí hồ sơ", "amount": amount}]
        return await self.world.create_payment(harness_payment_body(provider=provider, fee_lines=lines), idem=idem)

    async def created(self, provider: str) -> dict[str, Any]:
        r = await self.create(provider)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def reference(self, payment_id: str) -> str:
        async with self.app.state.sessionmaker() as session:
            ref = (await session.execute(select(Payment.provider_ref).where(Payment.id == payment_id))).scalar_one()
        return str(ref)

    async def settle_everything(self) -> None:
        """Let every simulator finish its deliveries, then the gateway its queries and webhooks."""
        for rail in self.rails.values():
            await rail.drain()
        await vnpost_state(self.carrier_app.state).pushes.drain()
        await self.world.run_resolver()
        while await self.world.run_dispatcher():
            pass


def gateway_settings(database_url: str, **overrides: Any) -> Settings:
    providers = {
        "vnpay": VNPaySettings(
            tmn_code=TMN_CODE,
            hash_secret=HASH_SECRET,  # type: ignore[arg-type]
            payment_url=f"{SIMULATOR}/paymentv2/vpcpay.html",
            api_url=f"{SIMULATOR}/merchant_webapi/api/transaction",
        ),
        "momo": MoMoSettings(
            partner_code=MOMO_PARTNER.partner_code,
            access_key=MOMO_PARTNER.access_key,
            secret_key=MOMO_PARTNER.secret_key,  # type: ignore[arg-type]
            api_url=MOMO,
        ),
        "zalopay": ZaloPaySettings(
            app_id=ZALOPAY_APP.app_id,
            key1=ZALOPAY_APP.key1,  # type: ignore[arg-type]
            key2=ZALOPAY_APP.key2,  # type: ignore[arg-type]
            api_url=ZALOPAY,
        ),
        "payos": PayOSSettings(
            client_id=PAYOS_MERCHANT.client_id,
            api_key=PAYOS_MERCHANT.api_key,  # type: ignore[arg-type]
            checksum_key=PAYOS_MERCHANT.checksum_key,  # type: ignore[arg-type]
            api_url=PAYOS,
        ),
    }
    values: dict[str, Any] = {
        "database_url": database_url,
        "public_base_url": GATEWAY,
        "workers_enabled": False,
        "log_json": True,
        "webhook_retry_schedule_seconds": [5, 60, 300],
        "webhook_allow_http": True,
        "webhook_allowed_hosts": ["portal.test"],
        "providers": providers,
    }
    return Settings(**(values | overrides))


@asynccontextmanager
async def everything(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Everything]:
    clock = clock or Clock()
    portal = Portal()
    gateway_proxy = LateASGI()
    to_gateway = httpx.ASGITransport(app=gateway_proxy)
    vnpay_app = vnpay.create_app(
        vnpay.SimulatorConfig(
            merchants=[vnpay.Merchant(TMN_CODE, HASH_SECRET, f"{GATEWAY}/callbacks/vnpay/ipn", "DVC (test)")],
            public_url=SIMULATOR,
            ipn_retry_intervals=REDELIVER,
        ),
        ipn_transport=to_gateway,
    )
    momo_app = momo.create_app(
        momo.SimulatorConfig(merchants=[MOMO_PARTNER], public_url=MOMO, ipn_retry_intervals=REDELIVER),
        ipn_transport=to_gateway,
    )
    zalopay_app = zalopay.create_app(
        zalopay.SimulatorConfig(apps=[ZALOPAY_APP], public_url=ZALOPAY, callback_retry_intervals=REDELIVER),
        callback_transport=to_gateway,
    )
    payos_app = payos.create_app(
        payos.SimulatorConfig(merchants=[replace(PAYOS_MERCHANT)], public_url=PAYOS, webhook_retry_intervals=REDELIVER),
        webhook_transport=to_gateway,
    )
    vnpost_app = vnpost.create_app(
        vnpost.SimulatorConfig(
            accounts=[vnpost.DEV_ACCOUNT], callback_url=f"{GATEWAY}/callbacks/vnpost", push_retry_intervals=REDELIVER
        ),
        push_transport=to_gateway,
    )
    sims = {
        "vnpay.test": vnpay_app,
        "momo.test": momo_app,
        "zalopay.test": zalopay_app,
        "payos.test": payos_app,
        "vnpost.test": vnpost_app,
    }
    routes: dict[str, httpx.AsyncBaseTransport] = {host: httpx.ASGITransport(app=a) for host, a in sims.items()}
    deadline = Deadline(ByHost(routes))
    carrier_config = replace(VNPostSettings(_env_file=None).config(), api_url=VNPOST)  # type: ignore[call-arg]
    carrier = VNPostProvider(carrier_config, transport=deadline)
    dns = FakeDNS()
    app = create_app(
        settings,
        clock=clock,
        provider_transport=deadline,
        carrier=carrier,
        webhook_transport=httpx.MockTransport(portal.handler),
        webhook_resolver=dns.resolve,
    )
    gateway_proxy.target = app
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.lifespan())
        for sim in sims.values():
            await stack.enter_async_context(sim.lifespan())
        clients = {
            host: await stack.enter_async_context(
                httpx.AsyncClient(transport=routes[host], base_url=f"http://{host}", follow_redirects=True)
            )
            for host in sims
        }
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY, follow_redirects=True)
        )
        world = World(
            app=app,
            sim_app=vnpay_app,
            http=http,
            sim=clients["vnpay.test"],
            portal=portal,
            clock=clock,
            vnpay=None,
            dns=dns,  # type: ignore[arg-type]
        )
        world.client, world.api_key = await world.add_client()
        payos_headers = {"x-client-id": PAYOS_MERCHANT.client_id, "x-api-key": PAYOS_MERCHANT.api_key}
        rails = {
            "vnpay": Rail(
                name="vnpay",
                app=vnpay_app,
                client=clients["vnpay.test"],
                control="/_sim/vnpay",
                faults_on=_faults_named("ipn"),
                pay_path=lambda ref: f"/_sim/vnpay/transactions/{ref}",
                pay_body={"response_code": "00"},
                resend_path=lambda ref: f"/_sim/vnpay/transactions/{ref}/ipn",
                provider_status=_vnpay_status,
                provider_refunded=lambda view: int(view["refunded_amount"]),
                order_path=lambda ref: f"/_sim/vnpay/transactions/{ref}",
                drain_deliveries=vnpay_state(vnpay_app.state).ipn.drain,
            ),
            "momo": Rail(
                name="momo",
                app=momo_app,
                client=clients["momo.test"],
                control="/_sim/momo",
                faults_on=_faults_named("ipn"),
                pay_path=lambda ref: f"/_sim/momo/orders/{ref}/pay",
                pay_body={},
                resend_path=lambda ref: f"/_sim/momo/orders/{ref}/notify",
                provider_status=_momo_status,
                provider_refunded=lambda view: sum(r["amount"] for r in view["refundTrans"] if r["resultCode"] == 0),
                order_path=lambda ref: f"/_sim/momo/orders/{ref}",
                drain_deliveries=momo_app.state["momo"].notifier.drain,
            ),
            "zalopay": Rail(
                name="zalopay",
                app=zalopay_app,
                client=clients["zalopay.test"],
                control="/_sim/zalopay",
                faults_on=_faults_named("callback"),
                pay_path=lambda ref: f"/_sim/zalopay/orders/{ref}/pay",
                pay_body={},
                resend_path=lambda ref: f"/_sim/zalopay/orders/{ref}/callback",
                provider_status=_zalopay_status,
                provider_refunded=lambda view: int(view["refunded"]),
                order_path=lambda ref: f"/_sim/zalopay/orders/{ref}",
                drain_deliveries=zalopay_state(zalopay_app.state).callbacks.drain,
            ),
            "payos": Rail(
                name="payos",
                app=payos_app,
                client=clients["payos.test"],
                control="/_sim/payos",
                faults_on=_faults_named("webhook"),
                pay_path=lambda ref: f"/_sim/payos/payment-requests/{ref}/pay",
                pay_body={},
                resend_path=lambda ref: f"/_sim/payos/payment-requests/{ref}/webhook",
                provider_status=_payos_status,
                order_path=lambda ref: f"/v2/payment-requests/{ref}",
                drain_deliveries=payos_state(payos_app.state).sender.drain,
            ),
        }
        clients["payos.test"].headers.update(payos_headers)
        try:
            yield Everything(
                world=world,
                rails=rails,
                deadline=deadline,
                carrier_app=vnpost_app,
                carrier_client=clients["vnpost.test"],
                carrier=carrier,
                settings=settings,
            )
        finally:
            await carrier.aclose()


def new_key() -> str:
    return str(uuid.uuid4())
