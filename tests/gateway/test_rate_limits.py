"""Rate limits (gateway/limits.py): per API key, per source address for wrong keys, callbacks and the demo;
counted in the database, so every process on it shares them; and the callbacks' size caps.

The clock is held still inside a window (10 s into it), so a limit never straddles two windows and the
Retry-After each refusal carries is known exactly.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select, text

from gateway.app import create_app
from gateway.clock import Clock
from gateway.db.models import IdempotencyKey, Payment, ProviderNotification, RateLimitCounter
from gateway.limits import source_address
from gateway.problems import TYPE_BASE
from gateway.settings import Settings
from tests.harness import GATEWAY, World, signed_ipn

pytestmark = pytest.mark.anyio

WINDOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # a window's start (windows of 60 s)
VNPAY = "203.0.113.10"
PROXY = "10.0.0.5"


class HeldClock(Clock):
    def __init__(self, at: datetime) -> None:
        super().__init__()
        self.at = at

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "rate_limit_per_key": 5,
            "rate_limit_auth_failures_per_address": 3,
            "rate_limit_callbacks_per_address": 4,
            "rate_limit_demo_per_address": 3,
            "trusted_proxies": [ipaddress.ip_network("10.0.0.0/8")],
            "callback_max_query_bytes": 2048,
            "callback_max_body_bytes": 1024,
        }
    )


@pytest.fixture
def held(world: World, monkeypatch: pytest.MonkeyPatch) -> HeldClock:
    """The world's clock, held 10 s into a window (the app and the test share it)."""
    clock = HeldClock(WINDOW + timedelta(seconds=10))
    monkeypatch.setattr(world.clock, "now", clock.now)
    return clock


@asynccontextmanager
async def from_address(app: Litestar, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY) as http:
        yield http


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


WRONG = bearer("dvcgw_not-a-key-of-anyone")


def assert_limited(r: httpx.Response, retry_after: int = 50) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["retry-after"] == str(retry_after)
    assert r.json()["type"] == TYPE_BASE + "rate-limited" and r.json()["status"] == 429


async def count(world: World, model: type, **where: Any) -> int:
    async with world.app.state.sessionmaker() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(await session.scalar(query) or 0)


async def test_wrong_keys_from_one_address_are_429_with_retry_after(world: World, held: HeldClock) -> None:
    async with from_address(world.app, "198.51.100.7") as attacker, from_address(world.app, "198.51.100.8") as other:
        for _ in range(3):
            assert (await attacker.get("/v1/payments", headers=WRONG)).status_code == 401
        r = await attacker.get("/v1/payments", headers=WRONG)
        assert_limited(r)
        assert r.headers["x-request-id"]  # sent through the request's middleware, as any answer
        # The address is refused for the rest of the window whatever key it sends; others are not.
        assert_limited(await attacker.get("/v1/payments", headers=world.auth()))
        assert_limited(await attacker.get("/v1/payments"))  # no key at all is a wrong key too
        assert (await other.get("/v1/payments", headers=WRONG)).status_code == 401
        assert (await other.get("/v1/payments", headers=world.auth())).status_code == 200

        held.at += timedelta(seconds=45)
        assert_limited(await attacker.get("/v1/payments", headers=WRONG), retry_after=5)
        held.at += timedelta(seconds=5)  # the next window
        assert (await attacker.get("/v1/payments", headers=world.auth())).status_code == 200
        assert (await attacker.get("/v1/payments", headers=WRONG)).status_code == 401


async def test_a_key_over_its_limit_is_429_and_its_request_changes_nothing(world: World, held: HeldClock) -> None:
    _, other_key = await world.add_client("Cổng khác")
    for _ in range(3):
        assert (await world.http.get("/v1/payments", headers=world.auth())).status_code == 200
    assert (await world.create_payment(idem="first")).status_code == 201
    assert (await world.http.get("/v1/payments", headers=world.auth())).status_code == 200

    assert_limited(await world.create_payment(idem="second"))
    assert_limited(await world.http.get("/v1/payments", headers=world.auth()))
    assert await count(world, Payment) == 1
    assert await count(world, IdempotencyKey) == 1
    # Counted per key: another portal, from the same address, is not held back.
    assert (await world.create_payment(key=other_key, idem="third")).status_code == 201


async def test_callbacks_are_limited_per_address(world: World, held: HeldClock) -> None:
    payment = (await world.create_payment()).json()
    ipn = signed_ipn(payment)
    async with from_address(world.app, VNPAY) as vnpay, from_address(world.app, PROXY) as proxy:
        for _ in range(4):
            r = await vnpay.get("/callbacks/vnpay/ipn", params=signed_ipn(payment, vnp_TxnRef="NOSUCHORDER"))
            assert r.json()["RspCode"] == "01"
        assert_limited(await vnpay.get("/callbacks/vnpay/ipn", params=ipn))
        assert_limited(await vnpay.get("/callbacks/vnpay/return", params=ipn))
        # X-Forwarded-For from a peer that is not a trusted proxy is the client's own word: ignored.
        spoofed = {"X-Forwarded-For": "192.0.2.1"}
        assert_limited(await vnpay.get("/callbacks/vnpay/ipn", params=ipn, headers=spoofed))
        assert (await world.get_payment(payment["id"]))["status"] == "pending"
        assert await count(world, ProviderNotification) == 4
        # Once refused, the address costs this process no further writes in the window.
        assert await count(world, RateLimitCounter, key=f"callbacks:{VNPAY}", hits=5) == 1

        # Behind a trusted proxy, the address it forwards for is counted.
        forwarded = {"X-Forwarded-For": f"192.0.2.99, {VNPAY}"}
        assert_limited(await proxy.get("/callbacks/vnpay/ipn", params=ipn, headers=forwarded))
        r = await proxy.get("/callbacks/vnpay/ipn", params=ipn, headers={"X-Forwarded-For": "203.0.113.11"})
        assert r.json()["RspCode"] == "00"
    assert (await world.get_payment(payment["id"]))["status"] == "succeeded"


