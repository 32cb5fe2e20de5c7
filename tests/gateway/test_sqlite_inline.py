"""The in-place SQLite driver: waits for another writer without blocking the event loop."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest
import structlog
from sqlalchemy import text

from gateway.db import checkpoint as checkpoint_module
from gateway.db import sqlite_inline
from gateway.db.checkpoint import CHECKPOINT_BACKSTOP_PAGES, WalCheckpointer, wal_checkpointer
from gateway.db.engine import create_engine
from tests.harness import LoopTicks

pytestmark = pytest.mark.anyio


async def _table(path: Path) -> None:
    conn = await sqlite_inline.connect(str(path))
    await conn.execute("CREATE TABLE t (n INTEGER)")
    await conn.commit()
    await conn.close()


async def test_a_writer_waits_for_another_process_lock_without_blocking_the_loop(tmp_path: Path) -> None:
    await _table(tmp_path / "x.db")
    holder = sqlite3.connect(tmp_path / "x.db", isolation_level=None)  # another process, as far as SQLite knows
    holder.execute("BEGIN IMMEDIATE")
    conn = await sqlite_inline.connect(str(tmp_path / "x.db"))

    async def release_later() -> None:
        await asyncio.sleep(0.1)
        holder.execute("COMMIT")

    ticks = LoopTicks()
    release = asyncio.create_task(release_later())
    await conn.execute("INSERT INTO t VALUES (1)")  # waits for the COMMIT above
    await conn.commit()
    await release
    ticks.stop()
    assert ticks.count > 0  # the loop kept running while the insert waited
    assert holder.execute("SELECT count(*) FROM t").fetchone() == (1,)
    holder.close()
    await conn.close()


async def test_a_transaction_of_this_process_can_finish_while_another_waits(tmp_path: Path) -> None:
    """The case a blocking busy handler deadlocks: the lock holder needs the loop to reach its commit."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'y.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))

    async def writer(n: int, pause: float) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            await asyncio.sleep(pause)  # the lock is held across a real wait

    await asyncio.gather(writer(1, 0.2), writer(2, 0), writer(3, 0))
    async with engine.connect() as conn:
        assert sorted((await conn.execute(text("SELECT n FROM t"))).scalars()) == [1, 2, 3]
    await engine.dispose()


