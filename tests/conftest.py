"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when DVCGW_TEST_DATABASE_URL says so).

On PostgreSQL the suite makes its own throw-away database next to the one named, so a run never
touches data it did not create and starts from the migrations every time.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from gateway.db.engine import create_engine
from gateway.db.migrate import upgrade
from gateway.db.models import Base


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _pg_admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def temporary_database(tmp_dir: Path) -> Iterator[str]:
    """An empty database of the kind the run is for; dropped afterwards."""
    base = os.environ.get("DVCGW_TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{tmp_dir / f'{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"dvcgw_test_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin_dsn(base)

    async def admin_sql(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with temporary_database(tmp_path_factory.mktemp("db")) as url:
        upgrade(url)
        yield url


async def empty_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        if database_url.startswith("postgresql"):
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - our own table names
    await engine.dispose()


@pytest.fixture
async def clean_database(database_url: str) -> str:
    await empty_tables(database_url)
    return database_url
