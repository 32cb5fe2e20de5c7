"""`make bench`: the gateway's throughput and latency beside a bare Litestar app's, in one table.

    python -m bench.run [--workers N] [--db postgres,sqlite] [--seconds S]

The bare app (bench/bare_app.py) is measured first, then the gateway on each database: a throw-away
database, migrated and given a portal client through `dvc-gateway`, served by `dvc-gateway serve` beside
the VNPay and VNPost simulators: payments (create, IPN, read), then shipments (VNPost's push, a postal
staff member's report; set up by bench/postal.py). The bench talks to the gateway over HTTP only. Each
scenario has two phases of S seconds (10): saturation with wrk (32 connections, closed loop), then a fixed
rate of half that throughput (bench/loadgen.py, open loop) for p50 and p99. Writes bench/results/latest.md
and latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import importlib.metadata
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from bench import loadgen, postal
from contracts.examples import payment_create_body

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CLI = str(Path(sys.executable).parent / "dvc-gateway")
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = "dvcgw_bench"
PG_SETTINGS = (
    "synchronous_commit",
    "fsync",
    "shared_buffers",
    "wal_compression",
    "min_wal_size",
    "max_wal_size",
    "checkpoint_timeout",
    "max_connections",
)
CONNECTIONS = 32
# The bench's own merchant terminal: the gateway and the simulator are given it, and the IPNs are signed with it.
TMN_CODE = "BENCH001"
HASH_SECRET = "BENCHSECRETVNPAY0000000000000001"
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# The issue's floors: throughput over the bare app's, and p99 at half the saturated rate.
# The carrier's push and a staff member's report are held to the IPN's floor (issue 23).
FLOORS = {"create": 0.08, "ipn": 0.08, "read": 0.25, "push": 0.08, "staff": 0.08}
P99_LIMIT_MS = {"create": 50.0, "ipn": 50.0, "push": 50.0, "staff": 50.0}
TITLES = {
    "bare": "bare app",
    "create": "create payment",
    "ipn": "VNPay IPN",
    "read": "read payment",
    "push": "VNPost push",
    "staff": "staff update",
}
# Shipments booked before the postal scenarios: the pushes go round them; more are booked for the reports.
FIRST_SHIPMENTS = 600
WARM_UP_PUSHES = 400


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- processes -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(argv: list[str], env: dict[str, str], log_path: Path, ready_url: str) -> Iterator[None]:
    """`argv` running, in a process group of its own, for the block; ready once `ready_url` answers 200."""
    with log_path.open("ab") as out:
        proc = subprocess.Popen(
            argv, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while not _answers(ready_url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv[0]} did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    proc = subprocess.run(
        [CLI, *args], cwd=ROOT, env={**os.environ, **env}, input=stdin, capture_output=True, text=True
    )
    if proc.returncode:
        raise RuntimeError(f"dvc-gateway {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return proc.stdout


# --- databases -------------------------------------------------------------------------------------------


def _pg_url(scheme: str, database: str) -> str:
    parts = urlsplit(PG_ADMIN_URL)
    return urlunsplit(parts._replace(scheme=scheme, path=f"/{database}"))


async def _pg(*statements: str) -> list[Any]:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        return [await conn.fetchval(sql) for sql in statements]
    finally:
        await conn.close()


def pg_server() -> dict[str, str] | str:
    """The server's version and settings (read only), or why it cannot be used."""
    try:
        values = asyncio.run(_pg("SHOW server_version", *(f"SHOW {name}" for name in PG_SETTINGS)))
    except (OSError, asyncpg.PostgresError) as exc:
        return f"not reachable at {PG_ADMIN_URL} ({type(exc).__name__}: {exc})"
    return dict(zip(("version", *PG_SETTINGS), values, strict=True))


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    """A new empty database of `kind` for the block, dropped afterwards; yields the gateway's URL of it."""
    if kind == "sqlite":
        path = ROOT / "var" / f"bench-{os.getpid()}.db"
        try:
            yield f"sqlite+aiosqlite:///{path}"
        finally:
            for leftover in path.parent.glob(f"{path.name}*"):
                leftover.unlink()
        return
    drop = f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"
    asyncio.run(_pg(drop, f"CREATE DATABASE {PG_DATABASE}"))
    try:
        yield _pg_url("postgresql+asyncpg", PG_DATABASE)
    finally:
        asyncio.run(_pg(drop))


