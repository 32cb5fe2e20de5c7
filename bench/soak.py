"""`make soak`: the gateway under steady mixed traffic for a long time, watched for slow leaks.

    SOAK_SECONDS=3600 SOAK_RATE=4 SOAK_DB=sqlite|postgres python -m bench.soak

One `dvc-gateway serve` beside the five simulators (real processes, tests/reliability/crash_world.py), fed
at a fixed rate (open loop: SOAK_RATE new citizens a second, each paying through a random provider, some
refunding, a quarter sending a result by post). Every SOAK_WINDOW seconds (60) it samples the gateway's
resident memory, its open database connections and the p99 of the portal's requests in that window. At the
end everything must settle and agree with the providers (tests/reliability/crash_checks.py). Prints a report
and writes bench/results/soak-latest.md; exits 1 if memory or connections grew, p99 drifted, or anything was
left open or lost.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from bench.run import RESULTS
from tests.conftest import temporary_database
from tests.reliability.crash_checks import Books, check
from tests.reliability.crash_load import Load
from tests.reliability.crash_world import Proc, World, world

MAX_IN_FLIGHT = 64  # citizens at once; past it the rate is not held (reported)
# What counts as flat: the last quarter's median against the first quarter's.
RSS_GROWTH_LIMIT = 0.20
P99_DRIFT_LIMIT = 2.0


@dataclass
class Sample:
    at: float
    rss_kib: int
    connections: int
    requests: int
    p99_ms: float


def rss_kib(pid: int) -> int:
    """Resident memory of the process and its children (uvicorn may run the app in a child)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(entry.name) != pid and int(stat[2]) != pid:  # stat[2]: the parent's pid
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total


async def connections(database_url: str, pid: int) -> int:
    """Open connections to the database: PostgreSQL's own count, or SQLite file handles held by the process."""
    if database_url.startswith("postgresql"):
        dsn = database_url.replace("postgresql+asyncpg", "postgresql")
        conn = await asyncpg.connect(dsn)
        try:
            name = dsn.rsplit("/", 1)[1]
            return int(await conn.fetchval("SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = $1", name))
        finally:
            await conn.close()
    return sqlite_handles(database_url.split("///", 1)[1], pid)


def sqlite_handles(db: str, pid: int) -> int:
    fds = Path(f"/proc/{pid}/fd")
    return sum(1 for fd in fds.iterdir() if os.path.realpath(fd) == db) if fds.exists() else 0


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] * 1000 if len(values) >= 2 else 0.0


async def soak(w: World, gateway: Proc, seconds: float, rate: float, window: float, seed: int) -> tuple[str, bool]:
    rng = random.Random(seed)
    books = Books(w.database_url)
    load = Load(w, random.Random(rng.random()), [gateway], books.provider_ref)
    samples: list[Sample] = []
    dropped = 0
    try:
        async with httpx.AsyncClient() as sim:
            for name in ("vnpay", "zalopay"):
                await sim.put(f"{w.sim_urls[name]}/_sim/{name}/faults", json={"refund_pending": False})
        running: set[asyncio.Task[None]] = set()
        started = time.monotonic()
        next_sample = started + window
        tick = 0
        while time.monotonic() - started < seconds:
            tick += 1
            await asyncio.sleep(max(0.0, started + tick / rate - time.monotonic()))
            if len(running) >= MAX_IN_FLIGHT:
                dropped += 1
            else:
                task = asyncio.create_task(load.shipment() if rng.random() < 0.25 else load.payment())
                running.add(task)
                task.add_done_callback(running.discard)
            if time.monotonic() >= next_sample:
                recent = [lat for at, lat in load.latencies if at >= next_sample - window]
                samples.append(
                    Sample(
                        time.monotonic() - started,
                        rss_kib(gateway.pid),
                        await connections(w.database_url, gateway.pid),
                        len(recent),
                        p99(recent),
                    )
                )
                s = samples[-1]
                print(
                    f"[soak {s.at:6.0f} s] rss {s.rss_kib / 1024:.1f} MiB, db connections {s.connections}, "
                    f"{s.requests} requests, p99 {s.p99_ms:.1f} ms, in flight {len(running)}",
                    flush=True,
                )
                next_sample += window
        failures = [t for t in await asyncio.gather(*running, return_exceptions=True) if isinstance(t, Exception)]
        report = await check(books, w, load.tally)
    finally:
        await load.aclose()
        await books.aclose()
    return verdict(samples, report.problems, failures, load, dropped, seconds, rate)


