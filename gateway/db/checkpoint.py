"""SQLite's WAL checkpoints, on a thread of their own instead of inside a request's commit.

SQLite copies the write-ahead log back into the database file (and fsyncs it) in whichever commit
crosses `wal_autocheckpoint` pages. With statements run on the event loop (sqlite_inline.py) that commit
stalls every request of the process: timed inside the driver, an IPN's commit took 121 µs of CPU and
243 µs of wall time with automatic checkpoints, 121 µs of both with none at all. So the gateway's own
connections checkpoint only as a backstop (every CHECKPOINT_BACKSTOP_PAGES, if this task is not
running), and this task runs a PASSIVE checkpoint four times a second on a thread: PASSIVE never waits for
readers or writers, and the sqlite3 module releases the GIL while SQLite works. Measured side by side
(bench/README.md): commits wait ~50 µs less on the loop and an IPN costs ~7% less CPU, a page written
many times a second being copied back once.

Every 0.25 s rather than every second, and the backstop at 50,000 pages rather than 10,000, since the
direct path (direct.py) doubled the writes a process makes: at ~570 IPNs/s (about 15 pages each) a
second's log reached 9,000–10,000 pages, so commits on the loop crossed the backstop and checkpointed
themselves, stalling every request for 24–95 ms (bench variant `stall-trace`); p99 at half load went
39 → 6 ms for IPNs and 27 → 7 ms for creations.

Under continuous writes that was not the end of it: SQLite starts the log again from its beginning only
at a commit that finds it wholly copied back, and a PASSIVE checkpoint copies the log as it stood when it
began while the loop goes on committing, so the log never restarted. It grew to the backstop in seconds
at saturation, and a commit on the loop then checkpointed it, stalling every request (33-45 ms, once
342 ms in a full bench run). So once the log is RESTART_FROM_PAGES long, the thread copies it once more
(what came in during the first copy), then copies the last few pages with a RESTART checkpoint: that one
takes the file's write lock (waiting up to RESTART_PATIENCE_SECONDS for it), so no commit of any process
comes in between, copies the rest, and waits for readers of the old log to finish; the next commit starts
the log again. Meanwhile commits wait for the lock as they wait for any writer's (sqlite_inline.py), on
the loop without blocking it, and reads go on.

That last copy used to be a PASSIVE one on the loop, where no commit of this process could come in
between. With several processes on one file the others' commits could, and did: with two workers both
processes' tries collided and the log grew to the backstop (bench/README.md, ninth and tenth rounds).
The write lock covers every process.

A try that did not start the log again (another process's reader held on, or its writer past our
patience: the log header's first salt, which SQLite moves on at every restart, is the same, and commits
came since) is not repeated for a while, twice as long after each failure, up to
RESTART_BACKOFF_MAX_SECONDS: every try holds other writers up for its copy. A try followed by no commit
at all (an idle gateway) teaches nothing.

SQLite syncs the database file only at the end of a checkpoint that copied the whole log, so none of the
PASSIVE copies under load do: the last copy would flush every page copied since the previous restart,
35-45 ms every ~4 s at half load, with the write lock held (on the loop, as it was, that alone put the
creation's p99 at 33 ms: bench/README.md, ninth round). So the thread flushes the file itself before and
after its second copy, and the last copy flushes only its own few pages. It flushes through a descriptor
of the file that stays open for the life of the process: closing any descriptor of a file drops every
POSIX lock the process holds on it, SQLite's connections' included ("How To Corrupt An SQLite Database
File", 2.2).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Literal

import structlog
from sqlalchemy import make_url

from gateway.db.sqlite_inline import is_busy

CHECKPOINT_BACKSTOP_PAGES = 50_000  # about 200 MB of log at SQLite's default 4 KiB pages
CHECKPOINT_SECONDS = 0.25
RESTART_FROM_PAGES = 20_000  # about 80 MB of log: at saturation every second or so, well short of the backstop
RESTART_PATIENCE_SECONDS = 0.05  # the last copy's wait for the write lock, then for readers of the old log
RESTART_BACKOFF_SECONDS = 2.0
RESTART_BACKOFF_MAX_SECONDS = 60.0

logger = structlog.get_logger()


class WalCheckpointer:
    def __init__(self, database: str, restart_from_pages: int = RESTART_FROM_PAGES) -> None:
        self.database = database
        self.restart_from_pages = restart_from_pages
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # close() must not pull the connection from under a running checkpoint
        self._backoff = RESTART_BACKOFF_SECONDS
        self._next_try = 0.0  # time.monotonic() before which the loop does not try to start the log again
        self._tried: tuple[int, int] | None = None  # the last try: the log's salt before it, its length after

    async def run_once(self) -> int:
        answer = await asyncio.to_thread(self.checkpoint)
        if self._tried is not None:
            salt, log = self._tried
            if self.log_salt() != salt:  # started again
                self._backoff = RESTART_BACKOFF_SECONDS
                self._tried = None
            elif answer is not None:  # else no length now (another process is copying): told next round
                if answer[1] != log:  # commits came and the log went on
                    self._next_try = time.monotonic() + self._backoff
                    self._backoff = min(self._backoff * 2, RESTART_BACKOFF_MAX_SECONDS)
                # else nothing was committed since the try: nothing learnt
                self._tried = None
        if answer is not None and answer[1] >= self.restart_from_pages and time.monotonic() >= self._next_try:
            # Flush the pages copied since the last restart, copy what was committed meanwhile, and flush that
            # too, so that the last copy, which holds every process's commits up, flushes only its own pages.
            await asyncio.to_thread(self.sync_database)
            await asyncio.to_thread(self.checkpoint)
            await asyncio.to_thread(self.sync_database)
            salt = self.log_salt()
            last = await asyncio.to_thread(self.checkpoint, "RESTART")
            # None: another process was copying, so nothing was tried or held up; the next round tries again.
            self._tried = (salt, last[1]) if last is not None else None
        return 0

    def log_salt(self) -> int:
        """The first salt in the log's header. SQLite adds one to it whenever the log starts again, whichever
        connection starts it (the header's checkpoint sequence number, by contrast, is the committing
        connection's own count); "WAL file format" in SQLite's file format documentation."""
        try:
            with Path(f"{self.database}-wal").open("rb") as log:
                return int.from_bytes(log.read(20)[16:20], "big")
        except OSError:
            return 0

    def checkpoint(self, mode: Literal["PASSIVE", "RESTART"] = "PASSIVE") -> tuple[int, int, int] | None:
        """SQLite's answer (busy, frames in the log, frames checkpointed); None if another connection was
        checkpointing (SQLite answers (1, -1, -1) without waiting, whatever the mode), if the schema could not
        be read, or if the database is not in WAL mode ((0, -1, -1)): no log to tell of.

        The connection's busy timeout is the RESTART's patience; a PASSIVE checkpoint itself never waits (the
        schema is read on the first call, which may)."""
        with self._lock:
            if self._conn is None:
                self._conn = sqlite3.connect(self.database, timeout=RESTART_PATIENCE_SECONDS, check_same_thread=False)
            try:
                busy, log, done = self._conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
            except sqlite3.OperationalError as exc:
                if is_busy(exc):  # busy before the checkpoint began, reading the schema
                    return None
                raise
            return None if log < 0 else (busy, log, done)

    def sync_database(self) -> None:
        """Flush the database file's pages to disk, as SQLite does after a checkpoint that copied everything.

        A failure is logged and the restart goes on: the RESTART copy then flushes the whole file itself, with
        every writer held up, and SQLite reports the failure there as its own (the kernel tells every open
        descriptor of the file).
        """
        if _flush is None:
            return
        try:
            _flush(_held_descriptor(self.database))
        except OSError as exc:
            logger.warning("wal_flush_failed", error=str(exc))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


# fdatasync where there is one; macOS has only fsync (SQLite's own choice there). On Windows a lock belongs
# to a handle, so the RESTART copy there flushes the file as SQLite would, and a held handle would keep the
# file from being deleted.
_flush = None if os.name == "nt" else getattr(os, "fdatasync", os.fsync)
_held: dict[tuple[int, int], int] = {}
_held_lock = threading.Lock()


def _held_descriptor(path: str) -> int:
    """A read-only descriptor of the file at path, opened once per file and never closed (module docstring)."""
    stat = os.stat(path)
    with _held_lock:
        fd = _held.get((stat.st_dev, stat.st_ino))
        if fd is None:
            fd = os.open(path, os.O_RDONLY)
            opened = os.fstat(fd)  # the file as opened, should it have been replaced since the stat
            _held[(opened.st_dev, opened.st_ino)] = fd
        return fd


def wal_checkpointer(url: str) -> WalCheckpointer | None:
    """The checkpointer of a SQLite file database; None for anything else."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return WalCheckpointer(parsed.database)