# --- what each scenario sends ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """GET each path in turn; or, with a body, POST it to paths[0] with a new Idempotency-Key each time; or,
    with bodies, POST bodies[i] to paths[i]."""

    paths: list[str]
    api_key: str | None = None
    body: bytes | None = None
    bodies: list[bytes] | None = None  # one per path: pushes, staff reports
    headers: list[tuple[str, str]] = field(default_factory=list)  # sent with every request (a staff session)
    expect_status: str = "200"
    expect_rsp: str | None = None  # VNPay's RspCode in the answer
    once: bool = False  # each path may be sent once (an IPN pays its payment, a report moves its shipment)

    def request(self, host: str) -> Callable[[int], bytes]:
        """request(i): the bytes of the i-th request, for bench/loadgen.py."""
        auth = f"Authorization: Bearer {self.api_key}\r\n" if self.api_key else ""
        auth += "".join(f"{name}: {value}\r\n" for name, value in self.headers)
        body = self.body
        if self.bodies is not None:
            raw = [
                f"POST {p} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\n"
                f"Content-Length: {len(b)}\r\n\r\n".encode()
                + b
                for p, b in zip(self.paths, self.bodies, strict=True)
            ]
            return lambda i: raw[i % len(raw)]
        if body is None:
            raw = [f"GET {p} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode() for p in self.paths]
            return lambda i: raw[i % len(raw)]
        head = (
            f"POST {self.paths[0]} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
        ).encode()
        prefix = uuid.uuid4().hex
        return lambda i: head + f"Idempotency-Key: {prefix}-{i}\r\n\r\n".encode() + body

    def after(self, sent: int) -> Load:
        """The requests not sent yet, for a load whose requests may each be sent once."""
        bodies = None if self.bodies is None else self.bodies[sent:]
        return replace(self, paths=self.paths[sent:], bodies=bodies)

    def lines(self) -> str:
        """The paths file of bench/wrk.lua."""
        if self.bodies is None:
            return "\n".join(self.paths) + "\n"
        return "".join(f"{p}\t{b.decode()}\n" for p, b in zip(self.paths, self.bodies, strict=True))

    def errors(self, statuses: dict[str, int], rspcodes: dict[str, int]) -> int:
        wrong = sum(n for status, n in statuses.items() if status != self.expect_status)
        if self.expect_rsp:
            wrong += sum(n for code, n in rspcodes.items() if code != self.expect_rsp)
        return wrong


@dataclass(frozen=True)
class Seed:
    """A payment created through the API, as its checkout URL names it to VNPay."""

    id: str
    ref: str
    amount: str  # vnp_Amount: VND x 100


def seed_line(body: bytes) -> str:
    payment = json.loads(body)
    url = dict(parse_qsl(urlsplit(payment["checkout_url"]).query))
    return f"{payment['id']} {url['vnp_TxnRef']} {url['vnp_Amount']}\n"


def read_seeds(path: Path) -> list[Seed]:
    return [Seed(*line.split()) for line in path.read_text().splitlines()] if path.exists() else []


def ipn_path(seed: Seed, n: int, paid_at: dt.datetime) -> str:
    """VNPay's success IPN for the payment, signed as VNPay signs: HMAC-SHA512 of the sorted, form-encoded fields."""
    fields = {
        "vnp_Amount": seed.amount,
        "vnp_BankCode": "NCB",
        "vnp_BankTranNo": f"VNP{14000000 + n}",
        "vnp_CardType": "ATM",
        "vnp_OrderInfo": "Thanh toan phi le phi ho so",
        "vnp_PayDate": paid_at.astimezone(VN_TZ).strftime("%Y%m%d%H%M%S"),
        "vnp_ResponseCode": "00",
        "vnp_TmnCode": TMN_CODE,
        "vnp_TransactionNo": str(14000000 + n),
        "vnp_TransactionStatus": "00",
        "vnp_TxnRef": seed.ref,
    }
    query = urlencode(sorted(fields.items()))
    signature = hmac.new(HASH_SECRET.encode(), query.encode(), hashlib.sha512).hexdigest()
    return f"/callbacks/vnpay/ipn?{query}&vnp_SecureHash={signature}"


# --- measuring ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Saturation:
    rps: float
    sent: int  # the requests made, answered or not
    errors: int
    statuses: dict[str, int]
    rspcodes: dict[str, int]


