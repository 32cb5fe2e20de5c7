"""What-if variants: the gateway with one suggested change applied at start-up, to measure its gain.

Nothing in gateway/ is edited: each factory patches the running process before calling create_app(),
so `python -m bench.run --variants as-is,no-pre-ping` measures a change before anyone makes it. The
patches mimic the suggested code change; they are not meant to be used in production.

as-is        gateway.asgi:create, unchanged
log-warning  DVCGW_LOG_LEVEL=WARNING: no access line, no info lines
pre-ping     the PostgreSQL engine with pool_pre_ping, as before it was dropped (what that change gained)
no-auth-cache  DVCGW_AUTH_CACHE_SECONDS=0: the API key looked up on every request, as before the cache
sqlite-serial  one SQLite connection per process: requests queue in the pool instead of racing for the
             file's write lock (whose busy handler sleeps)
uvloop       served on uvloop and httptools instead of asyncio and h11 (the baseline too)
gc-trace     as-is, but every garbage collection of 5 ms or more is written to the server log
             (`gc_pause at=... gen=2 ms=...`): to tell collector pauses from other causes of tail latency
gc-trace-default  gc-trace without the server's gc.freeze()
stall-trace  as-is, but every SQLite call on the event loop that takes 5 ms or more, every group commit
             batch of 5 ms or more (its wait for the lock included), every checkpoint of the WAL thread
             and every lag of the loop of 10 ms or more is written to the server log
gc-default   no gc.freeze() after start-up (DVCGW_SERVER_GC=default): what the server's freeze gained
no-thread-flush  the WAL thread does not flush the database file before a restart of the log, as before
             the ninth round: the last copy flushes every page copied since the previous restart
stall-trace-no-thread-flush  stall-trace on no-thread-flush: the two side by side show what the flush moved
no-group-commit  each SQLite transaction under a BEGIN IMMEDIATE and a COMMIT of its own, as before
             gateway/db/group_commit.py: what committing together gained
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar


@dataclass(frozen=True)
class Variant:
    name: str
    app: str = "gateway.asgi:create"
    env: dict[str, str] = field(default_factory=dict)
    fast_server: bool = False  # True: uvloop + httptools instead of asyncio + h11 (the baseline too)


VARIANTS = {
    v.name: v
    for v in (
        Variant("as-is"),
        Variant("log-warning", env={"DVCGW_LOG_LEVEL": "WARNING"}),
        Variant("pre-ping", app="bench.variants:pre_ping"),
        Variant("no-auth-cache", env={"DVCGW_AUTH_CACHE_SECONDS": "0"}),
        Variant("sqlite-serial", app="bench.variants:sqlite_serial"),
        Variant("uvloop", fast_server=True),
        Variant("gc-trace", app="bench.variants:gc_trace"),
        Variant("stall-trace", app="bench.variants:stall_trace"),
        Variant("gc-default", env={"DVCGW_SERVER_GC": "default"}),
        Variant("gc-trace-default", app="bench.variants:gc_trace", env={"DVCGW_SERVER_GC": "default"}),
        Variant("no-group-commit", app="bench.variants:no_group_commit"),
        Variant("no-thread-flush", app="bench.variants:no_thread_flush"),
        Variant("stall-trace-no-thread-flush", app="bench.variants:stall_trace_no_thread_flush"),
    )
}


def _patch_engine(sqlite: bool, **extra: Any) -> None:
    """Add engine arguments for one kind of database, as the suggested change to gateway/db/engine.py would."""
    import gateway.db.engine as engine

    original = engine.create_async_engine

    def create_async_engine(url: Any, **kwargs: Any) -> Any:
        if str(url).startswith("sqlite") == sqlite:
            kwargs.update(extra)
        return original(url, **kwargs)

    engine.create_async_engine = create_async_engine  # type: ignore[assignment]


def sqlite_serial() -> Litestar:
    _patch_engine(sqlite=True, pool_size=1, max_overflow=0)
    return _create()


def no_group_commit() -> Litestar:
    from gateway.db.group_commit import GroupCommit
    from gateway.db.sqlite_inline import when_unlocked

    async def commit(self: GroupCommit[Any], writes: Any) -> None:
        connection = self._take()
        try:
            await when_unlocked(lambda: connection.execute("BEGIN IMMEDIATE"), self._patience)
            self._write(connection, writes)
            await when_unlocked(lambda: connection.execute("COMMIT"), self._patience)
        finally:
            self._give_back(connection)

    GroupCommit.commit = commit  # type: ignore[method-assign]
    return _create()


def _now() -> str:
    """UTC to the millisecond, as bench.run names the windows of slow requests, to match them."""
    return dt.datetime.now(dt.UTC).strftime("%H:%M:%S.%f")[:-3]


def no_thread_flush() -> Litestar:
    _no_thread_flush()
    return _create()


def _no_thread_flush() -> None:
    from gateway.db.checkpoint import WalCheckpointer

    WalCheckpointer.sync_database = lambda self: None  # type: ignore[method-assign]


def _create() -> Litestar:
    from gateway.app import create_app

    return create_app()


def pre_ping() -> Litestar:
    _patch_engine(sqlite=False, pool_pre_ping=True)
    return _create()


def gc_trace() -> Litestar:
    started: dict[str, float] = {}

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started["t"] = time.perf_counter()
        elif "t" in started:
            ms = (time.perf_counter() - started.pop("t")) * 1000
            if ms >= 5:
                at = _now()
                gen, collected = info["generation"], info["collected"]
                print(f"gc_pause at={at} gen={gen} ms={ms:.1f} collected={collected}", file=sys.stderr, flush=True)

    gc.callbacks.append(callback)
    return _create()


def stall_trace() -> Litestar:
    """Where a request waits: SQLite on the loop, the WAL checkpoints beside it, or the loop itself.
    `python -m bench.stalls LOG` sums up the restarts of the log in what this writes."""
    import asyncio
    import threading
    from collections.abc import Callable

    from gateway.db import checkpoint, sqlite_inline
    from gateway.db.group_commit import GroupCommit

    def log(text: str) -> None:
        print(f"stall at={_now()} pid={os.getpid()} {text}", file=sys.stderr, flush=True)

    when_unlocked = sqlite_inline.when_unlocked

    async def timed(call: Callable[[], Any], patience: float) -> Any:
        started = time.perf_counter()

        def run() -> Any:
            t = time.perf_counter()
            try:
                return call()
            finally:
                if (ms := (time.perf_counter() - t) * 1000) >= 5:
                    code = getattr(call, "__code__", None)
                    where = f"{code.co_filename.rsplit('/', 1)[-1]}:{code.co_firstlineno}" if code else repr(call)
                    log(f"sqlite_call ms={ms:.1f} call={where}")

        try:
            return await when_unlocked(run, patience)
        finally:
            if (ms := (time.perf_counter() - started) * 1000) >= 5:
                log(f"sqlite_wait ms={ms:.1f}")

    sqlite_inline.when_unlocked = timed  # type: ignore[assignment]
    original = checkpoint.WalCheckpointer.checkpoint
    original_sync = checkpoint.WalCheckpointer.sync_database

    def on() -> str:
        return "loop" if threading.current_thread() is threading.main_thread() else "thread"

    def traced(self: checkpoint.WalCheckpointer, mode: Any = "PASSIVE") -> Any:
        t = time.perf_counter()
        result = original(self, mode)
        log(f"checkpoint ms={(time.perf_counter() - t) * 1000:.1f} on={on()} mode={mode} result={result}")
        return result

    def traced_sync(self: checkpoint.WalCheckpointer) -> None:
        t = time.perf_counter()
        original_sync(self)
        log(f"flush ms={(time.perf_counter() - t) * 1000:.1f} on={on()}")

    checkpoint.WalCheckpointer.checkpoint = traced  # type: ignore[method-assign]
    checkpoint.WalCheckpointer.sync_database = traced_sync  # type: ignore[method-assign]
    write_batch = GroupCommit._write_batch

    async def traced_batch(self: GroupCommit[Any]) -> None:
        t, queued = time.perf_counter(), len(self._queue)
        try:
            await write_batch(self)
        finally:
            if (ms := (time.perf_counter() - t) * 1000) >= 5:
                log(f"group_commit ms={ms:.1f} queued={queued}")

    GroupCommit._write_batch = traced_batch  # type: ignore[method-assign]

    async def lag() -> None:
        # cpu: the loop thread's own CPU time over the lag. Near the lag, the loop was working (a burst of
        # requests, a collection); near nothing, it was not running (waiting on the disk, or not scheduled).
        while True:
            t, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.005)
            if (ms := (time.perf_counter() - t) * 1000 - 5) >= 10:
                log(f"loop_lag ms={ms:.1f} cpu={(time.thread_time() - cpu) * 1000:.1f}")

    app = _create()
    tasks: list[asyncio.Task[None]] = []
    app.on_startup.append(lambda: tasks.append(asyncio.get_running_loop().create_task(lag())))
    return app


def stall_trace_no_thread_flush() -> Litestar:
    app = stall_trace()
    _no_thread_flush()  # after stall_trace, which would log the flushes not made
    return app
