"""Claiming due rows for one process when several share the database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker


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
