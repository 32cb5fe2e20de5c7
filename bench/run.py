"""`make bench` / `python -m bench.run`: baseline and gateway scenarios, saturation then fixed load.

    python -m bench.run [--quick] [--only baseline,create,ipn,ipn_dup,read] [--db sqlite,postgres]
                        [--workers 1,2] [--variants as-is,...] [--rounds N] [--out latest]

For every worker count: the baseline app; then for every database: a fresh migrated database, a portal
client and 1,000 payments to read, the gateway under uvicorn, and each scenario in turn:
  1. warm-up with wrk, of the gateway and of the bare app served beside it (same workers, idle
     otherwise); the gateway's rate sizes the data of the next phase;
  2. saturation: wrk -t1 -c32, closed loop, in `rounds` short rounds alternated with the same rounds of
     the bare app, each app going first in every other round, and after each gateway round a wait until
     the machine is quiet (the gateway's checkpoints would slow the bare app's next round); each app's
     throughput is its requests over its seconds in all rounds, and the ratio is the gateway's over the
     bare app's, with a 90% interval from the rounds (bootstrap). The machine's speed moves by a third
     from one 3-second window to the next (bench/README.md, "How steady the numbers are"), so one long
     phase of each, even seconds apart, could land on a fast window for one and a slow one for the
     other; alternated short rounds share the machine's weather. The ratio to the run's own baseline
     row, minutes away, is kept for reference;
  3. fixed load: bench.loadgen at half the gateway's saturation throughput, open loop, gives p50/p99.
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
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import dataprep, machine, report
from bench.databases import create_database, pg_available, pg_recommended, pg_server, pg_settings, pg_wal_files
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
    rounds: int = 10  # saturation_seconds is split into this many rounds, alternated with the baseline's
    connections: int = 32
    threads: int = 1
    quiet_wait: float = 15.0
    read_payments: int = 1000
    dup_payments: int = 300
    as_served: bool = False  # plain `uvicorn --workers N` instead of bench.serve
    baseline_beside: bool = True  # step 1 of the module's text
    pg_setup: str = ""  # statements run on the PostgreSQL bench database after its migrations (what-ifs)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


FULL = Config("full", warmup_seconds=2, saturation_seconds=20, fixed_seconds=10)
QUICK = Config(
    "quick",
    warmup_seconds=1,
    saturation_seconds=4,
    fixed_seconds=3,
    rounds=2,
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


@dataclass
class App:
    """One app under load: the gateway, or the bare app served beside it."""

    scn: Scenario
    ctx: Context
    server: Server

    def wrk(self, load: Load, seconds: float, cfg: Config) -> WrkResult:
        script, args = load.wrk_args(cfg.threads)
        return run_wrk(
            self.ctx.base_url, script, args, duration=seconds, connections=cfg.connections, threads=cfg.threads
        )

    def measured(self, load: Load, seconds: float, cfg: Config) -> tuple[WrkResult, machine.CpuUse]:
        meter = machine.CpuMeter(self.server.proc.pid if self.server.proc else None)
        result = self.wrk(load, seconds, cfg)
        return result, meter.stop()


@dataclass
class Saturation:
    """An app's saturation rounds taken together: its requests over its seconds in all of them."""

    rounds: list[tuple[WrkResult, machine.CpuUse]]

    @property
    def requests(self) -> int:
        return sum(r.requests for r, _ in self.rounds)

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r, _ in self.rounds)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def cpu(self) -> machine.CpuUse:
        """Where the CPU went, in cores averaged over the rounds' wall time."""
        wall = sum(c.seconds for _, c in self.rounds) or 1e-6
        fields = ("server_cores", "load_cores", "db_cores", "other_cores", "irq_cores")
        return machine.CpuUse(wall, *(sum(getattr(c, f) * c.seconds for _, c in self.rounds) / wall for f in fields))

    def total(self, field: str) -> dict[str, int]:
        """A count of wrk's (statuses, RspCodes) over the rounds."""
        return dict(sum((Counter(getattr(r, field)) for r, _ in self.rounds), Counter()))

    def summary(self) -> dict[str, Any]:
        cpu = self.cpu()
        return {
            "rps": round(self.rps, 1),
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "rounds_rps": [round(r.rps, 1) for r, _ in self.rounds],
            # wrk's latencies of a saturated server (queueing included): the median round's p50, the worst p99
            "p50_ms": statistics.median(r.p50_ms for r, _ in self.rounds),
            "p99_ms": max(r.p99_ms for r, _ in self.rounds),
            "cpu": cpu.as_dict(),
            "cpu_ms_per_req": _per_request(cpu, self.requests),
        }


