"""One atomic "add one and tell me the count" on a counter row, for SQLite (3.35+) and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


async def count_one(session: AsyncSession, key: dict[str, Any], counter: InstrumentedAttribute[int]) -> int:
    """Add one to `counter` in the row `key` names (its primary key), making the row at 1 if there is none;
    the count with this one in. One INSERT ... ON CONFLICT DO UPDATE ... RETURNING: processes sharing the
    database never lose each other's counts."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(counter.class_)
        .values(**key, **{counter.key: 1})
        .on_conflict_do_update(index_elements=list(key), set_={counter.key: counter + 1})
        .returning(counter)
    )
    return int(await session.scalar(statement) or 0)
