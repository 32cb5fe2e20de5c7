"""SQLite: the writes of the transactions that end in one turn of the event loop, committed together.

A commit is the dearest part of a write on SQLite. Timed inside the driver, an IPN's COMMIT took
105-120 µs of its ~700 µs of CPU, its BEGIN IMMEDIATE another 15: in WAL mode the COMMIT writes every
page the transaction changed to the log, each as two pwrite() calls (a frame's header, then the page),
12-13 pages for an IPN, and the BEGIN takes and the COMMIT drops the file locks. Transactions that
commit together write a page they share once (the last page of each table they append to, the edges of
its indexes) and pay the BEGIN and the locks once: replayed from an IPN's own statements, the COMMIT's
share per IPN was 105 µs alone, 73 µs two at a time, 52 µs four and 40 µs eight at a time
(bench/README.md, "Eighth round").

So `GroupCommit.commit` does not write at once: it queues the transaction's writes and the next turn of
the loop writes whatever is queued by then, under one BEGIN IMMEDIATE and one COMMIT. Under load that is
every transaction whose request was served in the same turn (4-5 on average in the bench, 32
connections); a lone request waits one turn, a few microseconds. Each transaction's writes run inside a
SAVEPOINT of their own: one that fails (a unique constraint, a row changed since it was read) is rolled
back to it and gets its own error, and the others go on. If the batch's transaction itself fails (its
COMMIT fails, SQLite ends the transaction on an error), every transaction in it gets that error, each
as an object of its own, and nothing of any of them is written. If the BEGIN waits for another
connection's lock (another process, or a session of this one) past `patience`, the transactions queued
before it began to wait fail with "database is locked"; those queued meanwhile wait afresh. Each caller
returns only once its writes are committed, as before.

A caller cancelled while its writes wait for their turn is left out of the batch. Once the batch has
begun they are written, as a commit that has begun is not undone by cancelling the caller that asked
for it; and a caller cancelled in the turn between its commit and its return is told CancelledError
though its writes are in (gateway/idempotency.py's `release` keeps a key whose response is stored for
that reason).
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import sqlite3
from collections.abc import Callable
from typing import Generic, TypeVar

from gateway.db import sqlite_inline

W = TypeVar("W")


class GroupCommit(Generic[W]):
    def __init__(
        self,
        take: Callable[[], sqlite3.Connection],
        give_back: Callable[[sqlite3.Connection], None],
        write: Callable[[sqlite3.Connection, W], None],
        patience: float,
    ) -> None:
        self._take = take
        self._give_back = give_back
        self._write = write
        self._patience = patience
        self._queue: list[tuple[W, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # committed so far, and the transactions in them: how many shared each commit
        self.members = 0

    async def commit(self, writes: W) -> None:
        """Write `writes` and commit them; raises what writing them raised (and nothing of them is
        written) or what the batch's transaction raised (and nothing of the batch is written)."""
        done = asyncio.get_running_loop().create_future()
        self._queue.append((writes, done))
        if self._writer is None or self._writer.done():
            # A context of its own: not the first caller's (its request id and log bindings).
            self._writer = asyncio.create_task(self._write_queued(), context=contextvars.Context())
        await done

    async def close(self) -> None:
        """Wait until what is queued by now is written."""
        if self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _write_queued(self) -> None:
        try:
            while self._queue:
                await self._write_batch()
        except BaseException:
            # This task was cancelled or interrupted (loop shutdown): what is still queued is not written.
            queued, self._queue = self._queue, []
            for _, done in queued:
                done.cancel()
            raise

    async def _write_batch(self) -> None:
        waited_for = len(self._queue)  # queued before this batch began to wait for the lock
        batch: list[tuple[W, asyncio.Future[None]]] | None = None
        outcomes: list[Exception | None] = []
        try:
            connection = self._take()
            try:
                await sqlite_inline.when_unlocked(lambda: connection.execute("BEGIN IMMEDIATE"), self._patience)
                # Taken once the lock is held: what came in while waiting for it goes in too.
                batch = [member for member in self._queue if not member[1].done()]
                self._queue = []
                for writes, _ in batch:
                    outcomes.append(self._write_one(connection, writes))
                # Never busy in WAL mode under BEGIN IMMEDIATE's lock; in a rollback journal (a file system
                # without WAL) it waits for readers to finish.
                await sqlite_inline.when_unlocked(lambda: connection.execute("COMMIT"), self._patience)
            finally:
                self._give_back(connection)  # rolled back there if the transaction is still open
        except Exception as exc:
            if batch is None:  # failed before the batch was taken: BEGIN, or a connection to begin on
                # Those that came while the lock was waited for wait afresh, with a patience of their own.
                batch, self._queue = self._queue[:waited_for], self._queue[waited_for:]
            for _, done in batch:
                if not done.done():
                    done.set_exception(_own_copy(exc))
            return
        except BaseException:
            for _, done in batch or ():
                done.cancel()
            raise
        assert batch is not None
        self.batches += 1
        self.members += len(batch)
        for (_, done), outcome in zip(batch, outcomes, strict=True):
            if done.done():
                continue
            if outcome is None:
                done.set_result(None)
            else:
                done.set_exception(outcome)

    def _write_one(self, connection: sqlite3.Connection, writes: W) -> Exception | None:
        """One transaction's writes, in a savepoint: None, or the error that rolled them back. Raises when
        the batch's transaction cannot go on."""
        connection.execute("SAVEPOINT member")
        try:
            self._write(connection, writes)
        except Exception as exc:
            if not connection.in_transaction:  # SQLite rolled the whole transaction back
                raise
            connection.execute("ROLLBACK TO member")
            connection.execute("RELEASE member")
            return exc
        connection.execute("RELEASE member")  # fails the batch if the writes ended its transaction themselves
        return None


def _own_copy(exc: Exception) -> Exception:
    """`exc` for one of the callers it fails: each raises an object of its own (a traceback and context
    are set on the object where it is raised), the same type with the same attributes, caused by `exc`."""
    try:
        mine = copy.copy(exc)
    except Exception:
        return exc
    mine.__cause__ = exc
    return mine
