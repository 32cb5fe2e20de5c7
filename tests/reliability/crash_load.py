"""Traffic through every provider's simulator and the carrier's, as portals and citizens make it, and the
killer that SIGKILLs a gateway while a chosen kind of work is in flight.

A portal retries a request that got no answer with the same Idempotency-Key (that is what the key is for),
so a crash must neither lose the request nor make it twice. Citizens pay on the simulators; their
notifications reach whichever gateway is up, or are re-delivered by the simulator, or are made up for by
the gateway's queries.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from contracts.examples import payment_create_body
from tests.reliability.crash_world import PROVIDERS, Proc, World
from tests.shipments.conftest import shipment_body

KINDS = ("ipn", "refund", "webhook", "booking")
# Answers after which a portal sends the same request again: no answer at all, the gateway busy, or the
# same key still held by a request that a crash cut short (its lock lapses, idempotency_lock_seconds).
RETRIED = {409, 425, 429, 500, 502, 503, 504}
# How long one portal request keeps being retried: bounds a test that would otherwise hang on a lost request.
RETRY_BOUND_SECONDS = 180.0


class Gone(Exception):
    """A request that never got a final answer within the bound: a liveness failure worth reporting."""


@dataclass
class Tally:
    """What the load did, for the checks and the report."""

    payment_keys: dict[str, str | None] = field(default_factory=dict)  # Idempotency-Key -> payment id
    refund_keys: dict[str, str] = field(default_factory=dict)
    shipment_keys: dict[str, str] = field(default_factory=dict)
    paid_at_provider: set[str] = field(default_factory=set)
    operations: Counter[str] = field(default_factory=Counter)
    kills: list[str] = field(default_factory=list)  # what was in flight at each kill
    retries: int = 0


class Load:
    def __init__(self, world: World, rng: random.Random, gateways: list[Proc], read_ref: Callable[..., Any]) -> None:
        self.world = world
        self.rng = rng
        self.gateways = gateways
        self.read_ref = read_ref  # async (payment_id) -> the provider's reference, read from the database
        self.tally = Tally()
        self.inflight: dict[str, int] = defaultdict(int)
        self.started: dict[str, asyncio.Event] = {k: asyncio.Event() for k in KINDS}
        # No kept-alive connections: one the server closed while idle fails the next request on it, and a
        # simulator's control call (a payment) must not be sent twice.
        fresh = httpx.Limits(max_keepalive_connections=0)
        self.http = httpx.AsyncClient(timeout=30, limits=fresh, headers={"Authorization": f"Bearer {world.api_key}"})
        self.sim = httpx.AsyncClient(timeout=30, limits=fresh)
        self._next_gateway = 0
        self.latencies: list[tuple[float, float]] = []  # (sent at, seconds to the answer) of each portal request

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.sim.aclose()

    def gateway_url(self) -> str:
        """Round robin over the gateway processes, as a load balancer in front of them would."""
        self._next_gateway += 1
        return self.gateways[self._next_gateway % len(self.gateways)].url

    @contextlib.asynccontextmanager
    async def busy(self, kind: str) -> AsyncIterator[None]:
        self.inflight[kind] += 1
        self.started[kind].set()
        try:
            yield
        finally:
            self.inflight[kind] -= 1
            if not self.inflight[kind]:
                self.started[kind].clear()

    async def portal(
        self, method: str, path: str, final: frozenset[int] | set[int] = frozenset(), **kwargs: Any
    ) -> httpx.Response:
        """A portal's request to the gateway, sent again (same headers, same key) until it has an answer."""
        deadline = time.monotonic() + RETRY_BOUND_SECONDS
        last = ""
        while True:
            try:
                started = time.monotonic()
                r = await self.http.request(method, self.gateway_url() + path, **kwargs)
                self.latencies.append((started, time.monotonic() - started))
                if r.status_code not in RETRIED or r.status_code in final:
                    return r
                last = f"{r.status_code} {r.text[:300]}"
            except httpx.TransportError as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                raise Gone(f"{method} {path} got no final answer; last: {last}")
            self.tally.retries += 1
            await asyncio.sleep(0.3)

    async def provider(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        r = await self.sim.request(method, url, **kwargs)
        assert r.status_code < 500, f"{method} {url}: {r.status_code} {r.text[:300]}"
        return r

    # --- a citizen paying a fee, and maybe a refund of it ----------------------------------------------

    async def payment(self) -> None:
        rng = self.rng
        provider = rng.choice(PROVIDERS)
        amount = rng.randrange(10, 500) * 1000
        body = payment_create_body(
            provider=provider,
            fee_lines=[{"kind": "charge", "code": "LP", "description": "Lệ phí", "amount": amount}],
            dossier_code=f"000.00.12.H29-{uuid.uuid4().hex[:12]}",
            # Short, so a payment nobody can pay (its checkout lost to a crash) ends within the run.
            expires_in_seconds=60,
        )
        key = str(uuid.uuid4())
        r = await self.portal("POST", "/v1/payments", json=body, headers={"Idempotency-Key": key}, final={504})
        self.tally.payment_keys[key] = None
        if r.status_code == 504:
            # A crash cut the first run short while the provider was asked: the gateway resolves that payment
            # itself, and the portal shows the citizen "try again later" (a new request, a new key).
            self.tally.operations["payment cut short"] += 1
            return
        assert r.status_code == 201, r.text
        payment = r.json()
        self.tally.payment_keys[key] = payment["id"]
        self.tally.operations[f"payment:{provider}"] += 1
        ref = await self.read_ref(payment["id"])
        pays = rng.random() < 0.85
        async with self.busy("ipn"):
            await self._pay(provider, payment, ref, pays)
        if pays:
            self.tally.paid_at_provider.add(payment["id"])
        if pays and provider != "payos" and rng.random() < 0.5:
            await self._refund(payment)

    async def _pay(self, provider: str, payment: dict[str, Any], ref: str, pays: bool) -> None:
        sim = self.world.sim_urls[provider]
        if provider == "vnpay":
            # The citizen opens VNPay's page (the transaction now exists there), then pays or cancels.
            url = httpx.URL(payment["checkout_url"])
            await self.provider("GET", str(url))
            code = "00" if pays else "24"
            await self.provider("POST", f"{sim}/_sim/vnpay/transactions/{ref}", json={"response_code": code})
        elif provider == "momo":
            await self.provider("POST", f"{sim}/_sim/momo/orders/{ref}/pay", json={} if pays else {"resultCode": 1006})
        elif provider == "zalopay":
            outcome = "success" if pays else "cancel"
            await self.provider("POST", f"{sim}/_sim/zalopay/orders/{ref}/pay", json={"outcome": outcome})
        else:
            outcome = "success" if pays else "cancelled"
            await self.provider("POST", f"{sim}/_sim/payos/payment-requests/{ref}/pay", json={"outcome": outcome})

    async def _refund(self, payment: dict[str, Any]) -> None:
        # The portal refunds once it knows the payment succeeded (its webhook, or a read).
        deadline = time.monotonic() + RETRY_BOUND_SECONDS
        while True:
            r = await self.portal("GET", f"/v1/payments/{payment['id']}")
            if r.json()["status"] == "succeeded":
                break
            if time.monotonic() > deadline:
                raise Gone(f"payment {payment['id']} paid at its provider never succeeded")
            await asyncio.sleep(0.5)
        amount = (
            payment["amount"] if self.rng.random() < 0.5 else self.rng.randrange(1, payment["amount"] // 1000) * 1000
        )
        key = str(uuid.uuid4())
        async with self.busy("refund"):
            r = await self.portal(
                "POST",
                f"/v1/payments/{payment['id']}/refunds",
                json={"amount": amount, "reason": "Hoàn phí nộp thừa"},
                headers={"Idempotency-Key": key},
            )
        assert r.status_code == 201, r.text
        self.tally.refund_keys[key] = r.json()["id"]
        self.tally.operations["refund"] += 1

    # --- a result sent home by post --------------------------------------------------------------------

    async def shipment(self) -> None:
        key = str(uuid.uuid4())
        body = shipment_body(dossier_code=f"000.00.12.H29-{uuid.uuid4().hex[:12]}")
        async with self.busy("booking"):
            r = await self.portal("POST", "/v1/shipments", json=body, headers={"Idempotency-Key": key})
        assert r.status_code in (201, 202), r.text
        shipment = r.json()
        self.tally.shipment_keys[key] = shipment["id"]
        self.tally.operations["shipment"] += 1
        order_id = shipment["carrier_order_id"]
        deadline = time.monotonic() + RETRY_BOUND_SECONDS
        while order_id is None:  # booked later by the poller (the carrier's answer was lost to a crash)
            if time.monotonic() > deadline:
                raise Gone(f"shipment {shipment['id']} never booked")
            await asyncio.sleep(0.5)
            order_id = (await self.portal("GET", f"/v1/shipments/{shipment['id']}")).json()["carrier_order_id"]
        # The postman moves it on a few scans; each sends a push to the gateway.
        sim = self.world.sim_urls["vnpost"]
        for _ in range(self.rng.randrange(1, 5)):
            r = await self.provider("POST", f"{sim}/_sim/vnpost/orders/{order_id}/advance", json={})
            if r.status_code == 409:  # the scenario is over
                break

    async def citizen(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await (self.shipment() if self.rng.random() < 0.25 else self.payment())


class Killer:
    """SIGKILLs a gateway while work of a chosen kind is in flight, then starts it again."""

    def __init__(self, load: Load, rng: random.Random, restart: bool = True) -> None:
        self.load = load
        self.rng = rng
        self.restart = restart

    async def kill_one(self, proc: Proc) -> str:
        kind = self.rng.choice(KINDS)
        portal = self.load.world.portal
        if kind == "webhook":
            portal.release.clear()
            portal.reached.clear()
            portal.hold.set()  # the next delivery waits in the portal: the gateway dies while it is sent
            caught = await asyncio.to_thread(portal.reached.wait, 5)
        else:
            try:
                await asyncio.wait_for(self.load.started[kind].wait(), 5)
                caught = True
            except TimeoutError:
                caught = False
            await asyncio.sleep(self.rng.uniform(0, 0.05))  # somewhere inside it
        await asyncio.to_thread(proc.kill)
        portal.hold.clear()
        portal.release.set()
        what = f"mid-{kind}" if caught else f"idle (no {kind} within 5 s)"
        self.load.tally.kills.append(what)
        if self.restart:
            await asyncio.sleep(self.rng.uniform(0.1, 1.0))
            await asyncio.to_thread(proc.start)
        return what

    async def run(self, kills: int, pause: tuple[float, float]) -> None:
        for _ in range(kills):
            await asyncio.sleep(self.rng.uniform(*pause))
            await self.kill_one(self.rng.choice(self.load.gateways))
