"""The database engine and its sessions: stock drivers (aiosqlite, asyncpg) and SQLAlchemy's own pool.

SQLite is the embedded store of one process; PostgreSQL is for several processes and production.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

_READ_ONLY = "dvcgw_read_only"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_conn: Any, _: Any) -> None:
        # The driver's own BEGIN is turned off so that _begin below chooses the kind of transaction.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # WAL lets readers run beside the one writer; foreign keys are off by default in SQLite. A writer
        # waits for another's lock up to the busy timeout, on the driver's thread, not the event loop.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        # A write transaction takes the lock at BEGIN (IMMEDIATE): a deferred one that reads first and
        # then writes cannot wait for a writer that committed meanwhile (SQLITE_BUSY_SNAPSHOT), it fails.
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # SQL parameters hold payers' names and phone numbers: keep them out of error messages and logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    # A connection the server dropped is replaced before use (pre-ping), and recycled before the usual
    # idle timeouts of proxies and firewalls.
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


class _ReadOnlySession(Session):
    """A session that refuses to write (listened to once, on the class)."""


@event.listens_for(_ReadOnlySession, "before_flush")
def _refuse_writes(session: Session, *_: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read-only request tried to write; mark its handler as writing")


def read_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, for reads: autocommit on PostgreSQL (no BEGIN, no ROLLBACK round trips; each
    statement sees its own snapshot, all a single read needs), a deferred transaction on SQLite."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine.execution_options(**{_READ_ONLY: True})


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    """Sessions for requests that only read, from the same pool."""
    return async_sessionmaker(read_engine(engine), sync_session_class=_ReadOnlySession, expire_on_commit=False)
