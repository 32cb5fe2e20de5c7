"""Serve an ASGI app factory with uvicorn, one process per worker, each on its own SO_REUSEPORT socket.

One worker is plain `uvicorn.run`. For several, uvicorn's `--workers` supervisor (0.54) is not used: it
binds the shared socket with proto 0, accepted sockets inherit that and asyncio then leaves Nagle's
algorithm on, so every keep-alive request after the first can wait ~40 ms for the client's delayed ACK
(uvicorn issue #3149); and all workers poll one socket, so a burst of new connections (a portal's pool)
lands on whichever worker wakes first. With a socket per worker the kernel spreads connections and
TCP_NODELAY holds.

A worker that dies is started again (unless it keeps dying at start-up); SIGTERM or SIGINT stops them all
gracefully.

Once the app has started, everything it built (mappers, routes, schemas, pools) is moved out of the
garbage collector's sight with gc.freeze(): a full collection over them pauses a worker for tens of
milliseconds under load, which is where a p99 goes. DVCGW_SERVER_GC=default keeps Python's behaviour.

The event loop and HTTP parser are asyncio and h11 unless DVCGW_SERVER_LOOP / DVCGW_SERVER_HTTP say
otherwise (uvloop, httptools, if installed): uvloop speeds up a bare Litestar app far more than the
gateway, whose time is in its database work.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.importer import import_from_string

RESTART_PAUSE_SECONDS = 1.0
# A worker that keeps dying right after it starts (a bad setting, an import error) is not restarted
# forever: after this many quick deaths in a row the server stops and reports the failure.
QUICK_DEATH_SECONDS = 10.0
MAX_QUICK_DEATHS = 5


def settle_collector() -> None:
    """Freeze what exists now (the started app): full collections no longer walk it."""
    gc.collect()
    gc.freeze()


def _settled_after_startup(factory: str) -> Callable[[], ASGIApp]:
    """The app of `factory`, which settles the collector once its lifespan start-up has completed."""

    def create() -> ASGIApp:
        app = import_from_string(factory)()

        async def settled(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "lifespan":
                return await app(scope, receive, send)

            async def send_then_settle(message: Message) -> None:
                await send(message)
                if message["type"] == "lifespan.startup.complete" and os.environ.get("DVCGW_SERVER_GC") != "default":
                    settle_collector()

            return await app(scope, receive, send_then_settle)

        return settled

    return create


def _choices() -> dict[str, Any]:  # uvicorn types them as literals; an unknown name fails at start-up
    return {
        "loop": os.environ.get("DVCGW_SERVER_LOOP", "asyncio"),
        "http": os.environ.get("DVCGW_SERVER_HTTP", "h11"),
    }


def _worker(app: str, host: str, port: int, log_level: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    config = uvicorn.Config(
        _settled_after_startup(app), factory=True, access_log=False, log_level=log_level, **_choices()
    )
    uvicorn.Server(config).run(sockets=[sock])


def serve(app: str, host: str, port: int, workers: int = 1, log_level: str = "info") -> int:
    """Run until stopped; 0, or the highest exit code of a worker that failed on its own."""
    if workers <= 1:
        uvicorn.run(
            _settled_after_startup(app),
            factory=True,
            host=host,
            port=port,
            access_log=False,
            log_level=log_level,
            **_choices(),
        )
        return 0
    ctx = multiprocessing.get_context("spawn")
    stopping = False
    started: dict[int, float] = {}

    def start(i: int) -> BaseProcess:
        proc = ctx.Process(target=_worker, args=(app, host, port, log_level), name=f"worker-{i}")
        proc.start()
        started[i] = time.monotonic()
        return proc

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: uvicorn finishes the requests in flight

    def supervise() -> int:
        failure = quick_deaths = 0
        while not stopping:
            time.sleep(RESTART_PAUSE_SECONDS)
            for i, proc in enumerate(procs):
                if stopping or proc.is_alive():
                    continue
                quick = time.monotonic() - started[i] < QUICK_DEATH_SECONDS
                quick_deaths = quick_deaths + 1 if quick else 0
                if quick_deaths >= MAX_QUICK_DEATHS:
                    failure = proc.exitcode or 1
                    stop(signal.SIGTERM, None)
                    break
                procs[i] = start(i)
        return failure

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    procs = [start(i) for i in range(workers)]
    try:
        failure = supervise()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for proc in procs:
            proc.join()
    # A negative code is the signal we sent ourselves; only a worker's own failure is reported.
    return max(failure, 0, *((proc.exitcode or 0) for proc in procs))
