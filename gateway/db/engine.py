from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from gateway.db import sqlite_inline
from gateway.db.checkpoint import CHECKPOINT_BACKSTOP_PAGES


def configure_sqlite(dbapi_conn: Any) -> None:
    """The settings every SQLite connection of the gateway runs with (SQLAlchemy's and direct.py's)."""
    cur = dbapi_conn.cursor()
    # WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Checkpoints run on a thread (checkpoint.py); a commit checkpoints only if that falls far behind.
    cur.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_BACKSTOP_PAGES}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # SQL parameters hold payers' names and phone numbers: keep them out of error messages and logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        # The aiosqlite dialect, driven in place instead of through aiosqlite's thread (sqlite_inline.py).
        database = make_url(url).database or ":memory:"
        kwargs.setdefault("async_creator", partial(sqlite_inline.connect, database))
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
            configure_sqlite(dbapi_conn)

        return engine
    # No pre-ping: on this kind of machine it doubled the cost of a request (bench/results/experiments.md).
    # A connection the server dropped fails one statement; SQLAlchemy then discards the whole pool and
    # every caller on this path is safe to repeat (idempotency keys; VNPay resends its IPN). Recycling
    # keeps connections younger than the usual idle timeouts of proxies and firewalls.
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


class _ReadOnlySession(Session):
    """A session that refuses to write (listened to once, on the class: a listener per instance is costly)."""


@event.listens_for(_ReadOnlySession, "before_flush")
def _refuse_writes(session: Session, *_: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read-only request tried to write; mark its handler as writing")


def read_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, in autocommit on PostgreSQL (see create_read_sessionmaker)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    """Sessions for requests that only read, from the same pool.

    On PostgreSQL they run in autocommit: no BEGIN before the first statement and no ROLLBACK when the
    connection goes back to the pool, two of a read's three round trips (bench/README.md). Each statement
    sees its own snapshot, which is all a single-row read needs. SQLite's driver opens no transaction for
    a SELECT anyway, and its isolation setting is left alone (write transactions there begin IMMEDIATE).
    """
    return async_sessionmaker(read_engine(engine), sync_session_class=_ReadOnlySession, expire_on_commit=False)
