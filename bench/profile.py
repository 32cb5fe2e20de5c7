"""`python -m bench.profile`: where a gateway worker spends its CPU, sampled with py-spy under load.

    python -m bench.profile [--scenarios create,ipn,read] [--db sqlite,postgres] [--seconds 8] [--rate 200]

For each database and scenario: a fresh database, the gateway with one worker started under
`py-spy record --format raw` (collapsed stacks, which flamegraph.pl and speedscope.app open), wrk at
saturation for --seconds, then the stacks are summarised into bench/results/profile.md (+ .json):

- CPU by component: each sample's innermost frame decides (uvicorn/h11, Litestar, SQLAlchemy, the DB
  driver, pydantic, logging, the gateway's own code, asyncio and the socket system calls, ...);
- the gateway's own functions and the heaviest library functions, inclusive.

Samples of idle threads (aiosqlite's worker threads waiting on their queue, the event loop in select())
and of start-up (imports, app creation) are left out. SQLAlchemy's async layer runs the ORM inside
greenlets, whose stacks py-spy shows as separate roots: the ORM work of a request is in the component
table but not inside the inclusive time of the gateway function that awaited it.
The raw stacks stay in bench/results/profiles/ (not committed: see bench/.gitignore).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import dataprep, report
from bench.databases import create_database, pg_available
from bench.scenarios import SCENARIOS, Context, make_read_paths
from bench.server import GATEWAY_APP, Server, gateway_env
from bench.wrk import run_wrk

PROFILES = report.RESULTS / "profiles"
IDLE_LEAVES = (
    "_connection_worker_thread (aiosqlite/core.py)",
    "Condition.wait (threading.py)",
    "Queue.get (queue.py)",
    "EpollSelector.select (selectors.py)",
    "Thread._wait_for_tstate_lock (threading.py)",
    "QueueListener._monitor (logging/handlers.py)",
)
STARTUP = re.compile(r"Config\.load \(uvicorn|_find_and_load|Server\.startup \(uvicorn|create_app \(gateway/app")
COMPONENTS = [
    (
        "DB driver (asyncpg / sqlite3 in place + SQLAlchemy dialect)",
        r"\((asyncpg|aiosqlite|sqlite3|sqlalchemy/dialects|gateway/db/sqlite_inline)",
    ),
    ("gateway code (gateway/, adapters/, contracts/)", r"\((gateway|adapters|contracts)/"),
    ("uvicorn + h11 (HTTP/1.1)", r"\((uvicorn|h11|httptools)/"),
    ("Litestar (routing, DI, middleware, responses)", r"\(litestar/"),
    ("SQLAlchemy core + ORM", r"\(sqlalchemy/|<sqlalchemy generated"),
    ("pydantic / msgspec / json", r"\((pydantic|pydantic_core|msgspec|json|email_validator)/"),
    ("structlog + logging", r"\((structlog|logging)/"),
    ("asyncio loop + socket system calls", r"\((asyncio|selectors)/|\(selectors\.py|\(uvloop/"),
    ("anyio (Litestar's task groups)", r"\(anyio/"),
    ("greenlet (SQLAlchemy async bridge)", r"greenlet"),
]
INTERESTING = re.compile(
    r"\((gateway|adapters|contracts)/"
    r"|^(authenticate|Session\.(commit|flush|scalar|execute|get|close)|AsyncSession\.\w+|"
    r"_SelectInLoader\.\w+|HTTPRoute\.handle|KwargsModel\.resolve_dependencies|"
    r"_SelectorSocketTransport\.write|AsyncAdapt_asyncpg_connection\._async_ping|"
    r"ExceptionHandlerMiddleware\.__call__|CORSMiddleware\.__call__|BoundLoggerBase\._proxy_to_logger|"
    r"JSONRenderer\.__call__|PrintLogger\.msg|BaseModel\.model_dump|BaseModel\.model_validate)\s"
)


def _frame(f: str) -> str:
    return re.sub(r":\d+\)$", ")", f)


def summarise(path: Path) -> dict[str, Any]:
    inclusive: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    components: Counter[str] = Counter()
    busy = idle = startup = 0
    for line in path.read_text().splitlines():
        stack, _, n_text = line.rpartition(" ")
        if not stack:
            continue
        n = int(n_text)
        frames = [_frame(f) for f in stack.split(";")]
        if frames[-1].startswith(IDLE_LEAVES):
            idle += n
            continue
        if any(STARTUP.search(f) for f in frames):
            startup += n
            continue
        busy += n
        for f in set(frames):
            inclusive[f] += n
        leaf = frames[-1]
        self_[leaf] += n
        for name, rx in COMPONENTS:
            if re.search(rx, leaf):
                components[name] += n
                break
        else:
            components["other (stdlib: re, uuid, enum, weakref, urllib, ...)"] += n

    def pct(c: Counter[str], k: int, keep: Any = None) -> list[tuple[str, float]]:
        items = [(f, n) for f, n in c.most_common() if keep is None or keep(f)]
        return [(f, round(100 * n / busy, 1)) for f, n in items[:k]] if busy else []

    return {
        "samples": {"busy": busy, "idle": idle, "startup": startup},
        "components": pct(components, 20),
        "inclusive": pct(inclusive, 25, lambda f: bool(INTERESTING.search(f))),
        "self": pct(self_, 15),
    }


def markdown(results: list[dict[str, Any]]) -> str:
    out = [
        "# Profiles (py-spy, one worker at saturation)",
        "",
        "Generated by `python -m bench.profile`; the method and its limits are in bench/profile.py. "
        "Percentages are of the worker's busy samples (idle threads and start-up left out).",
    ]
    for r in results:
        out += [
            "",
            f"## {r['scenario']} on {r['db']} — {r['rps']:.0f} req/s under py-spy, {r['summary']['samples']['busy']} "
            f"busy samples",
            "",
            "| CPU by component (innermost frame) | % |",
            "|---|---:|",
            *[f"| {name} | {p} |" for name, p in r["summary"]["components"]],
            "",
            "| inclusive: gateway functions and the heaviest library calls | % |",
            "|---|---:|",
            *[f"| `{name}` | {p} |" for name, p in r["summary"]["inclusive"]],
            "",
            "| self: innermost frames | % |",
            "|---|---:|",
            *[f"| `{name}` | {p} |" for name, p in r["summary"]["self"]],
        ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    p.add_argument("--scenarios", default="create,ipn,read")
    p.add_argument("--db", default="sqlite,postgres")
    p.add_argument("--seconds", type=float, default=8)
    p.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--out", default="profile")
    a = p.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    dataprep.quiet_logging()
    PROFILES.mkdir(parents=True, exist_ok=True)
    results = []
    workdir = Path(tempfile_dir())
    for db_kind in [d for d in a.db.split(",") if d]:
        if db_kind == "postgres" and (why := pg_available()):
            print(f"PostgreSQL skipped: {why}", file=sys.stderr)
            continue
        for name in [s for s in a.scenarios.split(",") if s]:
            scn = SCENARIOS[name]
            db = create_database(db_kind)
            try:
                client_id, api_key = dataprep.create_client(db.url)
                raw = PROFILES / f"{db_kind}-{name}.collapsed"
                wrap = [spy, "record", "--rate", str(a.rate), "--format", "raw", "--output", str(raw), "--"]
                env = gateway_env(db.url, a.log_level)
                server = Server(GATEWAY_APP, 1, env, workdir / f"{db_kind}-{name}.log", "/ready", wrap=wrap)
                ctx = Context(workdir, server.base_url, db.url, client_id, api_key)
                make_read_paths(ctx, 500)
                with server:
                    scn.prepare(ctx, lambda load, count: None)
                    load = scn.load(ctx, int(400 * a.seconds) + 200)
                    script, args = load.wrk_args(1)
                    r = run_wrk(ctx.base_url, script, args, duration=a.seconds, connections=a.connections)
                time.sleep(0.5)
                summary = summarise(raw)
                results.append({"scenario": name, "db": db_kind, "rps": r.rps, "summary": summary, "raw": raw.name})
                print(
                    f"{db_kind} {name}: {r.rps:.0f} req/s, {summary['samples']['busy']} busy samples", file=sys.stderr
                )
            finally:
                db.drop()
    shutil.rmtree(workdir, ignore_errors=True)
    (report.RESULTS / f"{a.out}.json").write_text(json.dumps(results, indent=2) + "\n")
    (report.RESULTS / f"{a.out}.md").write_text(markdown(results))
    print(markdown(results))
    return 0


def tempfile_dir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="dvcgw-bench-profile-")


if __name__ == "__main__":
    sys.exit(main())
