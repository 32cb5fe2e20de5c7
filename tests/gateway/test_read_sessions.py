"""Sessions of read-only requests: no transaction on PostgreSQL, and no writing at all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth import new_client
from gateway.db.engine import create_engine, create_read_sessionmaker, create_sessionmaker
from gateway.db.models import Client
from tests.harness import World

pytestmark = pytest.mark.anyio


async def test_a_read_only_session_refuses_to_write(clean_database: str) -> None:
    engine = create_engine(clean_database)
    try:
        async with create_read_sessionmaker(engine)() as session:
            client, _ = new_client("Cổng DVC", datetime.now(UTC))
            session.add(client)
            with pytest.raises(RuntimeError, match="read-only"):
                await session.flush()
        async with create_sessionmaker(engine)() as session:
            assert (await session.scalars(select(Client))).all() == []
    finally:
        await engine.dispose()


async def _in_transaction(session: AsyncSession) -> bool:
    raw = (await (await session.connection()).get_raw_connection()).driver_connection
    return bool(raw.is_in_transaction() if hasattr(raw, "is_in_transaction") else raw.in_transaction)


async def test_a_read_sends_only_its_statement_outside_a_transaction(clean_database: str) -> None:
    engine = create_engine(clean_database)
    postgres = engine.dialect.name == "postgresql"
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        async with create_sessionmaker(engine)() as session:
            client, _ = new_client("Cổng DVC", datetime.now(UTC))
            session.add(client)
            await session.commit()
        async with create_read_sessionmaker(engine)() as session:
            statements.clear()
            assert await session.scalar(select(Client.name)) == "Cổng DVC"
            assert statements == [str(select(Client.name).compile(engine))]
            assert not await _in_transaction(session)
        # The same pooled connection serves an ordinary session next: on PostgreSQL in a transaction again.
        async with create_sessionmaker(engine)() as session:
            assert await session.scalar(select(Client.name)) == "Cổng DVC"
            assert await _in_transaction(session) is postgres
    finally:
        await engine.dispose()


async def test_reading_a_payment_takes_no_session_and_gives_its_connection_back(world: World) -> None:
    """Authentication (cache cold or warm) and the read run on the direct path (gateway/db/direct.py): no
    connection of SQLAlchemy's pool, and each statement gives its own connection back at once, so a burst
    of first requests cannot exhaust a pool by holding one connection while waiting for another."""
    payment = (await world.create_payment()).json()
    pool = world.app.state.engine.sync_engine.pool
    db = world.app.state.db
    checkouts: list[object] = []
    held: list[int] = []
    fetchrow = db.fetchrow

    async def watched(*args: object) -> object:
        held.append(db.in_use())
        return await fetchrow(*args)

    event.listen(pool, "checkout", lambda *a: checkouts.append(a))
    db.fetchrow = watched
    try:
        world.app.state.callers._entries.clear()  # cold: the key is looked up in the database
        for _ in range(2):
            r = await world.http.get(f"/v1/payments/{payment['id']}", headers=world.auth())
            assert r.status_code == 200 and r.json()["id"] == payment["id"]
        missing = await world.http.get("/v1/payments/pay_nothing", headers=world.auth())
        assert missing.status_code == 404
    finally:
        del db.fetchrow
    assert checkouts == []
    # The key lookup, then per request its key's count (gateway/limits.py) and its read; nothing held
    # while taking the next.
    assert held == [0] * 7
    assert db.in_use() == 0