async def test_the_wait_gives_up_after_its_patience(tmp_path: Path) -> None:
    await _table(tmp_path / "z.db")
    holder = sqlite3.connect(tmp_path / "z.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    conn = await sqlite_inline.connect(str(tmp_path / "z.db"), patience=0.05)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await conn.execute("INSERT INTO t VALUES (1)")
    holder.execute("ROLLBACK")
    await conn.execute("INSERT INTO t VALUES (1)")  # the failed attempt left nothing behind
    await conn.commit()
    assert holder.execute("SELECT count(*) FROM t").fetchone() == (1,)
    holder.close()
    await conn.close()


async def test_pooled_connections_keep_beginning_immediate(tmp_path: Path) -> None:
    """Taking the lock at BEGIN is what makes a retried statement safe; a pool reset must not undo it."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    for _ in range(2):  # the second checkout is the connection the pool reset and handed back
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            assert raw.isolation_level == "IMMEDIATE"
    await engine.dispose()


async def test_an_autocommit_connection_goes_back_to_the_pool_beginning_immediate(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'v.db'}", pool_size=1, max_overflow=0)
    async with engine.connect() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        await conn.commit()
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("INSERT INTO t VALUES (1)"))
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None and raw.isolation_level is None
    async with engine.connect() as conn:  # the same connection, reset by the pool
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None and raw.isolation_level == "IMMEDIATE"
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    await engine.dispose()


async def test_checkpoints_run_off_the_request_connections(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    assert wal_checkpointer("postgresql+asyncpg://u@h/db") is None
    checkpointer = wal_checkpointer(url)
    assert checkpointer is not None
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            assert (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == CHECKPOINT_BACKSTOP_PAGES
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        for n in range(50):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        assert await checkpointer.run_once() == 0
        answer = await asyncio.to_thread(checkpointer.checkpoint)  # nothing left to copy after the job ran
        assert answer is not None
        busy, log, done = answer
        assert busy == 0 and log == done and log > 50  # the log holds the frames, all of them copied back
    finally:
        checkpointer.close()
        await engine.dispose()


class _CommitsMeanwhile(WalCheckpointer):
    """A checkpointer whose PASSIVE copies each miss a commit that lands while they copy, as commits of the
    loop and of other processes do under load; `tries` counts its RESTART copies, the last of a try."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path), restart_from_pages=20)
        self.writer = self._connect(path)
        self.writer.execute("PRAGMA journal_mode=WAL")
        # Another connection of the same process: SQLite's header fields that count per connection (the
        # checkpoint sequence number) must not be mistaken for the log's restarts.
        self.second = self._connect(path)
        self.reader = self._connect(path)
        self.tries = 0
        self.before_restart: Callable[[], None] = lambda: None
        self.log = path.with_name(f"{path.name}-wal")
        self.commit()  # the log file and its header exist from here
        self.salt = self._salt()

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA wal_autocheckpoint=0")
        return conn

    def commit(self, second: bool = False) -> None:
        (self.second if second else self.writer).execute("INSERT INTO t VALUES (1)")

    def _salt(self) -> int:  # read here rather than by the code under test: SQLite adds one at each restart
        return int.from_bytes(self.log.read_bytes()[16:20], "big")

    def restarts(self) -> int:
        return (self._salt() - self.salt) % 2**32

    def checkpoint(self, mode: Literal["PASSIVE", "RESTART"] = "PASSIVE") -> tuple[int, int, int] | None:
        if mode == "RESTART":
            self.tries += 1
            self.before_restart()
            return super().checkpoint(mode)
        # The copy stops at the log as it was before the commit that lands meanwhile.
        self.reader.execute("BEGIN")
        self.reader.execute("SELECT count(*) FROM t").fetchall()
        self.commit()
        try:
            return super().checkpoint(mode)
        finally:
            self.reader.execute("COMMIT")

    def close(self) -> None:
        super().close()
        self.reader.close()
        self.second.close()
        self.writer.close()


async def test_a_long_log_starts_again_although_commits_come_in_while_it_is_copied(tmp_path: Path) -> None:
    # Under continuous writes every PASSIVE copy ends with commits it did not copy, and SQLite starts the
    # log again only at a commit that finds it wholly copied back: the try's RESTART copies the rest.
    await _table(tmp_path / "w.db")
    checkpointer = _CommitsMeanwhile(tmp_path / "w.db")
    try:
        for n in range(4):
            for _ in range(40):  # the log grows past restart_from_pages
                checkpointer.commit()
            await checkpointer.run_once()
            checkpointer.commit(second=n % 2 == 1)  # the commit that starts the log again, on either connection
        await checkpointer.run_once()
        assert checkpointer.restarts() == 4
        assert checkpointer.tries == 4  # each try seen to have worked: none held off
    finally:
        checkpointer.close()


async def _long_log(path: Path) -> _CommitsMeanwhile:
    """A checkpointer whose log has grown past restart_from_pages."""
    await _table(path)
    checkpointer = _CommitsMeanwhile(path)
    for _ in range(40):
        checkpointer.commit()
    return checkpointer


async def test_a_writer_in_the_middle_of_a_transaction_is_waited_for_and_the_log_starts_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process's transaction, begun before the last copy and committed while it runs, would land
    # after a copy that does not wait for it, and the log would go on (two workers: it grew to the
    # backstop). The RESTART copy takes the write lock first, so that commit is copied too.
    monkeypatch.setattr(checkpoint_module, "RESTART_PATIENCE_SECONDS", 30.0)  # a slow machine's thread too
    checkpointer = await _long_log(tmp_path / "w.db")  # its connection, and so its patience, come at its first copy
    other = checkpointer._connect(tmp_path / "w.db")
    commit_later = threading.Timer(0.05, other.execute, ("COMMIT",))

    def transaction_under_way() -> None:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (2)")
        commit_later.start()

    checkpointer.before_restart = transaction_under_way
    try:
        await checkpointer.run_once()
        assert not other.in_transaction
        checkpointer.commit()
        assert checkpointer.restarts() == 1
    finally:
        if commit_later.is_alive():
            commit_later.join()
        other.close()
        checkpointer.close()


_CHECKPOINTING = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 121)  # SQLite's checkpointer lock: byte 120 + 1 of the -shm file
print("held", flush=True)
sys.stdin.read()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="the test takes SQLite's lock with fcntl, which Windows lacks")
async def test_a_try_that_finds_another_process_copying_tries_again_at_the_next_round(tmp_path: Path) -> None:
    # SQLite answers (1, -1, -1) at once when another connection holds the checkpointer lock: nothing was
    # copied or held up, so it is no failed try and must not hold off the next.
    checkpointer = await _long_log(tmp_path / "w.db")
    holders: list[subprocess.Popen[str]] = []

    def another_process_copying() -> None:
        if holders:
            return
        holder = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", _CHECKPOINTING, f"{tmp_path / 'w.db'}-shm"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        holders.append(holder)
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"

    checkpointer.before_restart = another_process_copying
    try:
        await checkpointer.run_once()
        assert checkpointer.restarts() == 0 and checkpointer.tries == 1
        holders[0].communicate("", timeout=30)  # the other process is done
        checkpointer.commit()
        await checkpointer.run_once()  # at once, with no backoff
        assert checkpointer.tries == 2
        checkpointer.commit()
        assert checkpointer.restarts() == 1
    finally:
        for holder in holders:
            holder.kill()
            holder.wait()
        checkpointer.close()