def saturate(app: App, cfg: Config, beside: App | None = None) -> tuple[WrkResult, Saturation, Saturation | None]:
    """Steps 1 and 2 of the module's text: the warm-up of both apps, then their alternated rounds."""
    per_round = cfg.saturation_seconds / cfg.rounds
    warm = app.wrk(app.scn.load(app.ctx, 400), cfg.warmup_seconds, cfg)
    if beside:
        beside.wrk(beside.scn.load(beside.ctx, 400), cfg.warmup_seconds, cfg)
    # Every round's requests are made before the first round: making them (an IPN's pending payments)
    # writes to the database, and the gateway would still be checkpointing that during the rounds.
    budget = math.ceil(max(warm.rps, 50) * 1.6 * per_round) + 200
    loads = [app.scn.load(app.ctx, budget) for _ in range(cfg.rounds)]
    machine.wait_for_quiet(max_wait=cfg.quiet_wait, sample=min(0.5, cfg.quiet_wait / 3))
    mine, theirs = Saturation([]), Saturation([])
    for i, load in enumerate(loads):
        order = [(app, load, mine)]
        if beside:  # BA AB BA AB ...: each app goes first in every other round
            order.insert(1 if i % 2 else 0, (beside, beside.scn.load(beside.ctx, budget), theirs))
        for who, what, into in order:
            into.rounds.append(who.measured(what, per_round, cfg))
            if who is app and beside:
                # The gateway goes on working after its round (SQLite's checkpoints), which would slow the bare
                # app's round after it and flatter the ratio.
                machine.wait_for_quiet(max_other_cores=0.1, max_wait=3.0, sample=0.2)
    return warm, mine, theirs if beside else None


MIN_ROUNDS_FOR_INTERVAL = 5  # fewer pairs of rounds than this give a bootstrap interval far too narrow


def ratio_interval(mine: Saturation, theirs: Saturation, level: float = 0.9) -> list[float] | None:
    """The `level` interval of the ratio of the two apps' throughputs, by resampling the pairs of
    rounds (a percentile bootstrap, seeded: the same rounds give the same interval)."""
    pairs = list(zip(mine.rounds, theirs.rounds, strict=True))
    if len(pairs) < MIN_ROUNDS_FOR_INTERVAL:
        return None
    rng = random.Random(0)
    ratios = []
    for _ in range(2000):
        sample = [rng.choice(pairs) for _ in pairs]
        rps = sum(m.requests for (m, _), _ in sample) / sum(m.seconds for (m, _), _ in sample)
        base = sum(t.requests for _, (t, _) in sample) / sum(t.seconds for _, (t, _) in sample)
        ratios.append(rps / base)
    ratios.sort()
    tail = round(len(ratios) * (1 - level) / 2)
    return [round(ratios[tail], 4), round(ratios[-1 - tail], 4)]


def _per_request(cpu: machine.CpuUse, requests: int) -> float | None:
    return round(cpu.server_cores * cpu.seconds * 1000 / requests, 3) if requests else None


def tail_windows(slow: list[list[float]], rate: float) -> list[dict[str, Any]]:
    """Slow requests grouped by due time: one window per run of requests due within 50 ms (or three
    requests' spacing, if longer) of each other.

    A stall of the server (or of the machine) makes every request due during it slow, and those due
    while its backlog is worked off: it shows as one window at least as long as the stall, holding rate ×
    its length requests. Slowness spread over the run shows as many windows of one or two requests each.
    """
    gap_ms = max(50.0, 3000.0 / rate)
    windows: list[dict[str, Any]] = []
    for at, ms, lag in sorted(slow):
        w = windows[-1] if windows else None
        if w is None or (at - w["last"]) * 1000 > gap_ms:
            w = {"start": at, "last": at, "requests": 0, "max_ms": 0.0, "max_lag_ms": 0.0}
            windows.append(w)
        w["last"] = at
        w["requests"] += 1
        w["max_ms"] = max(w["max_ms"], ms)
        w["max_lag_ms"] = max(w["max_lag_ms"], lag)
    return [
        {
            "at": dt.datetime.fromtimestamp(w["start"], dt.UTC).strftime("%H:%M:%S.%f")[:-3],
            "due_over_ms": round((w["last"] - w["start"]) * 1000, 1),
            "requests": w["requests"],
            "max_ms": round(w["max_ms"], 1),
            "max_lag_ms": round(w["max_lag_ms"], 1),
        }
        for w in windows
    ]


