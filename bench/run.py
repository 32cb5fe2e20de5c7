"""`make bench` / `python -m bench.run`: baseline and gateway scenarios, saturation then fixed load.

    python -m bench.run [--quick] [--only baseline,create,ipn,ipn_dup,read] [--db sqlite,postgres]
                        [--workers 1,2] [--variants as-is,...] [--out latest]

For every worker count: the baseline app; then for every database: a fresh migrated database, a portal
client and 1,000 payments to read, the gateway under uvicorn, and each scenario in turn:
  1. the baseline beside it: the bare app (served alongside, idle otherwise) warmed up and saturated as
     in 2 and 3, so each ratio compares two measurements seconds apart (this machine drifts by a third
     within minutes: the ratio to the run's own baseline row, minutes away, is kept for reference);
  2. warm-up with wrk (its rate sizes the data of the next phase);
  3. saturation: wrk -t1 -c32 for the configured time, closed loop, gives the throughput;
  4. fixed load: bench.loadgen at half that throughput, open loop, gives p50/p99.
Every phase waits (bounded) for the machine to be quiet first and records where the CPU went.
Results: bench/results/<out>.md and .json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import math
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import dataprep, machine, report
from bench.databases import create_database, pg_available
from bench.scenarios import GATEWAY_SCENARIOS, SCENARIOS, Context, Load, Scenario, make_read_paths
from bench.server import BASELINE_APP, ROOT, Server, gateway_env
from bench.variants import VARIANTS, Variant
from bench.wrk import WrkResult, run_wrk, wrk_path


@dataclass(frozen=True)
class Config:
    mode: str
    warmup_seconds: float
    saturation_seconds: float
    fixed_seconds: float
    fixed_fraction: float = 0.5
    connections: int = 32
    threads: int = 1
    quiet_wait: float = 15.0
    read_payments: int = 1000
    dup_payments: int = 300
    as_served: bool = False  # plain `uvicorn --workers N` instead of bench.serve
    baseline_beside: bool = True  # step 1 of the module's text

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


FULL = Config("full", warmup_seconds=2, saturation_seconds=10, fixed_seconds=10)
QUICK = Config(
    "quick",
    warmup_seconds=1,
    saturation_seconds=3,
    fixed_seconds=3,
    quiet_wait=2.0,
    read_payments=500,
    dup_payments=150,
)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_loadgen(workdir: Path, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    path = workdir / f"loadgen-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(spec))
    proc = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen failed: {proc.stderr.strip()[-2000:]}")
    return dict(json.loads(proc.stdout))


def _unexpected(scn: Scenario, statuses: dict[str, int], rspcodes: dict[str, int]) -> int:
    bad = sum(n for s, n in statuses.items() if s not in scn.expect_status)
    if scn.expect_rsp:
        bad += sum(n for c, n in rspcodes.items() if c not in scn.expect_rsp)
    return bad


def prepare(scn: Scenario, ctx: Context) -> None:
    def prime(load: Load, count: int) -> None:
        run_loadgen(ctx.workdir, load.loadgen_spec(ctx.base_url, count=count, concurrency=16), timeout=120)

    scn.prepare(ctx, prime)


def saturate(scn: Scenario, ctx: Context, server: Server, cfg: Config) -> tuple[WrkResult, WrkResult, machine.CpuUse]:
    """Steps 2 and 3 of the module's text: the warm-up, then the saturation and where the CPU went."""

    def wrk(load: Load, seconds: float) -> WrkResult:
        script, args = load.wrk_args(cfg.threads)
        return run_wrk(ctx.base_url, script, args, duration=seconds, connections=cfg.connections, threads=cfg.threads)

    warm = wrk(scn.load(ctx, 400), cfg.warmup_seconds)
    sat_load = scn.load(ctx, math.ceil(max(warm.rps, 50) * 1.6 * cfg.saturation_seconds) + 200)
    machine.wait_for_quiet(max_wait=cfg.quiet_wait, sample=min(0.5, cfg.quiet_wait / 3))
    meter = machine.CpuMeter(server.proc.pid if server.proc else None)
    sat = wrk(sat_load, cfg.saturation_seconds)
    return warm, sat, meter.stop()


