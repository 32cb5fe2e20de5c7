"""Drive wrk (Debian's package) with the bench's Lua scripts and read its BENCH_JSON line.

wrk is a closed loop: `connections` requests in flight at all times, as fast as the server answers, so
its requests/second is the saturation throughput. Its latencies are from a saturated server (queueing
included) and are not the fixed-load latencies of the report; those come from bench/loadgen.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LUA = Path(__file__).resolve().parent / "lua"


def wrk_path() -> str | None:
    return shutil.which("wrk")


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    statuses: dict[str, int]
    rspcodes: dict[str, int]
    wrapped: int
    raw: dict[str, Any]


def run_wrk(
    base_url: str,
    script: str,
    args: list[str],
    *,
    duration: float,
    connections: int,
    threads: int = 1,
    timeout_s: float = 5.0,
) -> WrkResult:
    cmd = [
        wrk_path() or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={timeout_s:g}s",
        "-s",
        str(LUA / script),
        base_url,
        "--",
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=False)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = raw["duration_us"] / 1e6
    errs = raw["errors"]
    lat = raw["latency_us"]
    return WrkResult(
        requests=raw["requests"],
        seconds=seconds,
        rps=raw["requests"] / seconds if seconds else 0.0,
        p50_ms=lat["p50"] / 1000,
        p99_ms=lat["p99"] / 1000,
        max_ms=lat["max"] / 1000,
        socket_errors=errs["connect"] + errs["read"] + errs["write"] + errs["timeout"],
        statuses=raw["statuses"],
        rspcodes=raw["rspcodes"],
        wrapped=raw["wrapped"],
        raw=raw,
    )