def verdict(
    samples: list[Sample],
    problems: list[str],
    failures: list[BaseException],
    load: Load,
    dropped: int,
    seconds: float,
    rate: float,
) -> tuple[str, bool]:
    quarter = max(1, len(samples) // 4)
    first, last = samples[:quarter], samples[-quarter:]

    def median(xs: list[Sample], f: str) -> float:
        return statistics.median(getattr(s, f) for s in xs) if xs else 0.0

    rss_growth = median(last, "rss_kib") / median(first, "rss_kib") - 1 if samples else 0.0
    p99_drift = median(last, "p99_ms") / max(median(first, "p99_ms"), 1.0) if samples else 0.0
    max_conn = max((s.connections for s in samples), default=0)
    first_conn = max((s.connections for s in first), default=0)
    ok = (
        not problems
        and not failures
        and rss_growth <= RSS_GROWTH_LIMIT
        and p99_drift <= P99_DRIFT_LIMIT
        and max_conn <= max(first_conn, 1) * 2
    )
    lines = [
        "# Soak: last run",
        "",
        f"- {seconds:.0f} s at {rate:g} new citizens/s (open loop; {dropped} ticks skipped at "
        f"{MAX_IN_FLIGHT} in flight)",
        f"- operations: {dict(load.tally.operations)}; portal requests {len(load.latencies)}",
        f"- memory (RSS) first quarter {median(first, 'rss_kib') / 1024:.1f} MiB, last quarter "
        f"{median(last, 'rss_kib') / 1024:.1f} MiB: growth {rss_growth:+.1%} (limit {RSS_GROWTH_LIMIT:.0%})",
        f"- DB connections: first quarter max {first_conn}, whole run max {max_conn}",
        f"- p99 first quarter {median(first, 'p99_ms'):.1f} ms, last quarter {median(last, 'p99_ms'):.1f} ms: "
        f"x{p99_drift:.2f} (limit x{P99_DRIFT_LIMIT:g})",
        f"- requests that failed: {len(failures)} {[repr(f)[:200] for f in failures[:3]]}",
        f"- left open or lost: {problems or 'nothing'}",
        f"- verdict: {'PASS' if ok else 'FAIL'}",
        "",
        "| t (s) | RSS (MiB) | DB connections | requests | p99 (ms) |",
        "|---:|---:|---:|---:|---:|",
        *(
            f"| {s.at:.0f} | {s.rss_kib / 1024:.1f} | {s.connections} | {s.requests} | {s.p99_ms:.1f} |"
            for s in samples
        ),
    ]
    return "\n".join(lines), ok


def main() -> int:
    seconds = float(os.environ.get("SOAK_SECONDS", "3600"))
    rate = float(os.environ.get("SOAK_RATE", "4"))
    window = float(os.environ.get("SOAK_WINDOW", "60"))
    seed = int(os.environ.get("SOAK_SEED") or secrets.randbelow(2**32))
    if os.environ.get("SOAK_DB", "sqlite") == "postgres":
        os.environ.setdefault("DVCGW_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    else:
        os.environ.pop("DVCGW_TEST_DATABASE_URL", None)
    print(f"soak: {seconds:.0f} s at {rate:g}/s, seed {seed}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    env = {f"DVCGW_{p.upper()}_TIMEOUT_SECONDS": "5" for p in ("vnpay", "momo", "zalopay", "payos", "vnpost")}
    env["DVCGW_PAYMENT_EXPIRY_GRACE_SECONDS"] = "5"
    with temporary_database(tmp) as url, world(url, tmp, **env) as w:
        gateway = w.gateway()
        gateway.start()
        try:
            text, ok = asyncio.run(soak(w, gateway, seconds, rate, window, seed))
        finally:
            gateway.stop()
    text = text.replace("# Soak: last run", f"# Soak: last run ({os.environ.get('SOAK_DB', 'sqlite')}, seed {seed})")
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak-latest.md").write_text(text + "\n")
    print(f"logs in {tmp}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