def _per_request(cpu: machine.CpuUse, requests: int) -> float | None:
    return round(cpu.server_cores * cpu.seconds * 1000 / requests, 3) if requests else None


@dataclass
class Beside:
    """The bare app served alongside a gateway, saturated just before each of the gateway's scenarios."""

    server: Server
    ctx: Context

    def measure(self, cfg: Config) -> dict[str, Any]:
        _, sat, cpu = saturate(SCENARIOS["baseline"], self.ctx, self.server, cfg)
        return {"rps": round(sat.rps, 1), "cpu_ms_per_req": _per_request(cpu, sat.requests), "cpu": cpu.as_dict()}


def measure(scn: Scenario, ctx: Context, server: Server, cfg: Config, beside: Beside | None = None) -> dict[str, Any]:
    notes: list[str] = []
    prepare(scn, ctx)
    pgid = server.proc.pid if server.proc else None
    # Before the scenario, not after: after a saturation the gateway still works for a while (SQLite's
    # checkpoints of what it wrote), which would slow the bare app beside it by about a twentieth.
    baseline_beside = beside.measure(cfg) if beside else None
    warm, sat, sat_cpu = saturate(scn, ctx, server, cfg)
    if sat.wrapped and scn.unique:
        notes.append(f"{scn.name}: {sat.wrapped} saturation requests re-used a payment (answered as duplicates)")

    rate = max(1.0, sat.rps * cfg.fixed_fraction)
    fixed_load = scn.load(ctx, math.ceil(rate * cfg.fixed_seconds) + 50)
    machine.wait_for_quiet(max_wait=cfg.quiet_wait, sample=min(0.5, cfg.quiet_wait / 3))
    meter = machine.CpuMeter(pgid)
    spec = fixed_load.loadgen_spec(ctx.base_url, rate=rate, duration=cfg.fixed_seconds)
    fx = run_loadgen(ctx.workdir, spec, timeout=cfg.fixed_seconds + 90)
    fx_cpu = meter.stop()
    lag = fx["lag_ms"]["p99"] or 0.0
    if lag > 5:
        notes.append(f"{scn.name}: the load generator sent late (lag p99 {lag:.1f} ms): CPU contention")
    if fx.get("wrapped") and scn.unique:
        notes.append(f"{scn.name}: {fx['wrapped']} fixed-load requests re-used a payment")

    sat_errors = sat.socket_errors + _unexpected(scn, sat.statuses, sat.rspcodes)
    fx_errors = sum(fx["errors"].values()) + _unexpected(scn, fx["statuses"], fx["rspcodes"])
    result = {
        "saturation": {
            "rps": round(sat.rps, 1),
            "requests": sat.requests,
            "seconds": round(sat.seconds, 2),
            "p50_ms": sat.p50_ms,
            "p99_ms": sat.p99_ms,
            "errors": sat_errors,
            "statuses": sat.statuses,
            "rspcodes": sat.rspcodes,
            "cpu": sat_cpu.as_dict(),
            "cpu_ms_per_req": _per_request(sat_cpu, sat.requests),
            "warmup_rps": round(warm.rps, 1),
            "baseline_beside": baseline_beside,
        },
        "fixed": {
            "offered_rps": round(rate, 1),
            "achieved_rps": fx["achieved_rps"],
            "completed": fx["completed"],
            "p50_ms": fx["latency_ms"]["p50"],
            "p90_ms": fx["latency_ms"]["p90"],
            "p99_ms": fx["latency_ms"]["p99"],
            "p999_ms": fx["latency_ms"]["p999"],
            "max_ms": fx["latency_ms"]["max"],
            "service_p99_ms": fx["service_ms"]["p99"],
            "lag_p99_ms": lag,
            "peak_connections": fx["peak_connections"],
            "errors": fx_errors,
            "statuses": fx["statuses"],
            "rspcodes": fx["rspcodes"],
            "cpu": fx_cpu.as_dict(),
        },
        "notes": notes,
    }
    p50, p99 = fx["latency_ms"]["p50"] or 0.0, fx["latency_ms"]["p99"] or 0.0
    log(
        f"  {scn.name:9s} saturation {sat.rps:8.1f} req/s (server {sat_cpu.server_cores:.2f} cores, "
        f"db {sat_cpu.db_cores:.2f}, other {sat_cpu.other_cores:.2f})  fixed {rate:7.1f} req/s "
        f"p50 {p50:6.1f} ms p99 {p99:7.1f} ms  errors {sat_errors + fx_errors}"
        + (f"  baseline beside {baseline_beside['rps']:.1f} req/s" if baseline_beside else "")
    )
    return result