async def test_the_demo_is_limited_per_address(world: World, held: HeldClock) -> None:
    async with from_address(world.app, "198.51.100.20") as browser, from_address(world.app, "198.51.100.21") as next_:
        for _ in range(3):
            assert (await browser.get("/demo/")).status_code == 200
        assert_limited(await browser.get("/demo/"))
        assert (await next_.get("/demo/")).status_code == 200


async def test_oversized_callbacks_are_refused_before_anything_reads_them(world: World, held: HeldClock) -> None:
    payment = (await world.create_payment()).json()
    ipn = signed_ipn(payment)
    r = await world.http.get("/callbacks/vnpay/ipn", params={**ipn, "vnp_Padding": "x" * 2048})
    assert r.status_code == 414 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == TYPE_BASE + "uri-too-long"
    r = await world.http.request("GET", "/callbacks/vnpay/ipn", params=ipn, content=b"x" * 1025)
    assert r.status_code == 413 and r.json()["type"] == TYPE_BASE + "content-too-large"
    assert await count(world, ProviderNotification) == 0
    assert (await world.get_payment(payment["id"]))["status"] == "pending"
    # At the bounds, it is an IPN like any other.
    r = await world.http.request("GET", "/callbacks/vnpay/ipn", params=ipn, content=b"x" * 1024)
    assert r.json()["RspCode"] == "00"


@asynccontextmanager
async def two_gateways(settings: Settings, clock: Clock) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two gateway processes on one database, each with a client from the same address."""
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(2):
            app = create_app(settings, clock=clock)
            await stack.enter_async_context(app.lifespan())
            clients.append(await stack.enter_async_context(from_address(app, "198.51.100.30")))
        yield clients[0], clients[1]


async def test_two_processes_on_one_database_share_the_counts(settings: Settings) -> None:
    clock = HeldClock(WINDOW + timedelta(seconds=10))
    async with two_gateways(settings, clock) as (a, b):
        for http in (a, b, a):
            assert (await http.get("/v1/payments", headers=WRONG)).status_code == 401
        assert_limited(await b.get("/v1/payments", headers=WRONG))
        assert_limited(await a.get("/v1/payments", headers=WRONG))

        for http in (a, b, a, b):
            assert (await http.get("/callbacks/vnpay/return")).status_code == 400  # unsigned: the neutral page
        assert_limited(await a.get("/callbacks/vnpay/return"))


async def test_in_memory_counts_are_each_process_own(settings: Settings) -> None:
    clock = HeldClock(WINDOW + timedelta(seconds=10))
    async with two_gateways(settings.model_copy(update={"rate_limit_store": "memory"}), clock) as (a, b):
        for http in (a, b, a, b, a, b):
            assert (await http.get("/v1/payments", headers=WRONG)).status_code == 401
        assert_limited(await a.get("/v1/payments", headers=WRONG))
        assert_limited(await b.get("/v1/payments", headers=WRONG))


async def test_windows_past_are_purged(world: World, held: HeldClock) -> None:
    limiter = world.app.state.limiter
    await limiter.hit("test:a", 10, "")
    held.at += timedelta(seconds=60)
    await limiter.hit("test:a", 10, "")
    await limiter.hit("test:b", 10, "")
    assert await limiter.purge() == 0  # the window before the current one is kept
    held.at += timedelta(seconds=60)
    await limiter.hit("test:b", 10, "")
    assert await limiter.purge() == 1
    async with world.app.state.sessionmaker() as session:
        rows = (await session.execute(select(RateLimitCounter.key, RateLimitCounter.hits))).all()
    assert sorted(rows) == [("test:a", 1), ("test:b", 1), ("test:b", 1)]


async def test_on_postgresql_the_counts_are_not_written_to_the_wal(world: World) -> None:
    if not world.app.state.settings.database_url.startswith("postgresql"):
        pytest.skip("UNLOGGED tables are PostgreSQL's; SQLite's counters are in its one file anyway")
    async with world.app.state.sessionmaker() as session:
        persistence = await session.scalar(
            text("SELECT relpersistence::text FROM pg_class WHERE relname = 'rate_limit_counters'")
        )
    assert persistence == "u"  # UNLOGGED


def scope(peer: str, forwarded: str | None = None) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return {"client": (peer, 1), "headers": headers}


def test_the_source_address_trusts_x_forwarded_for_only_from_trusted_proxies() -> None:
    proxies = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8")]
    assert source_address(scope("198.51.100.1", "192.0.2.1"), proxies) == "198.51.100.1"
    assert source_address(scope("10.0.0.5", "192.0.2.1"), ()) == "10.0.0.5"
    # The last address no trusted proxy added; what the client wrote before it is not believed.
    assert source_address(scope("10.0.0.5", "1.1.1.1, 192.0.2.1, 10.0.0.9"), proxies) == "192.0.2.1"
    assert source_address(scope("10.0.0.5", "not-an-address"), proxies) == "10.0.0.5"
    assert source_address(scope("10.0.0.5"), proxies) == "10.0.0.5"
    # IPv6 by /64: one subscriber's whole prefix is one source.
    assert source_address(scope("2001:db8:1:2::1"), proxies) == "2001:db8:1:2::/64"
    assert source_address(scope("2001:db8:1:2:ffff::9"), proxies) == "2001:db8:1:2::/64"
    assert source_address(scope("fd00::1", "2001:db8:1:3::5"), proxies) == "2001:db8:1:3::/64"
