"""An in-process world: the gateway, the VNPay simulator and a portal, wired by ASGI transports.

The gateway calls the simulator's merchant API, the simulator sends IPNs to the gateway, and the
gateway's webhooks land in a recording portal, all without sockets, so every test is deterministic.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from litestar import Litestar

from contracts.examples import payment_create_body
from gateway.auth import new_client
from gateway.clock import Clock
from gateway.db.models import Client
from gateway.payments.resolver import Resolver
from gateway.webhooks.dispatcher import Dispatcher

GATEWAY = "http://gateway.test"

# The suite runs on PostgreSQL when DVCGW_TEST_DATABASE_URL names one (tests/conftest.py), else on SQLite.
ON_POSTGRES = os.environ.get("DVCGW_TEST_DATABASE_URL", "").startswith("postgresql")


class LoopTicks:
    """Counts turns of the event loop while it runs: a statement that blocked the loop would stop it."""

    def __init__(self) -> None:
        self.count = 0
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.001)
            self.count += 1

    def stop(self) -> None:
        self._task.cancel()


SIMULATOR = "http://vnpay.test"
PORTAL_HOOK = "http://portal.test/hooks"
TMN_CODE = "DVCGW001"
HASH_SECRET = "DVCGWTESTSECRETVNPAY0000000000001"  # not the simulator's default: production settings take it


@dataclass
class Portal:
    """Records every webhook delivery; answers with `status` (change it to simulate an outage)."""

    status: int = 200
    received: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.received.append(request)
        return httpx.Response(self.status)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.received]


@dataclass
class FakeDNS:
    """The webhook dispatcher's name resolution in tests: names answer what `records` says, others do not
    resolve, and no query leaves the machine."""

    records: dict[str, list[str]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    async def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.records:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(self.records[host])


class ByHost(httpx.AsyncBaseTransport):
    """One transport for the gateway's provider calls, sending each request to the simulator of its host
    (create_app takes one provider_transport for every provider)."""

    def __init__(self, routes: dict[str, httpx.AsyncBaseTransport]) -> None:
        self.routes = routes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.routes[request.url.host].handle_async_request(request)


class LateASGI:
    """An ASGI app that forwards to one set later: the gateway and the simulator point at each other."""

    target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.target(scope, receive, send)


@dataclass
class World:
    app: Litestar
    sim_app: Litestar
    http: httpx.AsyncClient  # the portal's client to the gateway
    sim: httpx.AsyncClient  # a browser / test driver talking to the simulator
    portal: Portal
    clock: Clock
    vnpay: Flaky
    client: Client | None = None
    api_key: str = ""
    dns: FakeDNS = field(default_factory=FakeDNS)

    async def add_client(
        self, name: str = "Cổng DVC tỉnh", webhook_url: str | None = PORTAL_HOOK
    ) -> tuple[Client, str]:
        async with self.app.state.sessionmaker() as session:
            client, key = new_client(name, self.clock.now(), webhook_url)
            session.add(client)
            await session.commit()
        return client, key

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.api_key}"}

    async def create_payment(
        self, body: dict[str, Any] | None = None, key: str | None = None, idem: str | None = None
    ) -> httpx.Response:
        headers = {**self.auth(key), "Idempotency-Key": idem or str(uuid.uuid4())}
        return await self.http.post("/v1/payments", json=body or payment_body(), headers=headers)

    async def open_checkout(self, checkout_url: str) -> httpx.Response:
        """The citizen's browser loads VNPay's payment page: the transaction now exists at VNPay."""
        url = httpx.URL(checkout_url)
        return await self.sim.get(url.path, params=url.params)

    async def settle(self, reference: str, response_code: str = "00") -> dict[str, Any]:
        r = await self.sim.post(f"/_sim/vnpay/transactions/{reference}", json={"response_code": response_code})
        assert r.status_code in (200, 201), r.text
        return r.json()

    async def faults(self, **faults: Any) -> None:
        r = await self.sim.put("/_sim/vnpay/faults", json=faults)
        assert r.status_code == 200, r.text

    async def get_payment(self, payment_id: str) -> dict[str, Any]:
        r = await self.http.get(f"/v1/payments/{payment_id}", headers=self.auth())
        assert r.status_code == 200, r.text
        return r.json()

    async def run_resolver(self) -> int:
        resolver: Resolver = self.app.state.resolver
        return await resolver.run_once()

    async def run_dispatcher(self) -> int:
        dispatcher: Dispatcher = self.app.state.dispatcher
        return await dispatcher.run_once()


def payment_body(**overrides: Any) -> dict[str, Any]:
    return payment_create_body(**overrides)


def reference_of(payment: dict[str, Any]) -> str:
    """The vnp_TxnRef the gateway chose, read from the checkout URL as VNPay would."""
    return httpx.URL(payment["checkout_url"]).params["vnp_TxnRef"]


def signed_ipn(
    payment: dict[str, Any], response_code: str = "00", status: str | None = None, **changes: str
) -> dict[str, str]:
    """An IPN as VNPay sends it for this payment, signed with the dev merchant's secret."""
    from adapters.vnpay import signing

    params = {
        "vnp_Amount": str(payment["amount"] * 100),
        "vnp_BankCode": "NCB",
        "vnp_BankTranNo": "VNP14226112",
        "vnp_CardType": "ATM",
        "vnp_OrderInfo": "Thanh toan phi le phi ho so",
        "vnp_PayDate": "20261123170112",
        "vnp_ResponseCode": response_code,
        "vnp_TmnCode": TMN_CODE,
        "vnp_TransactionNo": "14226112",
        "vnp_TransactionStatus": status if status is not None else ("00" if response_code == "00" else "02"),
        "vnp_TxnRef": reference_of(payment),
    }
    params.update(changes)
    params["vnp_SecureHash"] = signing.sign_query(params, HASH_SECRET)
    return params


class Flaky(httpx.AsyncBaseTransport):
    """Wraps a transport; while `failures` > 0 each request raises `error` instead (a provider outage)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.failures = 0
        self.error: type[httpx.TransportError] = httpx.ReadTimeout
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise self.error("injected by the test", request=request)
        return await self.inner.handle_async_request(request)
