"""`python -m bench.inproc`: CPU per request with no HTTP server and no network in between.

Calls the ASGI app directly, one request at a time, and divides the process's CPU time by the number of
requests. It leaves out uvicorn, h11 and the sockets (the same for the gateway and the baseline), so it
shows what the gateway adds per request within seconds: the tool for trying a change before a full
`bench.run`. Concurrency is not in it; bench.run measures that.

    python -m bench.inproc [--db sqlite,postgres] [--only baseline,read,ipn,ipn_dup,create] [-n 2000]
                           [--gc default|settled]   # settled: gc.freeze() as `dvc-gateway serve` does
                           [--pg-setup "SQL; SQL"]  # what-ifs, run on the bench database before the app starts

On PostgreSQL it also reports the server's CPU per request (db_cpu_us_*: every `postgres` process, the
WAL writer and checkpointer included). Requests come one at a time, so no two commits share a WAL flush
as they do under load: this is the server's cost per request with no concurrency, an upper bound.
`--pg-setup` runs its statements on the new database after its migrations, for measuring a setting or
a schema change without editing either (`ALTER DATABASE dvcgw_bench SET synchronous_commit = off`,
`DROP INDEX ...`); it is never how the gateway runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench import dataprep, machine
from bench.baseline_app import BODY as BASELINE_BODY
from bench.databases import create_database, pg_available
from bench.server import UNLIMITED
from gateway.serving import settle_collector

Request = tuple[str, str, dict[str, str], bytes]
WARM_UP = 200


async def _call(app: Any, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def _lifespan(app: Any) -> Callable[[], Any]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()
    await queue.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, queue.get, send))
    await started.wait()

    async def stop() -> None:
        await queue.put({"type": "lifespan.shutdown"})
        await task

    return stop


async def _measure(
    app: Any,
    requests: Callable[[int], Request],
    n: int,
    expect: int,
    rounds: int = 5,
    *,
    settle: bool = False,
    postgres: bool = False,
) -> dict[str, Any]:
    """CPU µs per request: the best and the median of `rounds` rounds (the best is the least disturbed
    by the machine's neighbours, which move single rounds by a third here)."""
    stop = await _lifespan(app)
    if settle:  # the collector as `dvc-gateway serve` leaves it after start-up
        settle_collector()
    per_round = max(1, n // rounds)
    cpu: list[float] = []
    db_cpu: list[float] = []
    try:
        warm = min(WARM_UP, n)
        for i in range(warm):  # caches, prepared statements, pools
            await _call(app, *requests(i))
        for r in range(rounds):
            db_started = machine.db_seconds()  # first: reading /proc is not the gateway's CPU
            started = time.process_time()
            for i in range(r * per_round, (r + 1) * per_round):
                status, body = await _call(app, *requests(warm + i))
                if status != expect:
                    raise SystemExit(f"unexpected {status}: {body[:300]!r}")
            cpu.append((time.process_time() - started) / per_round * 1e6)
            db_cpu.append((machine.db_seconds() - db_started) / per_round * 1e6)
    finally:
        await stop()
    result = {"cpu_us_best": round(min(cpu)), "cpu_us_median": round(statistics.median(cpu))}
    if postgres:  # the server's processes; SQLite's work is in the process's own CPU time
        result |= {"db_cpu_us_best": round(min(db_cpu)), "db_cpu_us_median": round(statistics.median(db_cpu))}
    return result


def _gateway(url: str) -> Any:
    os.environ.update(DVCGW_DATABASE_URL=url, DVCGW_WORKERS_ENABLED="false", DVCGW_LOG_JSON="true", **UNLIMITED)
    from gateway.asgi import create

    return create()


def run(db_kind: str, only: list[str], n: int, settle: bool, pg_setup: str = "") -> dict[str, Any]:
    results: dict[str, Any] = {}
    db = create_database(db_kind, pg_setup)
    try:
        client_id, api_key = dataprep.create_client(db.url)
        auth = {"authorization": f"Bearer {api_key}"}
        need = n + WARM_UP
        payments = dataprep.create_payments(db.url, client_id, need * only.count("ipn") + 1000 * ("read" in only))
        reads = payments[:1000] if "read" in only else []
        pending = payments[len(reads) :]
        app = _gateway(db.url)
        scenarios: dict[str, tuple[Callable[[int], Request], int]] = {
            "read": (lambda i: ("GET", f"/v1/payments/{reads[i % len(reads)].id}", auth, b""), 200),
            "ipn": (lambda i: ("GET", dataprep.ipn_path(pending[i], i), {}, b""), 200),
            "ipn_dup": (lambda i: ("GET", dataprep.ipn_path(pending[i % 100], i % 100), {}, b""), 200),
            "create": (
                lambda i: (
                    "POST",
                    "/v1/payments",
                    auth | {"content-type": "application/json", "idempotency-key": str(uuid.uuid4())},
                    json.dumps(dataprep.PAYMENT_BODY).encode(),
                ),
                201,
            ),
        }
        for name in only:
            if name in scenarios:
                make, expect = scenarios[name]
                prepared = [make(i) for i in range(n + WARM_UP)]  # signing and paths are the client's work
                results[name] = asyncio.run(
                    _measure(app, prepared.__getitem__, n, expect, settle=settle, postgres=db_kind == "postgres")
                )
                print(db_kind, name, results[name], file=sys.stderr, flush=True)
    finally:
        db.drop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--only", default="baseline,read,ipn,ipn_dup,create")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--gc", choices=["default", "settled"], default="default", help="settled: as served")
    parser.add_argument("--pg-setup", default="", help="SQL run on the PostgreSQL bench database first")
    args = parser.parse_args()
    settle = args.gc == "settled"
    only = args.only.split(",")
    dataprep.quiet_logging()
    if "baseline" in only:
        from bench.baseline_app import create

        body = json.dumps(BASELINE_BODY).encode()
        result = asyncio.run(
            _measure(
                create(),
                lambda i: ("POST", "/echo", {"content-type": "application/json"}, body),
                args.n,
                201,
                settle=settle,
            )
        )
        print("baseline", result, file=sys.stderr, flush=True)
    for kind in args.db.split(","):
        if kind == "postgres" and (why := pg_available()):
            print("postgres skipped:", why, file=sys.stderr)
            continue
        run(kind, only, args.n, settle, args.pg_setup)


if __name__ == "__main__":
    main()