def saturate(base_url: str, load: Load, seconds: int, workdir: Path, capture: Path | None = None) -> Saturation:
    """wrk, closed loop, for `seconds`; `capture` gets a line per payment created."""
    paths, body, headers = workdir / "paths.txt", workdir / "body.json", workdir / "headers.txt"
    paths.write_text(load.lines())
    if load.body is not None:
        body.write_bytes(load.body)
    headers.write_text("".join(f"{name}: {value}\n" for name, value in load.headers))
    args = [
        load.api_key or "-",
        str(body) if load.body is not None else "-",
        uuid.uuid4().hex,
        str(capture) if capture else "-",
        str(headers),
    ]
    script = str(Path(__file__).with_name("wrk.lua"))
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout=10s", "-s", script, base_url, "--", str(paths)]
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH ")), None)
    if proc.returncode or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    out = json.loads(line.removeprefix("BENCH "))
    errors = out["socket_errors"] + load.errors(out["statuses"], out["rspcodes"])
    if load.once:  # wrk went round the paths again: those requests were not what the scenario sends
        errors += max(0, out["sent"] - len(load.paths))
    rps = out["requests"] / (out["us"] / 1e6)
    return Saturation(rps, out["sent"], errors, out["statuses"], out["rspcodes"])


def measure(
    scenario: str, db: str, base_url: str, load: Load, seconds: int, workdir: Path, capture: Path | None = None
) -> dict[str, Any]:
    sat = saturate(base_url, load, seconds, workdir, capture)
    time.sleep(1)
    url = urlsplit(base_url)
    rate = max(1.0, sat.rps / 2)
    short = 0
    if load.once:
        load = load.after(sat.sent)
        # Sent again, a request is not what the scenario sends (a paid IPN, a push told twice): an error.
        if (short := int(rate * seconds) - len(load.paths)) > 0:
            log(f"{TITLES[scenario]}: {short} requests short for the fixed rate")

    created: list[bytes] = []
    fixed = loadgen.fixed_rate(
        url.hostname or "", url.port or 80, load.request(url.netloc), rate, seconds, created.append
    )
    if capture:
        with capture.open("a") as f:
            f.writelines(seed_line(body) for body in created)
    errors = sat.errors + fixed.socket_errors + load.errors(fixed.statuses, fixed.rspcodes) + max(0, short)
    if errors:
        log(f"unexpected answers: {sat.statuses} {sat.rspcodes}; {dict(fixed.statuses)} {dict(fixed.rspcodes)}")
    row = {
        "scenario": scenario,
        "db": db,
        "rps": round(sat.rps, 1),
        "fixed_rps": round(rate, 1),
        "p50_ms": round(fixed.percentile(50), 1),
        "p99_ms": round(fixed.percentile(99), 1),
        "errors": errors,
    }
    log(f"{TITLES[scenario]}, {db}: {sat.rps:.0f}/s; p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms; errors {errors}")
    return row


def measure_bare(workers: int, seconds: int, workdir: Path) -> dict[str, Any]:
    port = free_port()
    argv = [sys.executable, "-m", "bench.bare_app", "--port", str(port), "--workers", str(workers)]
    base_url = f"http://127.0.0.1:{port}"
    with serving(argv, {}, workdir / "bare.log", base_url + "/"):
        load = Load(["/"])
        saturate(base_url, load, 2, workdir)  # warm-up
        return measure("bare", "-", base_url, load, seconds, workdir)


def needed(rps: float, seconds: int) -> int:
    """Requests enough for a saturation and a fixed rate at half of it, at up to twice `rps` (a warm-up's)."""
    return math.ceil(2 * 1.5 * rps * seconds) + 2 * CONNECTIONS


def measure_postal(
    db: str, base_url: str, api_key: str, env: dict[str, str], seconds: int, workdir: Path
) -> list[dict[str, Any]]:
    """VNPost's status pushes, then a postal staff member's reports, on shipments booked through the API."""
    shipments = postal.book(base_url, api_key, 0, FIRST_SHIPMENTS)
    since = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)

    def pushes(first: int, count: int) -> Load:
        bodies = postal.pushes(shipments, first, count, since)
        return Load([postal.PUSH_PATH] * count, bodies=bodies, once=True)

    warm = saturate(base_url, pushes(0, WARM_UP_PUSHES), 1, workdir)
    rows = [measure("push", db, base_url, pushes(WARM_UP_PUSHES, needed(warm.rps, seconds)), seconds, workdir)]

    office = shipments[0].office_code
    account = ["staff", "create", "--role", "postal", "--office", office, "--username", postal.STAFF_USERNAME]
    cli([*account, "--password-stdin"], env, stdin=postal.STAFF_PASSWORD + "\n")
    session = postal.staff_login(base_url)
    mine = [s for s in shipments if s.office_code == office]

    def reports(of: list[postal.Booked]) -> Load:
        paths = [postal.report_path(s) for s in of]
        return Load(paths, bodies=[postal.STAFF_REPORT] * len(of), headers=session.headers(), once=True)

    warm = saturate(base_url, reports(mine), 1, workdir)
    mine = mine[warm.sent :]
    if (short := needed(warm.rps, seconds) - len(mine)) > 0:
        more = postal.book(base_url, api_key, FIRST_SHIPMENTS, short)
        mine += [s for s in more if s.office_code == office]
    rows.append(measure("staff", db, base_url, reports(mine), seconds, workdir))
    return rows


