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
        self.closed_cleanly = False
        self.close_gate = asyncio.Event()  # close() waits for it: the server's answer to a cancel
        self.close_gate.set()

    def is_closed(self) -> bool:
        return self.closed

    def is_in_transaction(self) -> bool:
        return self.in_transaction

    def terminate(self) -> None:
        self.closed = True

    async def close(self, **_: Any) -> None:  # asyncpg's takes a timeout
        await self.close_gate.wait()
        self.closed = self.closed_cleanly = True


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
    pool.release(a, RuntimeError("refused by the server"))  # a failure the block saw through: kept
    assert await pool.acquire() is a and not a.closed
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


async def test_a_connection_not_safe_to_reuse_is_closed_cleanly_and_only_then_replaced() -> None:
    pool, connector = await _pool(1)
    held = await pool.acquire()
    waiter = await _waiting(pool)
    held.close_gate.clear()  # the server has not answered the cancel yet
    pool.release(held, asyncio.CancelledError())  # its request was cancelled mid-statement
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiter.done() and len(connector.made) == 1  # no second backend while the first runs on
    held.close_gate.set()
    fresh = await waiter
    assert held.closed_cleanly and fresh is connector.made[1] and not fresh.closed
    fresh.in_transaction = True  # whatever the caller says, a transaction left open is not reused
    pool.release(fresh)
    await asyncio.sleep(0)
    assert fresh.closed_cleanly and pool.in_use() == 0
    lost_while_idle = await pool.acquire()
    pool.release(lost_while_idle)
    lost_while_idle.closed = True  # the server restarted
    again = await pool.acquire()
    assert again is connector.made[3] and pool.in_use() == 1


async def test_a_waiter_woken_for_a_freed_place_and_cancelled_passes_it_on() -> None:
    pool, connector = await _pool(1)
    held = await pool.acquire()
    woken = await _waiting(pool)
    next_in_line = await _waiting(pool)
    pool.release(held, asyncio.CancelledError())
    await asyncio.sleep(0)  # closed: `woken` is told to open a connection in its place ...
    woken.cancel()  # ... and is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await woken
    assert await asyncio.wait_for(next_in_line, 1) is connector.made[1]


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
    pool.release(held, asyncio.CancelledError())
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
    await asyncio.sleep(0)
    assert all(c.closed for c in connector.made) and pool.in_use() == 0
    with pytest.raises(PoolClosed):
        await pool.acquire()


async def test_a_waiter_cancelled_as_the_pool_closes_ends_cancelled() -> None:
    pool, _ = await _pool(1)
    await pool.acquire()
    waiter = await _waiting(pool)
    await pool.close()  # fails the waiter ...
    waiter.cancel()  # ... which is cancelled before it runs: cancelled it stays, for asyncio.timeout's sake
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert waiter.cancelled()


async def test_an_open_cancelled_leaves_no_connection_behind() -> None:
    slow = asyncio.Event()

    class HalfSlow(Connector):
        calls = 0

        async def __call__(self) -> Any:
            self.calls += 1
            if self.calls > 1:
                await slow.wait()
            return await super().__call__()

    connector = HalfSlow()
    pool = ConnectionPool(connector, 2)
    opening = asyncio.create_task(pool.open())
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(connector.made) == 1
    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening
    assert connector.made[0].closed and pool.in_use() == 0


# -- on PostgreSQL itself ---------------------------------------------------------------------------


@pytest.fixture
def pg_url(clean_database: str) -> str:
    if not clean_database.startswith("postgresql"):
        pytest.skip("PostgreSQL only: cancel requests, backends and pg_terminate_backend are the server's")
    return clean_database


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[PostgresDatabase]:
    db = open_database(pg_url, pool_size=1)
    assert isinstance(db, PostgresDatabase)
    await db.open()
    try:
        yield db
    finally:
        await db.close()


BACKEND = Sql("SELECT pg_backend_pid() AS pid")


async def _settled(pg: PostgresDatabase) -> None:
    for _ in range(100):  # a connection given back after a cancel closes once the server has answered
        if pg.in_use() == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("a connection was not given back")


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
        await _settled(pg)
        after = await pg.fetchrow(BACKEND)  # a new connection: the old one was still busy
        assert before is not None and after is not None and after["pid"] != before["pid"]
        before = after
    assert await pg.fetchrow(Sql("SELECT to_regclass('left_behind') AS t")) == {"t": None}


async def test_a_write_whose_request_was_cancelled_is_stopped_on_the_server(pg: PostgresDatabase) -> None:
    # Its caller was told it failed: it must not commit later, nor hold locks in a backend nobody holds.
    admin = await asyncpg.connect(pg._dsn)
    blocker = await asyncpg.connect(pg._dsn)
    try:
        await admin.execute(
            "CREATE TABLE cancelled_writes (id int PRIMARY KEY, v int); INSERT INTO cancelled_writes VALUES (1, 0)"
        )
        await blocker.execute("BEGIN; SELECT * FROM cancelled_writes FOR UPDATE")
        write = asyncio.create_task(pg.fetchrow(Sql("UPDATE cancelled_writes SET v = v + 1 WHERE id = 1 RETURNING v")))
        await asyncio.sleep(0.3)  # waiting for the row's lock
        write.cancel()
        with pytest.raises(asyncio.CancelledError):
            await write
        await _settled(pg)
        backends = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert await admin.fetchval(backends) == 1  # the blocker's; the pool's one connection was closed
        await blocker.execute("COMMIT")
        await asyncio.sleep(0.2)
        assert await admin.fetchval("SELECT v FROM cancelled_writes") == 0
        assert await pg.fetchrow(Sql("SELECT v FROM cancelled_writes")) == {"v": 0}
    finally:
        await blocker.close()
        await admin.execute("DROP TABLE IF EXISTS cancelled_writes")
        await admin.close()


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


async def test_a_database_closed_while_its_pool_opens_does_not_keep_that_pool(pg_url: str) -> None:
    db = open_database(pg_url, pool_size=2)
    opening = asyncio.create_task(db.open())
    await asyncio.sleep(0)  # connecting
    await db.close()  # the process is stopping
    with pytest.raises(PoolClosed):
        await opening
    assert db.in_use() == 0
    await db.open()  # started again, as an app's lifespan may be
    try:
        assert await db.fetchrow(Sql("SELECT 1 AS one")) == {"one": 1}
    finally:
        await db.close()
