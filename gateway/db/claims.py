"""Claiming due rows for one process when several share the database, and holding them while working."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import structlog
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

log = structlog.get_logger()
Sleep = Callable[[float], Awaitable[None]]


async def claim(
    sessionmaker: async_sessionmaker[Any],
    model: Any,
    *,
    where: list[ColumnElement[bool]],
    order_by: Any,
    limit: int,
    values: Mapping[str, Any],
) -> list[str]:
    """Mark up to `limit` due rows as this process's (e.g. a lease) and return their ids.

    One UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) … RETURNING: on PostgreSQL a concurrent
    claimer skips the locked rows, and on SQLite (no FOR UPDATE) the single statement is atomic.
    The caller's `values` must make the rows no longer match `where`.
    """
    due = select(model.id).where(*where).order_by(order_by).limit(limit).with_for_update(skip_locked=True)
    statement = (
        update(model)
        .where(model.id.in_(due))
        .values(**values)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    async with sessionmaker() as session:
        ids = list((await session.execute(statement)).scalars())
        await session.commit()
    return ids


async def renew(
    sessionmaker: async_sessionmaker[Any],
    model: Any,
    ids: list[str],
    *,
    held: list[ColumnElement[bool]],
    values: Mapping[str, Any],
) -> list[str]:
    """Extend the claim (`values`) on those of `ids` this process still holds (`held`); return those."""
    statement = (
        update(model)
        .where(model.id.in_(ids), *held)
        .values(**values)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    async with sessionmaker() as session:
        kept = list((await session.execute(statement)).scalars())
        await session.commit()
    return kept


@contextlib.asynccontextmanager
async def renewing(renew_once: Callable[[], Awaitable[object]], every: float, sleep: Sleep) -> AsyncIterator[None]:
    """Call `renew_once` every `every` seconds while the block runs.

    The lease stays short, so the claims of a process that died lapse soon, while a live one that is
    slow renews its own as long as it works on them.
    """

    async def loop() -> None:
        while True:
            await sleep(every)
            try:
                await renew_once()
            except Exception:  # the database may be back by the next turn; the lease has slack for it
                log.exception("lease_renewal_failed")

    task = asyncio.create_task(loop(), name="lease-renewal")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
