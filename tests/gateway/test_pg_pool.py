"""The direct path's PostgreSQL pool (gateway/db/pg_pool.py): nothing lost, nothing reused that is unsafe."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from gateway.db.direct import PostgresDatabase, Sql, open_database
from gateway.db.pg_pool import ConnectionPool, PoolClosed

pytestmark = pytest.mark.anyio


class FakeConnection:
    """What the pool asks of an asyncpg connection."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False
        self.in_transaction = False

    def is_closed(self) -> bool:
        return self.closed

    def is_in_transaction(self) -> bool:
        return self.in_transaction

    def terminate(self) -> None:
        self.closed = True

    async def close(self) -> None:
        self.closed = True


class Connector:
    def __init__(self, fail: int = 0) -> None:
        self.made: list[FakeConnection] = []
        self.fail = fail  # the next `fail` connects raise

    async def __call__(self) -> Any:
        await asyncio.sleep(0)
        if self.fail:
            self.fail -= 1
            raise OSError("connection refused")
        self.made.append(FakeConnection(len(self.made)))
        return self.made[-1]


async def _pool(size: int, connector: Connector | None = None) -> tuple[ConnectionPool, Connector]:
    connector = connector or Connector()
    pool = ConnectionPool(connector, size)
    await pool.open()
    return pool, connector


async def _waiting(pool: ConnectionPool) -> asyncio.Task[Any]:
    task = asyncio.create_task(pool.acquire())
    for _ in range(3):
        await asyncio.sleep(0)
    assert not task.done()
    return task


async def test_all_connections_open_up_front_and_the_last_given_back_is_the_next_taken() -> None:
    pool, connector = await _pool(3)
    assert len(connector.made) == 3 and pool.in_use() == 0
    a = await pool.acquire()
    b = await pool.acquire()
    assert pool.in_use() == 2
    pool.release(a)
    assert await pool.acquire() is a  # the warmest one
    pool.release(a)
    pool.release(b)
    assert pool.in_use() == 0 and len(connector.made) == 3


async def test_waiters_are_served_in_the_order_they_came() -> None:
    pool, _ = await _pool(1)
    held = await pool.acquire()
    first = await _waiting(pool)
    second = await _waiting(pool)
    pool.release(held)
    assert await first is held
    assert not second.done()
    pool.release(held)
    assert await second is held


async def test_a_connection_not_safe_to_reuse_is_closed_and_a_new_one_opened_in_its_place() -> None:
    pool, connector = await _pool(1)
    held = await pool.acquire()
    waiter = await _waiting(pool)
    pool.release(held, reusable=False)  # e.g. its request was cancelled mid-statement
    assert held.closed
    fresh = await waiter
    assert fresh is connector.made[1] and not fresh.closed
    fresh.in_transaction = True  # whatever the caller says, a transaction left open is not reused
    pool.release(fresh)
    assert fresh.closed and pool.in_use() == 0
    lost_while_idle = await pool.acquire()
    pool.release(lost_while_idle)
    lost_while_idle.closed = True  # the server restarted
    again = await pool.acquire()
    assert again is connector.made[3] and pool.in_use() == 1


async def test_a_waiter_cancelled_is_skipped_and_one_cancelled_as_it_was_served_loses_nothing() -> None:
    pool, _ = await _pool(1)
    held = await pool.acquire()
    cancelled = await _waiting(pool)
    served = await _waiting(pool)
    cancelled.cancel()
    await asyncio.sleep(0)
    pool.release(held)
    assert await served is held

    late = await _waiting(pool)
    pool.release(held)  # handed to `late` ...
    late.cancel()  # ... which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await late
    assert pool.in_use() == 0
    assert await pool.acquire() is held


async def test_a_failed_connect_frees_its_place_and_fails_only_its_request() -> None:
    connector = Connector()
    pool, _ = await _pool(1, connector)
    held = await pool.acquire()
    pool.release(held, reusable=False)
    connector.fail = 1
    with pytest.raises(OSError):
        await pool.acquire()
    assert pool.in_use() == 0
    assert await pool.acquire() is connector.made[1]


async def test_an_open_that_fails_leaves_no_connection_behind() -> None:
    connector = Connector(fail=1)
    pool = ConnectionPool(connector, 3)
    with pytest.raises(OSError):
        await pool.open()
    assert len(connector.made) == 2 and all(c.closed for c in connector.made)
    assert pool.in_use() == 0


async def test_close_closes_the_idle_now_the_taken_when_given_back_and_fails_the_waiters() -> None:
    pool, connector = await _pool(2)
    taken = await pool.acquire()
    other = await pool.acquire()
    waiter = await _waiting(pool)
    pool.release(other)  # served to the waiter
    other_again = await waiter
    waiter = await _waiting(pool)
    await pool.close()
    with pytest.raises(PoolClosed):
        await waiter
    pool.release(taken)
    pool.release(other_again)
    assert all(c.closed for c in connector.made) and pool.in_use() == 0
    with pytest.raises(PoolClosed):
        await pool.acquire()


# -- on PostgreSQL itself ---------------------------------------------------------------------------


@pytest.fixture
async def pg(clean_database: str) -> AsyncIterator[PostgresDatabase]:
    if not clean_database.startswith("postgresql"):
        pytest.skip("PostgreSQL only: the pool holds asyncpg connections")
    db = open_database(clean_database, pool_size=1)
    assert isinstance(db, PostgresDatabase)
    await db.open()
    try:
        yield db
    finally:
        await db.close()


BACKEND = Sql("SELECT pg_backend_pid() AS pid")


async def test_a_request_cancelled_mid_statement_does_not_hand_its_connection_on(pg: PostgresDatabase) -> None:
    before = await pg.fetchrow(BACKEND)

    async def in_transaction() -> None:
        async with pg.transaction() as tx:
            await tx.execute(Sql("CREATE TEMPORARY TABLE left_behind (x int)"))
            await tx.execute(Sql("SELECT pg_sleep(5)"))

    for slow in (lambda: pg.fetchrow(Sql("SELECT pg_sleep(5)")), in_transaction):
        task = asyncio.create_task(slow())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pg.in_use() == 0
        after = await pg.fetchrow(BACKEND)  # a new connection: the old one was still busy
        assert before is not None and after is not None and after["pid"] != before["pid"]
        before = after
    assert await pg.fetchrow(Sql("SELECT to_regclass('left_behind') AS t")) == {"t": None}


async def test_a_connection_the_server_ended_is_replaced_for_the_next_request(pg: PostgresDatabase) -> None:
    first = await pg.fetchrow(BACKEND)
    assert first is not None
    other = await asyncpg.connect(pg._dsn)
    try:
        await other.execute("SELECT pg_terminate_backend($1)", first["pid"])
    finally:
        await other.close()
    await asyncio.sleep(0.2)  # the loop sees the socket close
    second = await pg.fetchrow(BACKEND)
    assert second is not None and second["pid"] != first["pid"]
    assert pg.in_use() == 0
