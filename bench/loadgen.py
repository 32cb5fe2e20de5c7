"""Requests at a fixed rate, open loop: the latencies of the table (wrk has no rate control; Debian has no wrk2).

Request i is due at start + i/rate whatever became of the ones before it, and its latency counts from that
due time, so a server that stalls is charged for every request queued behind the stall. Requests go over
64 keep-alive HTTP/1.1 connections written with plain asyncio streams, which leaves the server most of the CPU.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

RSP = re.compile(rb'"RspCode":"(\d+)"')
TIMEOUT_SECONDS = 10.0
CONNECTIONS = 64


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    rspcodes: Counter[str] = field(default_factory=Counter)
    socket_errors: int = 0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else float("nan")


async def _roundtrip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next((int(v) for n, _, v in (x.partition(b":") for x in lines[1:]) if n.lower() == b"content-length"), 0)
    return int(lines[0].split(b" ", 2)[1]), await reader.readexactly(length)


async def _run(
    host: str, port: int, request: Callable[[int], bytes], rate: float, seconds: float, on_body: Callable[[bytes], None]
) -> Result:
    result = Result()
    count = int(rate * seconds)
    turns = itertools.count()
    start = time.perf_counter() + 0.1

    async def connection() -> None:
        # Each connection takes the next request due when it is free, so a request waits for a free one only
        # if all CONNECTIONS are busy, and that wait counts in its latency.
        reader, writer = await asyncio.open_connection(host, port)
        while (i := next(turns)) < count:
            due = start + i / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            try:
                async with asyncio.timeout(TIMEOUT_SECONDS):
                    status, body = await _roundtrip(reader, writer, request(i))
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                result.socket_errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            result.latencies_ms.append((time.perf_counter() - due) * 1000)
            result.statuses[str(status)] += 1
            if m := RSP.search(body):
                result.rspcodes[m.group(1).decode()] += 1
            if status == 201:
                on_body(body)
        writer.close()

    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    return result


def fixed_rate(
    host: str,
    port: int,
    request: Callable[[int], bytes],
    rate: float,
    seconds: float,
    on_body: Callable[[bytes], None] = lambda _: None,
) -> Result:
    """Send request(0), request(1), ... at `rate` a second for `seconds`; `on_body` sees each 201's body."""
    return asyncio.run(_run(host, port, request, rate, seconds, on_body))