def measure_gateway(db: str, workers: int, seconds: int, workdir: Path, simulator: str) -> list[dict[str, Any]]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    vnpost_port = free_port()
    vnpost = f"http://127.0.0.1:{vnpost_port}"
    # The VNPost simulator books the shipments; it pushes nothing unless told to, and never again.
    vnpost_argv = [sys.executable, "-m", "simulators.vnpost", "--port", str(vnpost_port), "--push-retry", ""]
    vnpost_argv += ["--callback-url", base_url + postal.PUSH_PATH]
    with database(db) as url, serving(vnpost_argv, {}, workdir / f"vnpost-{db}.log", vnpost + "/"):
        env = {
            "DVCGW_DATABASE_URL": url,
            # The background jobs (queries to VNPay, webhooks to portals) would do their work during the next
            # scenario's phases: each row is the requests' own work.
            "DVCGW_WORKERS_ENABLED": "false",
            "DVCGW_PUBLIC_BASE_URL": base_url,
            "DVCGW_VNPAY_TMN_CODE": TMN_CODE,
            "DVCGW_VNPAY_HASH_SECRET": HASH_SECRET,
            "DVCGW_VNPAY_PAYMENT_URL": f"{simulator}/paymentv2/vpcpay.html",
            "DVCGW_VNPAY_API_URL": f"{simulator}/merchant_webapi/api/transaction",
            "DVCGW_VNPOST_API_URL": vnpost,
            # One load generator is one address and one key: limits out of reach, every request still counted.
            "DVCGW_RATE_LIMIT_PER_KEY": str(10**9),
            "DVCGW_RATE_LIMIT_CALLBACKS_PER_ADDRESS": str(10**9),
        }
        cli(["db", "upgrade"], env)
        api_key = cli(["clients", "create", "Cổng DVC (bench)"], env).split("API key:")[1].split()[0]
        argv = [CLI, "serve", "--port", str(port), "--workers", str(workers)]
        with serving(argv, env, workdir / f"gateway-{db}.log", base_url + "/ready"):
            body = json.dumps(payment_create_body(), ensure_ascii=False).encode()
            create = Load(["/v1/payments"], api_key, body, expect_status="201")
            seeds = workdir / f"seeds-{db}.txt"
            saturate(base_url, create, 2, workdir, seeds)  # warm-up
            rows = [measure("create", db, base_url, create, seconds, workdir, seeds)]
            # Payments for the IPNs, each paid once: enough for an IPN twice as fast as a creation.
            need = math.ceil(2 * rows[0]["rps"] * seconds * 1.5) + 2 * CONNECTIONS
            if (short := need - len(read_seeds(seeds))) > 0:
                saturate(base_url, create, math.ceil(short / max(rows[0]["rps"], 1.0)) + 1, workdir, seeds)
            payments = read_seeds(seeds)
            paid_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            ipns = [ipn_path(s, n, paid_at) for n, s in enumerate(payments)]
            rows.append(measure("ipn", db, base_url, Load(ipns, expect_rsp="00", once=True), seconds, workdir))
            reads = Load([f"/v1/payments/{s.id}" for s in payments[:1000]], api_key)
            rows.append(measure("read", db, base_url, reads, seconds, workdir))
            rows += measure_postal(db, base_url, api_key, env, seconds, workdir)
    return rows


# --- the table ------------------------------------------------------------------------------------------


def judge(row: dict[str, Any], bare_rps: float) -> None:
    row["ratio"] = round(row["rps"] / bare_rps, 4) if bare_rps else None
    floor, limit = FLOORS.get(row["scenario"]), P99_LIMIT_MS.get(row["scenario"])
    if floor is None:
        row["result"] = "-"
        return
    ok = row["ratio"] is not None and row["ratio"] >= floor and not row["errors"]
    ok = ok and (limit is None or row["p99_ms"] < limit)
    row["result"] = "PASS" if ok else "FAIL"


