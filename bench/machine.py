"""Where the CPU went during a measurement: the server's processes, the load tool, everything else.

On a 2-core machine the load tool and the server share the cores, and other work on the machine (a test
suite, a build) steals from both. Each measurement records, in cores (CPU-seconds per second):
  server  - every process in the server's process group (uvicorn and its workers);
  load    - the load tool (wrk or bench.loadgen, children of this process);
  db      - the PostgreSQL server's processes (SQLite runs inside the server's);
  other   - all the rest of the machine's busy time in processes (others' work: tests, builds);
  irq     - interrupt time (softirq: the loopback TCP traffic itself, charged to no process).
and the server's CPU milliseconds per request, which other load disturbs much less than throughput.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> tuple[float, float]:
    """(time in processes, time in interrupts: loopback TCP is mostly softirq, which no process is charged)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + steal) / TICK, (irq + softirq) / TICK


def _processes() -> Iterator[Path]:
    return (entry for entry in Path("/proc").iterdir() if entry.name.isdigit())


def _process_seconds(pgid: int | None) -> tuple[float, float]:
    """(CPU of the processes in group pgid, CPU of the PostgreSQL server's processes)."""
    group = db = 0
    for entry in _processes():
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm, rest = stat.split(" (", 1)[1].rsplit(")", 1)
        fields = rest.split()
        ticks = int(fields[11]) + int(fields[12])
        if pgid is not None and int(fields[2]) == pgid:  # field 5 of stat: the process group
            group += ticks
        elif comm == "postgres":
            db += ticks
    return group / TICK, db / TICK


def db_seconds() -> float:
    """CPU time of the PostgreSQL server's processes so far, to the nanosecond (schedstat) rather than
    the clock tick of 10 ms: bench.inproc divides it among a few hundred requests."""
    total = 0
    for entry in _processes():
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                total += int((entry / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


def _children_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _self_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@dataclass(frozen=True)
class CpuUse:
    seconds: float
    server_cores: float
    load_cores: float
    db_cores: float
    other_cores: float
    irq_cores: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in asdict(self).items()}


class CpuMeter:
    """Start before a measurement, stop() after the load tool has exited (so its CPU is counted)."""

    def __init__(self, server_pgid: int | None) -> None:
        self.pgid = server_pgid
        self.t = time.monotonic()
        self.busy = _busy_seconds()
        self.server, self.db = _process_seconds(server_pgid)
        self.children = _children_seconds()
        self.me = _self_seconds()

    def stop(self) -> CpuUse:
        wall = max(1e-6, time.monotonic() - self.t)
        busy_now, irq_now = _busy_seconds()
        busy, irq = busy_now - self.busy[0], irq_now - self.busy[1]
        server_now, db_now = _process_seconds(self.pgid)
        server, db = server_now - self.server, db_now - self.db
        load = _children_seconds() - self.children
        me = _self_seconds() - self.me
        db = max(0.0, db)  # a PostgreSQL process that ended meanwhile (autovacuum) takes its CPU time along
        other = max(0.0, busy - server - load - db - me)
        return CpuUse(wall, server / wall, load / wall, db / wall, other / wall, irq / wall)


def wait_for_quiet(max_other_cores: float = 0.3, max_wait: float = 20.0, sample: float = 0.5) -> float:
    """Wait (bounded) until other work on the machine uses less than `max_other_cores`; return what it used."""
    deadline = time.monotonic() + max_wait
    while True:
        meter = CpuMeter(None)
        time.sleep(sample)
        other = meter.stop().other_cores
        if other <= max_other_cores or time.monotonic() >= deadline:
            return other


def describe() -> dict[str, object]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gib": round(mem_gib, 1), "load_avg": os.getloadavg()}