def _tail_note(name: str, windows: list[dict[str, Any]], completed: int, not_kept: int) -> str:
    worst = sorted(windows, key=lambda w: -w["requests"])[:3]
    shown = "; ".join(
        f"{w['requests']} due over {w['due_over_ms']:.0f} ms at {w['at']} (max {w['max_ms']:.0f} ms, "
        f"generator late by up to {w['max_lag_ms']:.0f} ms)"
        for w in worst
    )
    slow = sum(w["requests"] for w in windows) + not_kept
    return (
        f"{name}: {slow} of {completed} requests took {report.P99_GOAL_MS:.0f} ms or more, "
        f"in {len(windows)} window(s){f' ({not_kept} not kept)' if not_kept else ''}; largest: {shown}"
    )


def measure(app: App, cfg: Config, beside: App | None = None) -> dict[str, Any]:
    scn, ctx = app.scn, app.ctx
    notes: list[str] = []
    prepare(scn, ctx)
    pgid = app.server.proc.pid if app.server.proc else None
    warm, sat, base = saturate(app, cfg, beside)
    wrapped = sum(r.wrapped for r, _ in sat.rounds)
    if wrapped and scn.unique:
        notes.append(f"{scn.name}: {wrapped} saturation requests re-used a payment (answered as duplicates)")

    rate = max(1.0, sat.rps * cfg.fixed_fraction)
    fixed_load = scn.load(ctx, math.ceil(rate * cfg.fixed_seconds) + 50)
    machine.wait_for_quiet(max_wait=cfg.quiet_wait, sample=min(0.5, cfg.quiet_wait / 3))
    meter = machine.CpuMeter(pgid)
    spec = fixed_load.loadgen_spec(ctx.base_url, rate=rate, duration=cfg.fixed_seconds, slow_ms=report.P99_GOAL_MS)
    fx = run_loadgen(ctx.workdir, spec, timeout=cfg.fixed_seconds + 90)
    fx_cpu = meter.stop()
    lag = fx["lag_ms"]["p99"] or 0.0
    if lag > 5:
        notes.append(f"{scn.name}: the load generator sent late (lag p99 {lag:.1f} ms): CPU contention")
    if fx.get("wrapped") and scn.unique:
        notes.append(f"{scn.name}: {fx['wrapped']} fixed-load requests re-used a payment")
    tails = tail_windows(fx["slow"], rate)
    if tails and (fx["latency_ms"]["p99"] or 0.0) >= report.P99_GOAL_MS:
        notes.append(_tail_note(scn.name, tails, fx["completed"], fx["slow_not_kept"]))

    statuses, rspcodes = sat.total("statuses"), sat.total("rspcodes")
    sat_errors = sum(r.socket_errors for r, _ in sat.rounds) + _unexpected(scn, statuses, rspcodes)
    fx_errors = sum(fx["errors"].values()) + _unexpected(scn, fx["statuses"], fx["rspcodes"])
    result = {
        "saturation": {
            **sat.summary(),
            "errors": sat_errors,
            "statuses": statuses,
            "rspcodes": rspcodes,
            "warmup_rps": round(warm.rps, 1),
            "baseline_beside": base.summary() if base else None,
            "ratio_interval": ratio_interval(sat, base) if base else None,
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
            "slow_windows": tails,
            "errors": fx_errors,
            "statuses": fx["statuses"],
            "rspcodes": fx["rspcodes"],
            "cpu": fx_cpu.as_dict(),
        },
        "notes": notes,
    }
    p50, p99 = fx["latency_ms"]["p50"] or 0.0, fx["latency_ms"]["p99"] or 0.0
    sat_cpu = sat.cpu()
    log(
        f"  {scn.name:9s} saturation {sat.rps:8.1f} req/s (server {sat_cpu.server_cores:.2f} cores, "
        f"db {sat_cpu.db_cores:.2f}, other {sat_cpu.other_cores:.2f})  fixed {rate:7.1f} req/s "
        f"p50 {p50:6.1f} ms p99 {p99:7.1f} ms  errors {sat_errors + fx_errors}"
        + (f"  baseline beside {base.rps:.1f} req/s ({sat.rps / base.rps:.1%})" if base and base.rps else "")
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
    # A second copy beside it, measured as a gateway's baseline is: their ratio is the method's own error.
    copy = Server(
        BASELINE_APP,
        workers,
        _server_env(fast),
        workdir / f"baseline-copy-{workers}.log",
        "/health",
        as_served=cfg.as_served,
    )
    log(f"baseline, {workers} worker(s){' uvloop+httptools' if fast else ''}")
    with server, copy if cfg.baseline_beside else contextlib.nullcontext():
        beside = App(scn, Context(workdir, copy.base_url), copy) if cfg.baseline_beside else None
        m = measure(App(scn, Context(workdir, server.base_url), server), cfg, beside)
    return _row(scn, "-", workers, "uvloop" if fast else "-", _server_name(fast, cfg), m)


def _server_name(fast: bool, cfg: Config) -> str:
    how = "uvicorn --workers" if cfg.as_served else "bench.serve"
    return f"{how}, {'uvloop+httptools' if fast else 'asyncio+h11'}"


def run_gateway(
    db_kind: str, workers: int, variant: Variant, names: list[str], cfg: Config, workdir: Path
) -> list[dict[str, Any]]:
    rows = []
    log(f"gateway on {db_kind}, {workers} worker(s), variant {variant.name}: preparing the database")
    db = create_database(db_kind, cfg.pg_setup)
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
                beside = App(SCENARIOS["baseline"], Context(workdir, bare.base_url), bare)
                prepare(beside.scn, beside.ctx)
            for name in names:
                m = measure(App(SCENARIOS[name], ctx, server), cfg, beside)
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


def _stop(*_: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up short
    sys.exit(143)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short phases (about 3 minutes in all)")
    p.add_argument("--only", default=",".join(SCENARIOS), help="scenarios (default: all)")
    p.add_argument("--db", default="sqlite,postgres", help="databases (default: sqlite,postgres)")
    p.add_argument("--workers", default="1,2", help="uvicorn worker counts (default: 1,2)")
    p.add_argument("--variants", default="as-is", help=f"gateway variants: {', '.join(VARIANTS)}")
    p.add_argument("--connections", type=int, help="wrk connections (default 32)")
    p.add_argument("--saturation-seconds", type=float, help="per app, over all rounds (default 20)")
    p.add_argument("--rounds", type=int, help="saturation rounds alternated with the baseline beside (default 10)")
    p.add_argument("--fixed-seconds", type=float)
    p.add_argument("--out", default="latest", help="results file name under bench/results (default: latest)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (server logs, request files)")
    p.add_argument(
        "--as-served",
        action="store_true",
        help="plain `uvicorn --workers N` for both apps (see bench/serve.py for why that is not the default)",
    )
    p.add_argument(
        "--pg-server",
        choices=("recommended", "as-is"),
        default="recommended",
        help="PostgreSQL's server settings for the run: as the README recommends (set with ALTER SYSTEM and "
        "put back afterwards; the default), or as the server has them",
    )
    p.add_argument(
        "--pg-setup",
        default="",
        help='what-ifs: statements ("SQL; SQL", split at every ;) run on the PostgreSQL bench database after its '
        "migrations",
    )
    p.add_argument(
        "--no-baseline-beside",
        action="store_true",
        help="ratios to the run's baseline row only, without saturating the bare app before each scenario",
    )
    a = p.parse_args(argv)
    # a stop asked for (a CI's cancel, `timeout`) unwinds like Ctrl-C: servers stopped, the database dropped,
    # PostgreSQL's settings put back
    signal.signal(signal.SIGTERM, _stop)

    cfg = QUICK if a.quick else FULL
    overrides = {
        k: v
        for k, v in (
            ("connections", a.connections),
            ("saturation_seconds", a.saturation_seconds),
            ("fixed_seconds", a.fixed_seconds),
            ("rounds", a.rounds),
            ("as_served", a.as_served),
            ("pg_setup", a.pg_setup),
        )
        if v
    }
    if a.no_baseline_beside:
        overrides["baseline_beside"] = False
    if overrides:
        cfg = Config(**(cfg.as_dict() | overrides))
    per_round = cfg.saturation_seconds / cfg.rounds
    if cfg.rounds % 2 or per_round != int(per_round) or per_round < 1:
        # wrk runs whole seconds; an even count lets each app go first as often as the other
        raise SystemExit("--rounds must be even and divide --saturation-seconds into whole seconds")
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
    server_set: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    if "postgres" in dbs and a.pg_server == "recommended":
        meta["postgres_set"] = pg_recommended()
        log(f"PostgreSQL set for the run: {meta['postgres_set']} (the log grown to min_wal_size first)")
        server_set = pg_settings(meta["postgres_set"])
    try:
        with server_set:
            if "postgres" in dbs:
                meta["postgres"] = pg_server()
                meta["wal_files"] = {"start": pg_wal_files()}
            for w in workers:
                if "baseline" in names:
                    for fast in sorted({v.fast_server for v in variants}):
                        rows.append(run_baseline(w, fast, cfg, workdir))
                for db in dbs:
                    for v in variants:
                        if gateway_names:
                            rows.extend(run_gateway(db, w, v, gateway_names, cfg, workdir))
            if "postgres" in dbs:
                meta["wal_files"]["end"] = pg_wal_files()
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
