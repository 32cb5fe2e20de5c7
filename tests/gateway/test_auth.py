"""API keys: a process remembers valid ones for a short while and forgets them on schedule."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from gateway.auth import Caller, CallerCache
from gateway.db.models import Client
from tests.harness import World

pytestmark = pytest.mark.anyio


class Ticker:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_cache_forgets_after_its_ttl() -> None:
    tick = Ticker()
    cache = CallerCache(30, now=tick)
    cache.put("h", Caller("cli_1", "A"))
    tick.t += 29.9
    assert cache.get("h") == Caller("cli_1", "A")
    tick.t += 0.1
    assert cache.get("h") is None


def test_zero_ttl_keeps_nothing() -> None:
    cache = CallerCache(0)
    cache.put("h", Caller("cli_1", "A"))
    assert cache.get("h") is None


def test_a_full_cache_starts_over_rather_than_grow() -> None:
    cache = CallerCache(30)
    for i in range(CallerCache.MAX_ENTRIES + 1):
        cache.put(f"h{i}", Caller(f"cli_{i}", "A"))
    assert len(cache._entries) == 1 and cache.get(f"h{CallerCache.MAX_ENTRIES}") is not None


async def _deactivate(world: World, client: Client) -> None:
    async with world.app.state.sessionmaker() as session:
        await session.execute(update(Client).where(Client.id == client.id).values(active=False))
        await session.commit()


async def test_a_deactivated_client_is_refused_once_the_cache_forgets_it(world: World) -> None:
    tick = Ticker()
    world.app.state.callers = CallerCache(30, now=tick)
    client, key = await world.add_client("Cổng sẽ bị khoá")
    assert (await world.http.get("/v1/payments", headers=world.auth(key))).status_code == 200

    await _deactivate(world, client)
    assert (await world.http.get("/v1/payments", headers=world.auth(key))).status_code == 200
    tick.t += 30
    r = await world.http.get("/v1/payments", headers=world.auth(key))
    assert r.status_code == 401 and r.json()["status"] == 401
    tick.t += 60
    assert (await world.http.get("/v1/payments", headers=world.auth(key))).status_code == 401


async def test_without_the_cache_deactivation_is_immediate(world: World) -> None:
    world.app.state.callers = CallerCache(0)
    client, key = await world.add_client("Cổng sẽ bị khoá")
    assert (await world.http.get("/v1/payments", headers=world.auth(key))).status_code == 200
    await _deactivate(world, client)
    assert (await world.http.get("/v1/payments", headers=world.auth(key))).status_code == 401


async def test_webhook_endpoint_is_read_fresh_while_the_caller_is_cached(world: World) -> None:
    client, key = await world.add_client("Cổng", webhook_url="https://a.example.vn/hooks")
    assert (
        (await world.http.get("/v1/webhook-endpoint", headers=world.auth(key))).json()["url"].startswith("https://a.")
    )
    async with world.app.state.sessionmaker() as session:
        await session.execute(
            update(Client).where(Client.id == client.id).values(webhook_url="https://b.example.vn/hooks")
        )
        await session.commit()
    r = await world.http.get("/v1/webhook-endpoint", headers=world.auth(key))
    assert r.json()["url"] == "https://b.example.vn/hooks"


async def test_refused_requests_give_their_connection_back(world: World) -> None:
    pool = world.app.state.engine.sync_engine.pool
    for _ in range(3):
        r = await world.http.get("/v1/payments", headers=world.auth("dvcgw_not-a-key"))
        assert r.status_code == 401
    r = await world.http.post("/v1/payments", headers=world.auth(), json={"amount": "not a payment"})
    assert r.status_code == 400
    assert pool.checkedout() == 0