def _row(scn: Scenario, db: str, workers: int, variant: str, server: str, m: dict[str, Any]) -> dict[str, Any]:
    return {
        "scenario": scn.name,
        "title": scn.title,
        "db": db,
        "workers": workers,
        "variant": variant,
        "server": server,
        "goal_ratio": scn.goal_ratio,
        **m,
    }


def _server_env(fast_server: bool) -> dict[str, str]:
    """gateway/serving.py serves on asyncio and h11 unless told otherwise."""
    return {"DVCGW_SERVER_LOOP": "uvloop", "DVCGW_SERVER_HTTP": "httptools"} if fast_server else {}


def run_baseline(workers: int, fast: bool, cfg: Config, workdir: Path) -> dict[str, Any]:
    scn = SCENARIOS["baseline"]
    server = Server(
        BASELINE_APP,
        workers,
        _server_env(fast),
        workdir / f"baseline-{workers}.log",
        "/health",
        as_served=cfg.as_served,
    )
    log(f"baseline, {workers} worker(s){' uvloop+httptools' if fast else ''}")
    with server:
        ctx = Context(workdir, server.base_url)
        m = measure(scn, ctx, server, cfg)
    return _row(scn, "-", workers, "uvloop" if fast else "-", _server_name(fast, cfg), m)


def _server_name(fast: bool, cfg: Config) -> str:
    how = "uvicorn --workers" if cfg.as_served else "bench.serve"
    return f"{how}, {'uvloop+httptools' if fast else 'asyncio+h11'}"


