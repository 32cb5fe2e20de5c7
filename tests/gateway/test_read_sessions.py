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
    """On PostgreSQL a read session runs in autocommit; on SQLite it begins a deferred transaction, which
    takes no lock (a writing one begins IMMEDIATE: gateway/db/engine.py)."""
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
            read = str(select(Client.name).compile(engine))
            assert statements == ([read] if postgres else ["BEGIN", read])
            assert await _in_transaction(session) is not postgres
        # The same pooled connection serves an ordinary session next, in a transaction again.
        async with create_sessionmaker(engine)() as session:
            statements.clear()
            assert await session.scalar(select(Client.name)) == "Cổng DVC"
            assert await _in_transaction(session)
            assert statements[0] == ("BEGIN IMMEDIATE" if not postgres else read)
    finally:
        await engine.dispose()


async def test_a_read_holds_one_connection_at_a_time_and_gives_it_back(world: World) -> None:
    """Authentication (cache cold) and the read each take a connection and give it back before the next,
    so a burst of first requests cannot exhaust the pool by holding one while waiting for another."""
    payment = (await world.create_payment()).json()
    pool = world.app.state.engine.sync_engine.pool
    held = [0]
    most = [0]

    def out(*_: object) -> None:
        held[0] += 1
        most[0] = max(most[0], held[0])

    def back(*_: object) -> None:
        held[0] -= 1

    event.listen(pool, "checkout", out)
    event.listen(pool, "checkin", back)
    world.app.state.callers._entries.clear()  # cold: the key is looked up in the database
    for _ in range(2):
        r = await world.http.get(f"/v1/payments/{payment['id']}", headers=world.auth())
        assert r.status_code == 200 and r.json()["id"] == payment["id"]
    missing = await world.http.get("/v1/payments/pay_nothing", headers=world.auth())
    assert missing.status_code == 404
    assert most[0] == 1 and held[0] == 0