def markdown(meta: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    pg = meta["postgres"]
    pg_line = (
        f"PostgreSQL {pg['version']}, as the server is set (read, not changed): "
        + ", ".join(f"`{name} = {pg[name]}`" for name in PG_SETTINGS)
        if isinstance(pg, dict)
        else f"PostgreSQL: {pg}; skipped."
    )
    lines = [
        f"# `make bench`: {meta['started']}, commit `{meta['commit']}`",
        "",
        f"{meta['machine']}, load average {meta['load'][0]:.2f} at the start, {meta['load'][1]:.2f} at the end · "
        f"{meta['software']}",
        "",
        pg_line,
        "",
        f"{meta['workers']} worker(s). Saturated: wrk, {CONNECTIONS} connections, {meta['seconds']} s. "
        f"p50/p99: open loop at half the saturated rate, {meta['seconds']} s.",
        "",
        "| scenario | db | saturated req/s | × bare app | floor | p50 ms | p99 ms | errors | result |",
        "|---|---|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        floor = FLOORS.get(r["scenario"])
        limit = P99_LIMIT_MS.get(r["scenario"])
        floor_text = "-" if floor is None else f"≥ {floor:.0%}" + (f", p99 < {limit:.0f} ms" if limit else "")
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.1%}"
        lines.append(
            f"| {TITLES[r['scenario']]} | {r['db']} | {r['rps']:,.0f} | {ratio} | {floor_text} | "
            f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} | {r['result']} |"
        )
    return "\n".join(lines) + "\n"


def _machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((x.split(":", 1)[1].strip() for x in cpuinfo.splitlines() if x.startswith("model name")), "")
    return f"{os.cpu_count()} cores ({model or platform.processor()})"


def _software() -> str:
    versions = [f"Python {platform.python_version()}"]
    for name in ("litestar", "uvicorn", "sqlalchemy", "asyncpg"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions.append(f"{name} {importlib.metadata.version(name)}")
    return ", ".join(versions)


def _commit() -> str:
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
    return (head or "unknown") + ("+dirty" if dirty.stdout.strip() else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    parser.add_argument("--db", default="postgres,sqlite", help="databases (default postgres,sqlite)")
    parser.add_argument("--seconds", type=int, default=10, help="length of each phase (default 10)")
    args = parser.parse_args(argv)
    dbs = [d for d in args.db.split(",") if d]
    if unknown := set(dbs) - {"postgres", "sqlite"}:
        parser.error(f"unknown database: {', '.join(sorted(unknown))}")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: servers stopped, database dropped

    meta = {
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "machine": _machine(),
        "load": [round(os.getloadavg()[0], 2)],
        "software": _software(),
        "postgres": pg_server(),
        "workers": args.workers,
        "seconds": args.seconds,
    }
    if "postgres" in dbs and isinstance(meta["postgres"], str):
        log(f"PostgreSQL {meta['postgres']}: skipped")
        dbs.remove("postgres")
    workdir = Path(tempfile.mkdtemp(prefix="dvcgw-bench-"))
    sim_port = free_port()
    # The gateway's VNPay endpoints point at the simulator, so nothing it sends VNPay leaves the machine.
    sim_argv = [sys.executable, "-m", "simulators.vnpay", "--port", str(sim_port)]
    sim_argv += ["--merchant", f"{TMN_CODE}:{HASH_SECRET}:http://127.0.0.1:8000/callbacks/vnpay/ipn"]
    try:
        rows = [measure_bare(args.workers, args.seconds, workdir)]
        with serving(sim_argv, {}, workdir / "simulator.log", f"http://127.0.0.1:{sim_port}/"):
            for db in dbs:
                rows += measure_gateway(db, args.workers, args.seconds, workdir, f"http://127.0.0.1:{sim_port}")
    except BaseException:
        log(f"stopped; server logs kept in {workdir}")
        raise
    shutil.rmtree(workdir)
    meta["load"].append(round(os.getloadavg()[0], 2))
    for row in rows:
        judge(row, rows[0]["rps"])
    RESULTS.mkdir(exist_ok=True)
    table = markdown(meta, rows)
    (RESULTS / "latest.md").write_text(table)
    (RESULTS / "latest.json").write_text(json.dumps({"meta": meta, "rows": rows}, ensure_ascii=False, indent=1) + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
