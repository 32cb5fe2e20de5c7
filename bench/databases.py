"""A throw-away database per run: a SQLite file in a temp directory, or a dedicated PostgreSQL database.

PostgreSQL: the bench creates `dvcgw_bench` (override with BENCH_PG_DATABASE) next to the server named by
BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres, a superuser: CREATE/DROP DATABASE, the
server's settings for a run, its log's files) and drops it afterwards. It never touches another database's
tables. Unless told `--pg-server as-is`, bench.run sets the server as the README recommends for the run and
puts back what was there afterwards (pg_settings).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
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


def pg_recommended() -> dict[str, str]:
    """README.md, "PostgreSQL settings": what the README asks of a production server (both take effect on a
    reload), so that the bench's PostgreSQL rows measure the gateway on a server set as the README says."""
    kinds = on_server(lambda conn: conn.fetchval("SELECT enumvals FROM pg_settings WHERE name = 'wal_compression'"))
    # before PostgreSQL 15 wal_compression is a boolean, and `on` means pglz
    compression = "on" if kinds is None else "lz4" if "lz4" in kinds else "pglz"
    return {"wal_compression": compression, "min_wal_size": "1GB"}


_SEGMENTS = "FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'"  # not .history, .partial or the like


def pg_wal_files() -> dict[str, int] | None:
    """The log's segment files: all of them, and those ahead of the one being written (ready for reuse);
    None where this role may not list them."""
    query = (
        "SELECT count(*) FILTER (WHERE name > pg_walfile_name(pg_current_wal_lsn())) AS ready,"
        f" count(*) AS files {_SEGMENTS}"
    )
    try:
        row = on_server(lambda conn: conn.fetchrow(query))
    except asyncpg.InsufficientPrivilegeError:
        return None
    return {"ready": row["ready"], "files": row["files"]}


# What the server had before a run set it, kept until it is put back: a run killed outright (SIGKILL, a
# lost machine) leaves the bench's values in postgresql.auto.conf, and whatever runs next on that server
# must put back these rather than take the bench's values for the server's own (pg_available does).
_SAVED = Path(__file__).resolve().parent.parent / "var" / "bench-pg-settings.json"


def _saved() -> dict[str, str | None] | None:
    """What a killed run left to put back on this server (BENCH_PG_URL), if anything."""
    if not _SAVED.exists():
        return None
    try:
        saved = json.loads(_SAVED.read_text())
    except ValueError:
        raise SystemExit(f"{_SAVED} is not the JSON a bench run writes: see what it holds, then delete it") from None
    if saved.get("server") != PG_ADMIN_URL:
        raise SystemExit(f"{_SAVED} holds settings to put back on {saved.get('server')}, not {PG_ADMIN_URL}")
    settings: dict[str, str | None] = saved["settings"]
    return settings


def _put_back(before: Mapping[str, str | None]) -> None:
    on_server(lambda conn: _alter_system(conn, before))
    _SAVED.unlink(missing_ok=True)


@contextlib.contextmanager
def pg_settings(settings: Mapping[str, str]) -> Iterator[None]:
    """`settings` server-wide (ALTER SYSTEM) for the block, then what was there before.

    A reload applies them. With `min_wal_size` among them the log is grown to that size first: a segment
    that does not exist is created by the commit that needs it while every other commit waits (bench/README.md,
    Twelfth round), and PostgreSQL only keeps for reuse the segments it has already created.
    """
    found = on_server(lambda conn: _auto_conf(conn, list(settings)))
    before = {name: found.get(name) for name in settings}
    _SAVED.parent.mkdir(exist_ok=True)
    written = _SAVED.with_suffix(".tmp")
    written.write_text(json.dumps({"server": PG_ADMIN_URL, "settings": before}))
    written.replace(_SAVED)  # whole or not at all
    try:
        on_server(lambda conn: _alter_system(conn, settings))
        if "min_wal_size" in settings:
            on_server(partial(_grow_wal, settings["min_wal_size"]))
        yield
    finally:
        _put_back(before)


