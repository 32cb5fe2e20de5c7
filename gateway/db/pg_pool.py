"""A fixed set of asyncpg connections for one event loop, handed out and taken back without a task switch.

asyncpg's own Pool costs 40–50 µs of CPU per acquire and release on this project's bench machine, a
third of a whole query's round trip: release runs under asyncio.shield (a new Task, two more turns of
the loop), a timeout context and a reset hook, and every call goes through a proxy. The direct path
(gateway/db/direct.py) takes one connection per request and gives it back in the state it found it, so
it needs none of that; measured in bench/README.md ("Seventh round").

What it keeps from asyncpg's pool: all connections opened up front and kept; waiters served first come,
first served; a connection that was lost, is still in a transaction, or was given back by a block a
cancel cut short mid-statement, is not reused (`release`). One still alive is closed in the background, its place
freed only once it is: asyncpg's close first waits for the server to answer the cancel request it sent
when the statement's task was cancelled, so the statement does not run on (holding its locks, or
committing a write its caller was told had failed) in a backend nobody holds. A connection in the place
of a closed one is opened when next needed, not at once (asyncpg's pool refills in the background).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable

import asyncpg

Connect = Callable[[], Awaitable[asyncpg.Connection]]
# How long a connection not to be reused may take to close cleanly before it is cut off.
CLOSE_TIMEOUT = 10.0


class PoolClosed(Exception):
    """The pool was closed: the process is stopping."""


class ConnectionPool:
    def __init__(self, connect: Connect, size: int) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one connection")
        self._connect = connect
        self._size = size
        self._idle: list[asyncpg.Connection] = []
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._open = 0  # connections opened, being opened or being closed; idle or taken
        self._closed = False
        self._closing: set[asyncio.Task[None]] = set()

    def in_use(self) -> int:
        return self._open - len(self._idle)

    async def open(self) -> None:
        """All connections at once: one opened under load would cost its request a connection set-up."""
        self._open += self._size
        tasks = [asyncio.ensure_future(self._connect()) for _ in range(self._size)]
        try:
            await asyncio.wait(tasks)  # every connect ends, with a connection or an error
            failure = next((task.exception() for task in tasks if task.exception() is not None), None)
            if failure is not None:
                raise failure
        except BaseException:  # a connect failed, or this was cancelled: nothing stays open
            self._open -= self._size
            for task in tasks:
                if not task.done():
                    task.cancel()
                elif not task.cancelled() and task.exception() is None:
                    task.result().terminate()
            raise
        self._idle.extend(task.result() for task in tasks)

    async def acquire(self) -> asyncpg.Connection:
        while True:
            if self._closed:
                raise PoolClosed("the database pool is closed")
            if self._idle:
                connection = self._idle.pop()
                if not connection.is_closed():
                    return connection
                self._open -= 1  # lost while idle (the server restarted): a new one in its place
                continue
            if self._open < self._size:
                return await self._new()
            waiter: asyncio.Future[asyncpg.Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                connection = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    given = waiter.result()
                    if given is not None:
                        self.release(given)  # handed over just as this request was cancelled: not lost
                    else:
                        self._wake_one(None)  # woken to open a connection in a freed place: pass that on
                raise
            if connection is not None:
                return connection
            # None: a connection was closed and its place freed; open one there (next turn of the loop).

    async def _new(self) -> asyncpg.Connection:
        self._open += 1
        try:
            return await self._connect()
        except BaseException:
            self._open -= 1
            self._wake_one(None)  # a waiter may have better luck
            raise

    def release(self, connection: asyncpg.Connection, failure: BaseException | None = None) -> None:
        """Take `connection` back, with what ended the block that used it, if it failed. A failure the
        block saw through (an error the server answered, a ROLLBACK sent) leaves the connection as it
        was; one that cut it short (a cancel: the statement may still be running) does not, nor does a
        transaction left open, whatever ended the block."""
        cut_short = failure is not None and not isinstance(failure, Exception)
        if connection.is_closed():
            self._forget()
        elif self._closed or cut_short or connection.is_in_transaction():
            task = asyncio.get_running_loop().create_task(self._close(connection))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        elif not self._wake_one(connection):
            self._idle.append(connection)

    async def _close(self, connection: asyncpg.Connection) -> None:
        try:
            # Not in time, or the socket failed: asyncpg has cut it off, and it is closed all the same.
            with contextlib.suppress(Exception):
                await connection.close(timeout=CLOSE_TIMEOUT)
        finally:
            self._forget()

    def _forget(self) -> None:
        """A connection is gone: its place is free for a new one."""
        self._open -= 1
        if not self._closed:
            self._wake_one(None)

    def _wake_one(self, connection: asyncpg.Connection | None) -> bool:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # a cancelled waiter is skipped
                waiter.set_result(connection)
                return True
        return False

    async def close(self) -> None:
        """Close the idle connections now, and each taken one when it comes back; wait for those closing."""
        self._closed = True
        idle, self._idle = self._idle, []
        self._open -= len(idle)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(PoolClosed("the database pool is closed"))
        await asyncio.gather(*(connection.close() for connection in idle), *self._closing, return_exceptions=True)
