"""SQLite's group commit (gateway/db/group_commit.py): transactions that end in one turn of the event loop
commit together, each keeps its own outcome, and a batch that fails writes nothing of any of them."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from gateway.db.direct import Database, DuplicateRow, Sql, SQLiteDatabase
from gateway.db.group_commit import GroupCommit
from gateway.db.models import Client, Payment, ProviderNotification
from tests.gateway.test_direct import _notification, _payment_row, stores  # noqa: F401 - the fixture below uses it

pytestmark = pytest.mark.anyio
_BUMP = Sql("UPDATE payments SET status = $1, version = version + 1 WHERE id = $2 AND version = $3")


@pytest.fixture
def sqlite_stores(
    stores: tuple[Database, AsyncSession, Client],  # noqa: F811 - pytest passes the fixture imported above
) -> tuple[SQLiteDatabase, AsyncSession, Client]:
    db, session, client = stores
    if not isinstance(db, SQLiteDatabase):
        pytest.skip("SQLite only: PostgreSQL commits each transaction on its own connection")
    return db, session, client


async def _acks(session: AsyncSession) -> list[str]:
    session.expire_all()
    return sorted((await session.scalars(select(ProviderNotification.ack_code))).all())


async def _notify(db: SQLiteDatabase, ack: str) -> None:
    async with db.transaction() as tx:
        tx.append(ProviderNotification, _notification(ack))


async def test_transactions_ending_in_one_turn_share_one_commit(
    sqlite_stores: tuple[SQLiteDatabase, AsyncSession, Client],
) -> None:
    db, session, _ = sqlite_stores
    seen = Sql("SELECT count(*) AS n FROM provider_notifications WHERE ack_code = $1")

    async def notify_and_look(ack: str) -> None:
        await _notify(db, ack)
        # Committed by the time the block returns: another connection sees it.
        assert await db.fetchrow(seen, ack) == {"n": 1}

    await asyncio.gather(*(notify_and_look(f"n{i}") for i in range(5)))
    assert await _acks(session) == [f"n{i}" for i in range(5)]
    assert (db.group.batches, db.group.members) == (1, 5)
    await _notify(db, "alone")  # a lone transaction is a batch of one
    assert (db.group.batches, db.group.members) == (2, 6)
    assert db.in_use() == 0


async def test_a_transaction_that_fails_in_a_batch_writes_nothing_and_the_others_commit(
    sqlite_stores: tuple[SQLiteDatabase, AsyncSession, Client],
) -> None:
    db, session, client = sqlite_stores
    async with db.transaction() as tx:
        tx.append(Payment, _payment_row(client))

    async def stale() -> None:  # the version read is not the row's any more: nothing of it is written
        async with db.transaction() as tx:
            tx.update_one(_BUMP, "processing", "pay_ref1", 7)
            tx.append(ProviderNotification, _notification("stale"))

    async def duplicate() -> None:  # its first row goes in, its second is refused: neither stays
        async with db.transaction() as tx:
            tx.append(ProviderNotification, _notification("duplicate"))
            tx.append(Payment, _payment_row(client) | {"id": "pay_other"})  # the same provider reference

    async def bump() -> None:
        async with db.transaction() as tx:
            tx.update_one(_BUMP, "processing", "pay_ref1", 1)
            tx.append(ProviderNotification, _notification("bumped"))

    outcomes = await asyncio.gather(
        _notify(db, "before"), stale(), duplicate(), bump(), _notify(db, "after"), return_exceptions=True
    )
    assert outcomes[0] is None and outcomes[3] is None and outcomes[4] is None
    assert isinstance(outcomes[1], StaleDataError) and isinstance(outcomes[2], DuplicateRow)
    assert await _acks(session) == ["after", "before", "bumped"]
    assert (await session.scalar(select(Payment.version).where(Payment.id == "pay_ref1"))) == 2
    assert (await session.scalar(select(func.count()).select_from(Payment))) == 1
    assert db.group.batches == 2  # the payment's, then the five together
    assert db.in_use() == 0


@asynccontextmanager
async def _impatient_while_locked(
    sqlite_stores: tuple[SQLiteDatabase, AsyncSession, Client], patience: float
) -> AsyncIterator[SQLiteDatabase]:
    """A database on the same file whose writers give up after `patience` seconds, while the session of
    `sqlite_stores` holds the write lock (until the block commits it)."""
    db, session, client = sqlite_stores
    impatient = SQLiteDatabase(db._path, pool_size=2, patience=patience)
    try:
        client.name = "holder"
        await session.flush()
        yield impatient
    finally:
        await impatient.close()


async def test_when_the_batch_cannot_take_the_lock_every_transaction_in_it_fails_and_nothing_is_written(
    sqlite_stores: tuple[SQLiteDatabase, AsyncSession, Client],
) -> None:
    session = sqlite_stores[1]
    async with _impatient_while_locked(sqlite_stores, 0.05) as db:
        outcomes = await asyncio.gather(*(_notify(db, f"n{i}") for i in range(3)), return_exceptions=True)
        await session.commit()
        assert all(isinstance(o, sqlite3.OperationalError) and "locked" in str(o) for o in outcomes), outcomes
        assert len({id(o) for o in outcomes}) == 3  # each caller raises an object of its own
        assert await _acks(session) == []
        assert db.group.batches == 0 and db.in_use() == 0
        await _notify(db, "later")  # the database is usable again once the lock is free
        assert await _acks(session) == ["later"]


async def test_a_transaction_queued_while_the_batch_waits_for_the_lock_waits_with_a_patience_of_its_own(
    sqlite_stores: tuple[SQLiteDatabase, AsyncSession, Client],
) -> None:
    session = sqlite_stores[1]
    async with _impatient_while_locked(sqlite_stores, 0.4) as db:
        first = asyncio.create_task(_notify(db, "first"))
        await asyncio.sleep(0.2)
        second = asyncio.create_task(_notify(db, "second"))  # joins while the batch waits
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await first  # out of patience after 0.4 s
        assert not second.done()  # its own 0.4 s began when the first gave up
        await session.commit()
        await second
        assert await _acks(session) == ["second"]


def _memory_table() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    connection.execute("CREATE TABLE t (v TEXT)")
    return connection


async def test_writes_that_end_the_batch_transaction_themselves_fail_the_batch() -> None:
    connection = _memory_table()

    def write(conn: sqlite3.Connection, value: Any) -> None:
        conn.execute("INSERT INTO t VALUES (?)", (value,))
        if value == "commits":
            conn.execute("COMMIT")  # the next transaction's SAVEPOINT would start a transaction of its own

    group: GroupCommit[Any] = GroupCommit(lambda: connection, lambda _: None, write, patience=1)
    outcomes = await asyncio.gather(group.commit("a"), group.commit("commits"), return_exceptions=True)
    assert all(isinstance(o, sqlite3.OperationalError) for o in outcomes), outcomes
    connection.close()


async def test_when_sqlite_ends_the_batch_transaction_every_transaction_in_it_fails() -> None:
    connection = _memory_table()

    def write(conn: sqlite3.Connection, value: Any) -> None:
        conn.execute("INSERT INTO t VALUES (?)", (value,))
        if value == "fatal":
            conn.execute("ROLLBACK")  # as SQLite does itself on some errors (SQLITE_FULL, SQLITE_IOERR)
            raise sqlite3.OperationalError("disk full")

    group: GroupCommit[Any] = GroupCommit(lambda: connection, lambda _: None, write, patience=1)
    outcomes = await asyncio.gather(group.commit("a"), group.commit("fatal"), group.commit("b"), return_exceptions=True)
    assert all(isinstance(o, sqlite3.OperationalError) and "disk full" in str(o) for o in outcomes), outcomes
    assert connection.execute("SELECT count(*) FROM t").fetchone() == (0,)
    await group.commit("c")  # and the next batch is a new transaction
    assert connection.execute("SELECT v FROM t").fetchall() == [("c",)]
    connection.close()


async def test_a_transaction_cancelled_while_its_writes_wait_for_their_turn_writes_nothing(
    sqlite_stores: tuple[SQLiteDatabase, AsyncSession, Client],
) -> None:
    db, session, _ = sqlite_stores
    cancelled = asyncio.create_task(_notify(db, "cancelled"))
    kept = asyncio.create_task(_notify(db, "kept"))
    await asyncio.sleep(0)  # both have queued their writes; the batch is written at the next turn
    assert len(db.group._queue) == 2
    cancelled.cancel()
    await kept
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert await _acks(session) == ["kept"]
    assert (db.group.batches, db.group.members) == (1, 1)
    assert db.in_use() == 0


async def test_closing_the_database_waits_for_the_writes_already_queued(
    sqlite_stores: tuple[SQLiteDatabase, AsyncSession, Client],
) -> None:
    db, session, _ = sqlite_stores
    queued = asyncio.create_task(_notify(db, "queued"))
    await asyncio.sleep(0)  # queued, not written yet
    await db.close()
    assert await _acks(session) == ["queued"]  # written before close returned
    await queued
    # A request still running after close, with its writes queued then: written, and no connection of
    # it is kept open by the closed database.
    await _notify(db, "after close")
    assert await _acks(session) == ["after close", "queued"]
    assert db._idle == [] and db.in_use() == 0


async def test_when_no_connection_can_be_had_the_callers_get_that_error() -> None:
    def take() -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    group: GroupCommit[Any] = GroupCommit(take, lambda _: None, lambda conn, value: None, patience=1)
    outcomes = await asyncio.gather(group.commit("a"), group.commit("b"), return_exceptions=True)
    assert all(isinstance(o, sqlite3.OperationalError) and "unable to open" in str(o) for o in outcomes), outcomes
