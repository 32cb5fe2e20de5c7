"""SQLite for the asyncio engine without a thread per connection.

aiosqlite runs every call (cursor, execute, fetch, close, commit) on a thread of its own and wakes the
event loop for each answer: a read by primary key took about a dozen thread round trips, 2.4 ms of CPU
per request on the bench machine (bench/README.md). A SQLite statement on a local file takes microseconds,
so this module runs it on the loop's thread, behind the same interface SQLAlchemy's aiosqlite dialect
drives (it is handed over as `async_creator`; the dialect, the SQL and the pool are SQLAlchemy's own).

What it must not do is block the loop while another writer holds the file's lock: the connection's busy
timeout is zero, and a statement that finds the database locked is retried after an `asyncio.sleep`, so
a transaction of this process that is itself waiting on I/O can finish meanwhile. Write transactions
begin IMMEDIATE, so the lock is taken by the BEGIN that the driver issues before the first write: if that
is answered SQLITE_BUSY, nothing has started and the retry is a clean one; once it succeeds, the
transaction's other statements cannot be refused for the lock (SQLite's "SQLITE_BUSY" and "BEGIN
TRANSACTION" pages; a COMMIT answered SQLITE_BUSY may be retried as it is). Waiting stops after `patience`
seconds with the "database is locked" error, as the driver's own busy timeout would.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

_BUSY = sqlite3.SQLITE_BUSY
_BUSY_SNAPSHOT = 517  # a stale read snapshot cannot be upgraded: waiting does not help, only a new transaction
_FIRST_WAIT, _MAX_WAIT = 0.0005, 0.01
DEFAULT_PATIENCE = 30.0  # seconds a statement waits for another writer's lock before "database is locked"


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY (and its extended codes) that waiting can cure."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == _BUSY and code != _BUSY_SNAPSHOT


async def when_unlocked(call: Callable[[], Any], patience: float) -> Any:
    deadline = time.monotonic() + patience
    wait = _FIRST_WAIT
    while True:
        try:
            return call()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(wait * random.uniform(0.5, 1.5))  # jitter: two processes do not retry in step
        wait = min(wait * 2, _MAX_WAIT)


class Cursor:
    """The part of aiosqlite.Cursor that SQLAlchemy uses, done in place."""

    def __init__(self, cursor: sqlite3.Cursor, timeout: float) -> None:
        self._cursor = cursor
        self._timeout = timeout

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        await when_unlocked(lambda: self._cursor.execute(sql, parameters), self._timeout)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Cursor:
        rows = list(parameters)  # a generator could not be replayed after a busy answer
        await when_unlocked(lambda: self._cursor.executemany(sql, rows), self._timeout)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    async def close(self) -> None:
        self._cursor.close()

    async def __aiter__(self) -> AsyncIterator[Any]:  # SQLAlchemy's server-side cursors (stream_results)
        for row in self._cursor:
            yield row

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _ImmediateQueue:
    """Stands in for aiosqlite's queue to its worker thread; SQLAlchemy's isolation-level setter uses it."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class Connection:
    """The part of aiosqlite.Connection that SQLAlchemy's aiosqlite dialect uses, done in place."""

    _tx = _ImmediateQueue()

    def __init__(self, connection: sqlite3.Connection, timeout: float) -> None:
        self._connection: sqlite3.Connection | None = connection
        self._timeout = timeout

    @property
    def _raw(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def _conn(self) -> Connection:
        # SQLAlchemy's isolation-level setter reaches for aiosqlite's sqlite3 connection here. This object
        # answers instead, so that its reset to the default ("") keeps write transactions IMMEDIATE.
        return self

    def cursor(self) -> Cursor:
        return Cursor(self._raw.cursor(), self._timeout)

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        await when_unlocked(self._raw.commit, self._timeout)

    async def rollback(self) -> None:
        self._raw.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def create_function(self, name: str, num_params: int, func: Callable[..., Any], **kw: Any) -> None:
        self._raw.create_function(name, num_params, func, **kw)

    @property
    def in_transaction(self) -> bool:
        return self._raw.in_transaction

    @property
    def isolation_level(self) -> str | None:
        return self._raw.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        # None is autocommit; "" (deferred, SQLAlchemy's default) becomes IMMEDIATE: see the module's text.
        self._raw.isolation_level = "IMMEDIATE" if value == "" else value  # type: ignore[assignment]


async def connect(database: str, patience: float = DEFAULT_PATIENCE) -> Connection:
    """Open `database` with no busy timeout of the driver's own: waits happen in `when_unlocked`."""
    # check_same_thread: the pool may close a connection from the thread that disposes the engine.
    connection = sqlite3.connect(database, timeout=0, isolation_level="IMMEDIATE", check_same_thread=False)
    return Connection(connection, patience)