async def test_the_pages_copied_before_the_last_copy_are_flushed_on_the_thread_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite flushes the database file only after a copy of the whole log, which under load only the last
    # copy is: it would flush every page copied since the last restart while holding every writer up.
    checkpointer = await _long_log(tmp_path / "w.db")
    database = os.stat(tmp_path / "w.db")
    steps: list[str] = []
    checkpoint, flush = checkpointer.checkpoint, checkpoint_module._flush

    def recorded_checkpoint(mode: Literal["PASSIVE", "RESTART"] = "PASSIVE") -> tuple[int, int, int] | None:
        steps.append(f"{mode} on {_where()}")
        return checkpoint(mode)

    def recorded_flush(fd: int) -> None:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) == (database.st_dev, database.st_ino):
            steps.append(f"flush on {_where()}")
        flush(fd)

    monkeypatch.setattr(checkpointer, "checkpoint", recorded_checkpoint)
    monkeypatch.setattr(checkpoint_module, "_flush", recorded_flush)
    try:
        await checkpointer.run_once()
        assert steps == [
            "PASSIVE on thread",
            "flush on thread",
            "PASSIVE on thread",
            "flush on thread",
            "RESTART on thread",
        ]
        checkpointer.commit()
        assert checkpointer.restarts() == 1
    finally:
        checkpointer.close()


async def test_a_failed_flush_does_not_stop_the_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkpointer = await _long_log(tmp_path / "w.db")

    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(checkpoint_module, "_flush", failing)
    try:
        with structlog.testing.capture_logs() as logs:
            await checkpointer.run_once()
        assert [e["event"] for e in logs] == ["wal_flush_failed", "wal_flush_failed"]
        checkpointer.commit()
        assert checkpointer.restarts() == 1
    finally:
        checkpointer.close()


def _where() -> str:
    return "loop" if threading.current_thread() is threading.main_thread() else "thread"


_OTHER_PROCESS = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("SELECT count(*) FROM t").fetchall()
conn.close()  # SQLite's last connection to a file copies the log back and deletes it
"""


def test_flushing_the_database_file_leaves_sqlite_s_locks_in_place(tmp_path: Path) -> None:
    # Closing any descriptor of a file drops every POSIX lock the process holds on it. Were the flush's
    # descriptor closed, another process's last connection would find no lock on the file, take itself
    # for the last one, and delete the log from under this process's open connections.
    path = tmp_path / "d.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (n INTEGER)")
    conn.execute("INSERT INTO t VALUES (1)")
    try:
        for _ in range(2):
            checkpointer = WalCheckpointer(str(path))
            checkpointer.sync_database()
            checkpointer.close()
        subprocess.run([sys.executable, "-c", _OTHER_PROCESS, str(path)], check=True, timeout=30)  # noqa: S603
        assert path.with_name("d.db-wal").exists()
        assert conn.execute("SELECT n FROM t").fetchall() == [(1,)]
    finally:
        conn.close()


def test_a_file_put_in_place_of_another_gets_a_descriptor_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    sqlite3.connect(path).execute("CREATE TABLE t (n INTEGER)").connection.close()
    fd = checkpoint_module._held_descriptor(str(path))
    assert checkpoint_module._held_descriptor(str(path)) == fd  # opened once
    path.unlink()
    sqlite3.connect(path).execute("CREATE TABLE t (n INTEGER)").connection.close()
    assert checkpoint_module._held_descriptor(str(path)) != fd


async def test_tries_are_held_off_while_another_process_keeps_the_log_from_starting_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reader of the old log that outlasts the RESTART's patience (another process's long read): each try
    # would hold every writer up for that long and fail again.
    monkeypatch.setattr(checkpoint_module, "RESTART_PATIENCE_SECONDS", 0.01)
    checkpointer = await _long_log(tmp_path / "w.db")  # its connection, and so its patience, come at its first copy
    long_read = checkpointer._connect(tmp_path / "w.db")
    long_read.execute("BEGIN")
    long_read.execute("SELECT count(*) FROM t").fetchall()
    try:
        for _ in range(5):  # within the first backoff (2 s)
            await checkpointer.run_once()
            checkpointer.commit()
        assert checkpointer.restarts() == 0
        assert checkpointer.tries == 1  # one try, not one per round
    finally:
        long_read.close()
        checkpointer.close()


async def test_a_try_with_no_commit_after_it_does_not_hold_off_the_next(tmp_path: Path) -> None:
    # An idle log, wholly copied back, does not start again until something is committed: that is no
    # sign of another process, and the next try must not wait for it.
    await _table(tmp_path / "w.db")

    class Counting(WalCheckpointer):
        tries = 0

        def checkpoint(self, mode: Literal["PASSIVE", "RESTART"] = "PASSIVE") -> tuple[int, int, int] | None:
            self.tries += mode == "RESTART"
            return super().checkpoint(mode)

    writer = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    checkpointer = Counting(str(tmp_path / "w.db"), restart_from_pages=20)
    try:
        for _ in range(40):
            writer.execute("INSERT INTO t VALUES (1)")
        await checkpointer.run_once()
        await checkpointer.run_once()  # nothing committed since the first try: nothing learnt, it tries again
        assert checkpointer.tries == 2
    finally:
        checkpointer.close()
        writer.close()
