"""Database trouble: PostgreSQL connections terminated under the gateway, the database unreachable for a
while (a TCP proxy the test cuts), and on SQLite a database locked by another writer. While it lasts the
portal gets clear 503 problems with Retry-After, the workers back off instead of spinning, and afterwards
everything works again without a restart, with nothing lost: a notification refused meanwhile is sent
again by the provider and credited once."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from gateway.db import engine as db_engine
from gateway.workers import Workers
from tests.harness import ON_POSTGRES
from tests.reliability.faults_checks import check_all
from tests.reliability.faults_tcp import CuttableProxy
from tests.reliability.faults_world import Everything, everything, gateway_settings

pytestmark = pytest.mark.anyio

postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL trouble: run with DVCGW_TEST_DATABASE_URL")
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's own lock: the run is on PostgreSQL")


def _assert_unavailable(status: int, headers: object, body: dict[str, object]) -> None:
    assert status == 503, body
    assert int(headers["Retry-After"]) >= 1  # type: ignore[index]
    assert str(body["type"]).endswith("/database-unavailable")


@pytest.fixture
async def proxy(clean_database: str) -> AsyncIterator[CuttableProxy]:
    url = make_url(clean_database)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.cut()


@pytest.fixture
async def through_proxy(clean_database: str, proxy: CuttableProxy) -> AsyncIterator[Everything]:
    url = make_url(clean_database).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    async with everything(gateway_settings(url)) as e:
        yield e


@postgres_only
async def test_an_unreachable_database_answers_503_and_recovers_without_a_restart(
    through_proxy: Everything, proxy: CuttableProxy
) -> None:
    e = through_proxy
    vnpay = e.rails["vnpay"]
    payment = await e.created("vnpay")
    await e.world.open_checkout(payment["checkout_url"])
    ref = await e.reference(payment["id"])

    await proxy.cut()
    for _ in range(2):  # the first request finds its pooled connection dead, the next cannot connect
        r = await e.world.http.get(f"/v1/payments/{payment['id']}", headers=e.world.auth())
        _assert_unavailable(r.status_code, r.headers, r.json())
    r = await e.create("vnpay")
    _assert_unavailable(r.status_code, r.headers, r.json())
    await vnpay.pay(ref)  # VNPay's IPN and its re-deliveries find the gateway without its database
    await vnpay.drain()
    assert await vnpay.status(ref) == "paid"

    # The workers fail and back off: each wait longer than the last, up to the ceiling, no busy loop.
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) >= 5:
            raise _Stop

    workers = Workers({"resolver": e.world.run_resolver}, poll_seconds=1.0, max_backoff_seconds=8.0, sleep=sleep)
    with pytest.raises(_Stop):
        await workers._loop("resolver", e.world.run_resolver)  # one loop, driven by the test
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0]

    await proxy.restore()
    r = await e.world.http.get(f"/v1/payments/{payment['id']}", headers=e.world.auth())
    assert r.status_code == 200 and r.json()["status"] == "pending"
    await vnpay.resend(ref)  # VNPay sends the unacknowledged IPN again
    counts = await check_all(e)
    assert counts["succeeded"] == 1
    assert (await e.create("vnpay")).status_code == 201


class _Stop(Exception):
    pass


@postgres_only
async def test_terminated_connections_are_replaced_without_an_error(
    through_proxy: Everything, clean_database: str
) -> None:
    e = through_proxy
    first = await e.created("momo")
    admin = await asyncpg.connect(make_url(clean_database).set(drivername="postgresql").render_as_string(False))
    try:
        name = make_url(clean_database).database
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await admin.close()
    assert killed >= 1
    r = await e.world.http.get(f"/v1/payments/{first['id']}", headers=e.world.auth())
    assert r.status_code == 200, r.text
    second = await e.created("momo")
    await e.rails["momo"].pay(await e.reference(second["id"]))
    counts = await check_all(e)
    assert counts["succeeded"] == 1 and counts["pending"] == 1


@sqlite_only
async def test_a_locked_sqlite_database_answers_503(clean_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Another process holds the write lock longer than the gateway waits for it.
    monkeypatch.setattr(db_engine, "SQLITE_BUSY_TIMEOUT_MS", 50)
    async with everything(gateway_settings(clean_database)) as e:
        payment = await e.created("vnpay")
        other = sqlite3.connect(make_url(clean_database).database or "", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            r = await e.create("vnpay")
            _assert_unavailable(r.status_code, r.headers, r.json())
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert (await e.world.get_payment(payment["id"]))["status"] == "pending"
        assert (await e.create("vnpay")).status_code == 201
        await check_all(e)