def run_gateway(
    db_kind: str, workers: int, variant: Variant, names: list[str], cfg: Config, workdir: Path
) -> list[dict[str, Any]]:
    rows = []
    log(f"gateway on {db_kind}, {workers} worker(s), variant {variant.name}: preparing the database")
    db = create_database(db_kind)
    try:
        client_id, api_key = dataprep.create_client(db.url)
        env = gateway_env(db.url) | variant.env | _server_env(variant.fast_server)
        server = Server(
            variant.app,
            workers,
            env,
            workdir / f"gateway-{db_kind}-{workers}-{variant.name}.log",
            "/ready",
            as_served=cfg.as_served,
        )
        ctx = Context(workdir, server.base_url, db.url, client_id, api_key, dup_payments=cfg.dup_payments)
        make_read_paths(ctx, cfg.read_payments)
        bare = Server(
            BASELINE_APP,
            workers,
            _server_env(variant.fast_server),
            workdir / f"baseline-beside-{db_kind}-{workers}-{variant.name}.log",
            "/health",
            as_served=cfg.as_served,
        )
        with server, bare if cfg.baseline_beside else contextlib.nullcontext():
            beside = None
            if cfg.baseline_beside:
                beside = Beside(bare, Context(workdir, bare.base_url))
                prepare(SCENARIOS["baseline"], beside.ctx)
            for name in names:
                m = measure(SCENARIOS[name], ctx, server, cfg, beside)
                rows.append(
                    _row(SCENARIOS[name], db_kind, workers, variant.name, _server_name(variant.fast_server, cfg), m)
                )
            if server.proc and server.proc.poll() is not None:
                raise RuntimeError(f"the gateway stopped during the run:\n{server.tail()}")
    finally:
        db.drop()
    return rows


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("litestar", "uvicorn", "sqlalchemy", "pydantic", "asyncpg", "aiosqlite", "structlog"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[pkg] = importlib.metadata.version(pkg)
    return out


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def _csv(value: str, allowed: list[str], what: str) -> list[str]:
    items = [x.strip() for x in value.split(",") if x.strip()]
    bad = [x for x in items if x not in allowed]
    if bad:
        raise SystemExit(f"unknown {what}: {', '.join(bad)} (choose from {', '.join(allowed)})")
    return items


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short phases (about 3 minutes in all)")
    p.add_argument("--only", default=",".join(SCENARIOS), help="scenarios (default: all)")
    p.add_argument("--db", default="sqlite,postgres", help="databases (default: sqlite,postgres)")
    p.add_argument("--workers", default="1,2", help="uvicorn worker counts (default: 1,2)")
    p.add_argument("--variants", default="as-is", help=f"gateway variants: {', '.join(VARIANTS)}")
    p.add_argument("--connections", type=int, help="wrk connections (default 32)")
    p.add_argument("--saturation-seconds", type=float)
    p.add_argument("--fixed-seconds", type=float)
    p.add_argument("--out", default="latest", help="results file name under bench/results (default: latest)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (server logs, request files)")
    p.add_argument(
        "--as-served",
        action="store_true",
        help="plain `uvicorn --workers N` for both apps (see bench/serve.py for why that is not the default)",
    )
    p.add_argument(
        "--no-baseline-beside",
        action="store_true",
        help="ratios to the run's baseline row only, without saturating the bare app before each scenario",
    )
    a = p.parse_args(argv)

    cfg = QUICK if a.quick else FULL
    overrides = {
        k: v
        for k, v in (
            ("connections", a.connections),
            ("saturation_seconds", a.saturation_seconds),
            ("fixed_seconds", a.fixed_seconds),
            ("as_served", a.as_served),
        )
        if v
    }
    if a.no_baseline_beside:
        overrides["baseline_beside"] = False
    if overrides:
        cfg = Config(**(cfg.as_dict() | overrides))
    names = _csv(a.only, list(SCENARIOS), "scenario")
    dbs = _csv(a.db, ["sqlite", "postgres"], "database")
    workers = [int(w) for w in _csv(a.workers, ["1", "2", "3", "4"], "worker count")]
    variants = [VARIANTS[v] for v in _csv(a.variants, list(VARIANTS), "variant")]
    if not wrk_path():
        raise SystemExit("wrk is not installed: apt-get install -y wrk (Debian package)")
    notes: list[str] = []
    if "postgres" in dbs and (why := pg_available()):
        notes.append(f"PostgreSQL skipped: {why}")
        log(notes[-1])
        dbs.remove("postgres")

    dataprep.quiet_logging()
    workdir = Path(tempfile.mkdtemp(prefix="dvcgw-bench-run-"))
    started = time.monotonic()
    meta = {
        "mode": cfg.mode,
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "machine": machine.describe(),
        "python": platform.python_version(),
        "versions": _versions(),
        "config": cfg.as_dict(),
        "command": " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]),
    }
    rows: list[dict[str, Any]] = []
    gateway_names = [n for n in names if n in GATEWAY_SCENARIOS]
    try:
        for w in workers:
            if "baseline" in names:
                for fast in sorted({v.fast_server for v in variants}):
                    rows.append(run_baseline(w, fast, cfg, workdir))
            for db in dbs:
                for v in variants:
                    if gateway_names:
                        rows.extend(run_gateway(db, w, v, gateway_names, cfg, workdir))
    finally:
        meta["seconds"] = round(time.monotonic() - started, 1)
        if rows:
            report.attach_ratios(rows, report.previous_rows(a.out))
            for r in rows:
                r.setdefault("notes", [])
            if notes:
                rows[0]["notes"] = notes + rows[0]["notes"]
            j, m = report.write(a.out, meta, rows)
            log(f"wrote {m.relative_to(ROOT)} and {j.relative_to(ROOT)} in {meta['seconds']:.0f}s")
            print(report.markdown(meta, rows))
        if a.keep:
            log(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
