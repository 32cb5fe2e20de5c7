"""Open-loop load at a fixed offered rate, in its own process (`python -m bench.loadgen SPEC.json`).

Debian packages wrk, not wrk2, and wrk has no rate control, so the fixed-load latencies come from here:
request i is due at t0 + i/rate whatever happened to the requests before it (an open loop, like a
portal's citizens, who do not wait for each other). Latency is measured from the due time, not from
the moment a connection was free, so a stalled server is charged for the requests queued behind it
(the "coordinated omission" correction wrk2 makes). Requests go over keep-alive HTTP/1.1 connections
written with plain asyncio streams (no HTTP library) so the generator stays cheap: `connections` (16)
are opened first and used in turn; a request finding none idle opens another, up to `max_connections`.

The spec (JSON): {"url": "http://127.0.0.1:PORT", "rate": R, "duration": S, "kind": "post"|"get",
  "path": "/x", "body_file": F, "api_key": K|null, "idem_prefix": P|null,   # kind post
  "paths_file": F, "cycle": true|false,                                    # kind get
  "count": N|null, "concurrency": C|null}                                  # closed-loop pass (priming)
  "slow_ms": 25                                                            # requests kept in "slow"
The result (JSON on stdout): latency percentiles in ms from the due time, and how late the generator
itself sent requests (lag), so a generator that could not keep up is visible; "slow": the requests of
slow_ms or more, [due time (epoch seconds), latency ms, lag ms] (the first SLOW_KEPT; "slow_not_kept"
counts the rest).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections import Counter, deque
from typing import Any
from urllib.parse import urlsplit

RSP = re.compile(rb'"RspCode":"(\d+)"')
# Every time is read from this clock, not loop.time(): uvloop's counts whole milliseconds (the loop's
# cached time), which put up to a millisecond of error in each latency.
clock = time.perf_counter
MIN_SLEEP = 0.001
SLOW_KEPT = 20_000


class Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def roundtrip(self, request: bytes) -> tuple[int, bytes, bool]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, close = None, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        else:
            body = await self.reader.readexactly(length or 0)
        return status, body, close

    def close(self) -> None:
        self.writer.close()


class Source:
    """The i-th request's bytes."""

    def __init__(self, spec: dict[str, Any]) -> None:
        host = urlsplit(spec["url"]).netloc
        self.kind = spec["kind"]
        auth = f"Authorization: Bearer {spec['api_key']}\r\n" if spec.get("api_key") else ""
        if self.kind == "post":
            with open(spec["body_file"], "rb") as f:
                body = f.read()
            self.head = (
                f"POST {spec['path']} HTTP/1.1\r\nHost: {host}\r\n{auth}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            ).encode()
            self.body = body
            self.idem = spec.get("idem_prefix")
            self.static = None if self.idem else self.head + b"\r\n" + body
        else:
            with open(spec["paths_file"]) as f:
                paths = [line.strip() for line in f if line.strip()]
            self.requests = [f"GET {p} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode() for p in paths]
            self.cycle = bool(spec.get("cycle", True))
        self.wrapped = 0

    def __call__(self, i: int) -> bytes:
        if self.kind == "post":
            if self.static is not None:
                return self.static
            return self.head + f"Idempotency-Key: {self.idem}-{i}\r\n\r\n".encode() + self.body
        n = len(self.requests)
        if i >= n:
            self.wrapped += 1
        return self.requests[i % n]


def _pct(values: list[float], p: float) -> float | None:
    """The p-th percentile (nearest rank) of sorted values."""
    if not values:
        return None
    k = min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))
    return values[k]


