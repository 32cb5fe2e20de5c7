"""A throw-away database per run: a SQLite file in a temp directory, or a dedicated PostgreSQL database.

PostgreSQL: the bench creates `dvcgw_bench` (override with BENCH_PG_DATABASE) next to the server named by
BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres, used only for CREATE/DROP DATABASE)
and drops it afterwards. It never touches another database's tables.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import asyncpg
from sqlalchemy.engine import make_url

from gateway.db.migrate import upgrade

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = os.environ.get("BENCH_PG_DATABASE", "dvcgw_bench")
T = TypeVar("T")


@dataclass
class BenchDatabase:
    kind: str  # "sqlite" | "postgres"
    url: str  # the gateway's DVCGW_DATABASE_URL
    _tmpdir: Path | None = field(default=None, repr=False)

    def drop(self) -> None:
        if self.kind == "postgres":
            _pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        elif self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)


def on_server(work: Callable[[asyncpg.Connection], Awaitable[T]], url: str = PG_ADMIN_URL) -> T:
    """`work` on one new connection to `url` (a plain postgresql:// URL), closed afterwards."""

    async def go() -> T:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(go())


def _pg_admin(sql: str) -> None:
    on_server(lambda conn: conn.execute(sql))


# The server settings a PostgreSQL row depends on beyond the gateway's code: the commit's flush, the
# log's compression and the segments kept for reuse (bench/README.md, Twelfth round), the checkpoints.
PG_SETTINGS = (
    "server_version",
    "synchronous_commit",
    "wal_compression",
    "min_wal_size",
    "max_wal_size",
    "checkpoint_timeout",
    "shared_buffers",
)


def pg_server() -> dict[str, str]:
    """PG_SETTINGS as SHOW prints them (current_setting is SHOW's text), for a run's header."""
    query = "SELECT name, current_setting(name) AS value FROM unnest($1::text[]) AS name"
    rows = on_server(lambda conn: conn.fetch(query, PG_SETTINGS))
    return {row["name"]: row["value"] for row in rows}


def pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        _pg_admin("SELECT 1")
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def create_database(kind: str) -> BenchDatabase:
    """A new, migrated, empty database."""
    if kind == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="dvcgw-bench-"))
        db = BenchDatabase("sqlite", f"sqlite+aiosqlite:///{tmp / 'bench.db'}", tmp)
    elif kind == "postgres":
        _pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')  # left over by an interrupted run
        _pg_admin(f'CREATE DATABASE "{PG_DATABASE}"')
        url = make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=PG_DATABASE)
        db = BenchDatabase("postgres", url.render_as_string(hide_password=False))
    else:
        raise ValueError(f"unknown database kind {kind!r}")
    try:
        upgrade(db.url)
    except BaseException:
        db.drop()
        raise
    return db
