"""Reconciliation at scale: a settlement file of N rows against N payments, on SQLite and on PostgreSQL.

    .venv/bin/python -m bench.reconcile --rows 100000            # both databases; --db sqlite or postgres
    .venv/bin/python -m bench.reconcile --rows 1000000

For each database: a new database, migrated; the N payments bulk-inserted (not timed); then, in a fresh
process so that its peak memory is the reconciliation's own, the file is parsed once with the `csv`
module (the yardstick) and then reconciled by the gateway (gateway/reconciliation/service.py, as the API
and the CLI do). It reports both times, their ratio and the process's peak RSS, and checks that the run
found exactly the discrepancies bench/settlement_data.py injected. Results go to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, select

from bench.settlement_data import DAY, expected, insert_payments, write_file

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = "dvcgw_recon_bench"


def _pg_url(database: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{database}"


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def parse_with_csv(path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    rows = 0
    with path.open(newline="", encoding="utf-8") as f:
        for _ in csv.reader(f):
            rows += 1
    return time.perf_counter() - started, rows - 1


async def _reconcile(url: str, path: Path) -> tuple[float, dict[str, Any], int]:
    from gateway.clock import clock
    from gateway.db.engine import create_engine, create_sessionmaker
    from gateway.db.models import ReconciliationItem
    from gateway.payments.providers import build_providers
    from gateway.reconciliation.service import ReconciliationService
    from gateway.settings import Settings

    settings = Settings(database_url=url, log_level="WARNING")
    engine = create_engine(url)
    providers = build_providers(settings, clock)
    sessions = create_sessionmaker(engine)
    try:
        service = ReconciliationService(sessions, providers, settings, clock)
        started = time.perf_counter()
        with path.open("rb") as file:
            imported = await service.import_file("momo", DAY, file, path.name, "bench")
        elapsed = time.perf_counter() - started
        async with sessions() as session:
            settled = await session.scalar(
                select(func.count())
                .select_from(ReconciliationItem)
                .where(ReconciliationItem.run_id == imported.run.id, ReconciliationItem.settled_by_file.is_(True))
            )
        return elapsed, imported.run.summary, int(settled or 0)
    finally:
        await providers.aclose()
        await engine.dispose()


def _peak_rss_kb() -> int:
    """The process's peak resident set since the last reset (Linux's VmHWM), else since it started."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def _reset_peak_rss() -> bool:
    """Linux resets VmHWM to the current RSS when 5 is written to clear_refs: the peak of what follows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure(url: str, path: Path, rows: int) -> dict[str, Any]:
    """In its own process: the yardstick, then the reconciliation, then the checks."""
    from gateway.logging import configure_logging

    configure_logging("WARNING", json=True)
    import gateway.reconciliation.service  # noqa: F401 - imported before the baseline is taken

    parse_s, parsed = parse_with_csv(path)
    reset = _reset_peak_rss()
    rss_before = _peak_rss_kb()
    elapsed, summary, settled = asyncio.run(_reconcile(url, path))
    peak = _peak_rss_kb()
    found = {c: v["count"] for c, v in summary["categories"].items()}
    found["settled_by_file"] = settled
    return {
        "payments": rows,
        "file_rows": parsed,
        "file_bytes": path.stat().st_size,
        "csv_parse_s": round(parse_s, 3),
        "reconcile_s": round(elapsed, 3),
        "ratio": round(elapsed / parse_s, 1),
        "peak_rss_mb": round(peak / 1024, 1),
        "rss_before_mb": round(rss_before / 1024, 1),
        "peak_measured_from": "reset before the reconciliation (VmHWM)" if reset else "process start (ru_maxrss)",
        "expected": expected(rows),
        "found": found,
        "exact": found == expected(rows),
    }


def run(db: str, rows: int, path: Path, workdir: Path) -> dict[str, Any]:
    from gateway.db.engine import create_engine
    from gateway.db.migrate import upgrade

    if db == "postgres":
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        asyncio.run(_pg_admin(f'CREATE DATABASE "{PG_DATABASE}"'))
        url = _pg_url(PG_DATABASE)
    else:
        url = f"sqlite+aiosqlite:///{workdir / 'recon-bench.db'}"
    try:
        upgrade(url)

        async def fill() -> float:
            engine = create_engine(url)
            started = time.perf_counter()
            try:
                await insert_payments(engine, rows)
            finally:
                await engine.dispose()
            return time.perf_counter() - started

        insert_s = asyncio.run(fill())
        out = subprocess.run(
            [sys.executable, "-m", "bench.reconcile", "--measure", url, "--file", str(path), "--rows", str(rows)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        result["db"] = db
        result["payments_insert_s"] = round(insert_s, 1)
        return result
    finally:
        if db == "postgres":
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, Path(args.file), args.rows)))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="recon-bench-") as tmp:
        workdir = Path(tmp)
        path = workdir / f"momo-settlement-{args.rows}.csv"
        write_file(path, args.rows)
        for db in args.db.split(","):
            result = run(db, args.rows, path, workdir)
            print(json.dumps(result), flush=True)
            results.append(result)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"reconcile-{args.rows}.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