class Runner:
    def __init__(self, spec: dict[str, Any]) -> None:
        u = urlsplit(spec["url"])
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.source = Source(spec)
        self.max_connections = int(spec.get("max_connections", 256))
        self.timeout = float(spec.get("timeout", 10.0))
        self.spec_connections = int(spec.get("connections", 16))
        # FIFO: every open connection takes its turn, so with one listening socket per worker the load
        # is spread over the workers the way the kernel spread the connections.
        self.idle: deque[Conn] = deque()
        self.open_count = 0
        self.peak_open = 0
        self.waiters: asyncio.Queue[Conn] = asyncio.Queue()
        self.latency_ms: list[float] = []  # from due time
        self.service_ms: list[float] = []  # from the moment it was written
        self.lag_ms: list[float] = []  # how late the generator wrote it
        # Requests at or over slow_ms, by due time on the wall clock, so a tail can be told apart: one stall
        # (slow requests due within milliseconds of each other) or slowness spread over the run.
        self.slow_ms = float(spec.get("slow_ms", 25.0))
        self.slow: list[tuple[float, float, float]] = []  # (due, epoch seconds; latency ms; lag ms)
        self.slow_not_kept = 0
        self.wall_offset = 0.0  # epoch seconds minus the loop's clock, set when the run starts
        self.statuses: Counter[str] = Counter()
        self.rspcodes: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.in_flight = 0

    async def _connect(self) -> Conn:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return Conn(reader, writer)

    async def _acquire(self) -> Conn:
        if self.idle:
            return self.idle.popleft()
        if self.open_count < self.max_connections:
            self.open_count += 1
            self.peak_open = max(self.peak_open, self.open_count)
            try:
                return await self._connect()
            except BaseException:
                self.open_count -= 1
                raise
        return await self.waiters.get()

    def _release(self, conn: Conn) -> None:
        if not self.waiters.empty() or self.waiters._getters:  # type: ignore[attr-defined]
            self.waiters.put_nowait(conn)
        else:
            self.idle.append(conn)

    async def one(self, i: int, due: float) -> None:
        self.in_flight += 1
        conn = None
        try:
            conn = await asyncio.wait_for(self._acquire(), self.timeout)
            sent = clock()
            status, body, close = await asyncio.wait_for(conn.roundtrip(self.source(i)), self.timeout)
            end = clock()
            latency, lag = (end - due) * 1000, max(0.0, sent - due) * 1000
            self.latency_ms.append(latency)
            self.service_ms.append((end - sent) * 1000)
            self.lag_ms.append(lag)
            if latency >= self.slow_ms:
                if len(self.slow) < SLOW_KEPT:
                    self.slow.append((due + self.wall_offset, latency, lag))
                else:
                    self.slow_not_kept += 1
            self.statuses[str(status)] += 1
            m = RSP.search(body)
            if m:
                self.rspcodes[m.group(1).decode()] += 1
            if close:
                conn.close()
                self.open_count -= 1
            else:
                self._release(conn)
            conn = None
        except TimeoutError:
            self.errors["timeout"] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            self.errors[type(exc).__name__] += 1
        finally:
            if conn is not None:  # broken mid-request: do not reuse
                conn.close()
                self.open_count -= 1
            self.in_flight -= 1

    async def open_loop(self, rate: float, duration: float) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        self.wall_offset = time.time() - clock()
        # Open connections first, so the first second does not pay for connecting.
        for _ in range(min(self.max_connections, int(self.spec_connections))):
            self.idle.append(await self._connect())
            self.open_count += 1
        self.peak_open = self.open_count
        n = int(rate * duration)
        tasks: set[asyncio.Task[None]] = set()
        t0 = clock() + 0.05
        i = 0
        while i < n:
            now = clock()
            while i < n and t0 + i / rate <= now:
                t = loop.create_task(self.one(i, t0 + i / rate))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
                i += 1
            if i < n:
                # Never less than a millisecond: uvloop's timers count whole milliseconds, and a shorter
                # wait returns at once, so the generator would spin a core the server needs.
                await asyncio.sleep(max(MIN_SLEEP, t0 + i / rate - clock()))
        sent_all = clock()
        if tasks:
            await asyncio.wait(set(tasks), timeout=self.timeout + 1)
        for t in tasks:
            t.cancel()
        end = max(sent_all, t0)
        return self._result(n, end - t0, rate)

    async def closed_loop(self, count: int, concurrency: int) -> dict[str, Any]:
        self.wall_offset = time.time() - clock()
        counter = iter(range(count))
        start = clock()

        async def worker() -> None:
            for i in counter:
                await self.one(i, clock())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return self._result(count, clock() - start, None)

    def _result(self, n: int, seconds: float, rate: float | None) -> dict[str, Any]:
        lat = sorted(self.latency_ms)
        svc = sorted(self.service_ms)
        lag = sorted(self.lag_ms)
        done = len(lat)
        return {
            "offered_rps": rate,
            "scheduled": n,
            "completed": done,
            "seconds": seconds,
            "achieved_rps": done / seconds if seconds > 0 else None,
            "latency_ms": {p: _pct(lat, q) for p, q in (("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9))}
            | {"max": lat[-1] if lat else None, "mean": sum(lat) / done if done else None},
            "service_ms": {"p50": _pct(svc, 50), "p99": _pct(svc, 99)},
            "lag_ms": {"p50": _pct(lag, 50), "p99": _pct(lag, 99), "max": lag[-1] if lag else None},
            "statuses": dict(self.statuses),
            "rspcodes": dict(self.rspcodes),
            "errors": dict(self.errors),
            "peak_connections": self.peak_open,
            "wrapped": self.source.wrapped,
            "slow": [[round(at, 4), round(ms, 2), round(lag, 2)] for at, ms, lag in self.slow],
            "slow_not_kept": self.slow_not_kept,
        }

    def close(self) -> None:
        for c in self.idle:
            c.close()


async def amain(spec: dict[str, Any]) -> dict[str, Any]:
    runner = Runner(spec)
    try:
        if spec.get("count"):
            return await runner.closed_loop(int(spec["count"]), int(spec.get("concurrency") or 8))
        return await runner.open_loop(float(spec["rate"]), float(spec["duration"]))
    finally:
        runner.close()


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    try:
        import uvloop  # optional: a cheaper event loop for the generator when it is installed

        uvloop.install()
    except ImportError:
        pass
    started = time.perf_counter()
    result = asyncio.run(amain(spec))
    result["wall_seconds"] = time.perf_counter() - started
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