async def _auto_conf(conn: asyncpg.Connection, names: list[str]) -> dict[str, str]:
    """The values postgresql.auto.conf gives `names` (a previous ALTER SYSTEM), to put back afterwards."""
    rows = await conn.fetch(
        "SELECT name, setting FROM pg_file_settings"
        " WHERE name = ANY($1::text[]) AND sourcefile LIKE '%/postgresql.auto.conf' AND applied",
        names,
    )
    return {row["name"]: row["setting"] for row in rows}


async def _alter_system(conn: asyncpg.Connection, settings: Mapping[str, str | None]) -> None:
    """ALTER SYSTEM SET each name to its value (RESET where None), then reload."""
    for name, value in settings.items():
        if value is None:
            await conn.execute(f"ALTER SYSTEM RESET {_identifier(name)}")
        else:
            # ALTER SYSTEM takes no parameters; the value goes in as a quoted literal
            literal = "'" + value.replace("'", "''") + "'"
            await conn.execute(f"ALTER SYSTEM SET {_identifier(name)} = {literal}")
    await conn.execute("SELECT pg_reload_conf()")
    # the postmaster signals the backends; a new connection reads the file again, this one at its next command
    await asyncio.sleep(0.5)


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a setting's name: {name!r}")
    return name


async def _grow_wal(size: str, conn: asyncpg.Connection) -> None:
    """Create `size` of log segments, then checkpoint so that they are kept for reuse.

    Switching segments alone does not grow the log: once a switch has passed a checkpoint's trigger, the
    checkpoint renames the old segments for reuse and the next switches take those. A temporary slot keeps
    every segment from its position on until the log has the size wanted (on an error it goes with the
    connection); the checkpoint after it is dropped hands them over for reuse.
    """
    wanted: int = await conn.fetchval(
        "SELECT (pg_size_bytes($1) / pg_size_bytes(current_setting('wal_segment_size')))::int", size
    )
    await conn.execute("SELECT pg_create_physical_replication_slot('dvcgw_bench_grow_wal', true, true)")
    for _ in range(wanted):
        # a switch only moves on from a segment something was written to
        await conn.execute("SELECT pg_logical_emit_message(false, 'dvcgw-bench', 'grow the log')")
        await conn.execute("SELECT pg_switch_wal()")
    await conn.execute("SELECT pg_drop_replication_slot('dvcgw_bench_grow_wal')")
    await conn.execute("CHECKPOINT")


async def _run_all(statements: str, conn: asyncpg.Connection) -> None:
    # split at every `;`: no `;` inside a literal or a DO body
    for statement in filter(None, (part.strip() for part in statements.split(";"))):
        await conn.execute(statement)


def pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not. Settings a killed run left set on the
    server are put back first, so that every tool measures the server as it was (pg_settings)."""
    try:
        _pg_admin("SELECT 1")
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    if (left := _saved()) is not None:
        _put_back(left)
    return None


def create_database(kind: str, pg_setup: str = "") -> BenchDatabase:
    """A new, migrated, empty database; on PostgreSQL, `pg_setup`'s statements (;-separated) run on it
    after the migrations: what-ifs of a setting or a schema change, never how the gateway runs."""
    if kind == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="dvcgw-bench-"))
        db = BenchDatabase("sqlite", f"sqlite+aiosqlite:///{tmp / 'bench.db'}", tmp)
    elif kind == "postgres":
        _pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')  # left over by an interrupted run
        _pg_admin(f'CREATE DATABASE "{PG_DATABASE}"')
        plain = make_url(PG_ADMIN_URL).set(database=PG_DATABASE)
        db = BenchDatabase("postgres", plain.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False))
    else:
        raise ValueError(f"unknown database kind {kind!r}")
    try:
        upgrade(db.url)
        if pg_setup and kind == "postgres":
            on_server(partial(_run_all, pg_setup), plain.render_as_string(hide_password=False))
    except BaseException:
        db.drop()
        raise
    return db
