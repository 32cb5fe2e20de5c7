"""Claiming due rows for one process when several share the database, and holding them while working.

Every worker (webhook dispatcher, payment resolver, shipment poller) holds what it claimed by a short
lease: a column of the row set to "now + lease" by the claim and pushed on every third of the lease while
the work runs. A process that dies stops pushing, so its rows are due again within one lease (and are taken
by the next poll of any process); a live process that is slow keeps its rows as long as it works on them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

log = structlog.get_logger()
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Claimed:
    """What one claim took: the rows' ids and the lease's end as written on them (the claim's mark)."""

    ids: list[str]
    until: datetime


@dataclass
class Lease:
    """A short lease on rows of `model`, held in `column` (a time: the row is due again at it).

    `held` narrows renewals to rows that are still this process's beyond the column's value (the webhook
    dispatcher's locked_by). A row whose work finished has a new value in `column` (delivered, rescheduled),
    so it no longer carries the mark and is left alone.
    """

    sessionmaker: async_sessionmaker[Any]
    model: Any
    column: Any
    length: timedelta
    now: Callable[[], datetime]
    held: list[ColumnElement[bool]] = field(default_factory=list)

    async def claim(
        self, *, where: list[ColumnElement[bool]], order_by: Any, limit: int, values: Mapping[str, Any] | None = None
    ) -> Claimed:
        until = self.now() + self.length
        ids = await claim(
            self.sessionmaker,
            self.model,
            where=where,
            order_by=order_by,
            limit=limit,
            values={self.column.key: until, **(values or {})},
        )
        return Claimed(ids, until)

    async def renew_once(self, claimed: Claimed) -> None:
        if not claimed.ids:
            return
        until = self.now() + self.length
        claimed.ids = await renew(
            self.sessionmaker,
            self.model,
            claimed.ids,
            held=[self.column == claimed.until, *self.held],
            values={self.column.key: until},
        )
        claimed.until = until

    @contextlib.asynccontextmanager
    async def holding(self, claimed: Claimed, sleep: Sleep) -> AsyncIterator[Claimed]:
        """Renew the claim every third of the lease while the block runs."""
        async with renewing(lambda: self.renew_once(claimed), self.length.total_seconds() / 3, sleep):
            yield claimed


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
