"""`python -m bench.stalls LOG...`: the restarts of SQLite's log in server logs of the `stall-trace` variant.

A restart try (gateway/db/checkpoint.py) is a copy on the thread that finds the log long, a second copy
there, and a last one: a RESTART checkpoint on the thread, which holds every process's commits up while
it runs (logs of the ninth round and before: a PASSIVE one on the loop, which stalled every request of
the process). For each server process in each log this prints, over the tries made under load (commits
came in after the second copy, so the last had something to copy): how long the last copy took, how long
the thread's flushes since the try's first copy took, and the longest loop lag, SQLite call on the loop
and wait of a statement for the lock, from the try's first copy to 50 ms after the last. `bench.run --keep`
keeps the logs (gateway-<db>-<workers>-<variant>.log); times are of one day (a run across midnight UTC is
not read right).
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass

LINE = re.compile(
    r"stall at=(?P<at>\d\d:\d\d:\d\d\.\d{3}) pid=(?P<pid>\d+) (?P<kind>\w+) ms=(?P<ms>[\d.]+)"
    r"(?: on=(?P<on>\w+))?(?: mode=(?P<mode>\w+))?(?: result=\(\d+, (?P<log>\d+), \d+\))?"
)
AFTER = dt.timedelta(milliseconds=50)


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    kind: str
    ms: float
    on: str | None
    mode: str | None
    log: int | None


def read(path: str) -> dict[int, list[Event]]:
    """The events of each server process, by process id."""
    events: dict[int, list[Event]] = defaultdict(list)
    with open(path) as f:
        for line in f:
            if m := LINE.search(line):
                at = dt.datetime.strptime(m["at"], "%H:%M:%S.%f")
                log = int(m["log"]) if m["log"] else None
                events[int(m["pid"])].append(Event(at, m["kind"], float(m["ms"]), m["on"], m["mode"], log))
    return events


def tries(events: list[Event]) -> list[dict[str, float]]:
    """One row per restart try under load: three copies in a row, the last a RESTART (or on the loop)."""
    rows = []
    copies = [e for e in events if e.kind == "checkpoint"]
    for first, second, last in zip(copies, copies[1:], copies[2:], strict=False):
        if second.on != "thread" or last.log is None or second.log is None:
            continue
        if last.mode != "RESTART" and last.on != "loop":
            continue
        if last.log <= second.log:  # nothing committed since the thread's copy: an idle gateway's try
            continue
        near = [e for e in events if first.at <= e.at <= last.at + AFTER]
        rows.append(
            {
                "last_copy_ms": last.ms,
                "thread_flush_ms": sum(e.ms for e in near if e.kind == "flush" and e.on == "thread"),
                "loop_lag_ms": max((e.ms for e in near if e.kind == "loop_lag"), default=0.0),
                "sqlite_call_ms": max((e.ms for e in near if e.kind == "sqlite_call"), default=0.0),
                "sqlite_wait_ms": max((e.ms for e in near if e.kind == "sqlite_wait"), default=0.0),
            }
        )
    return rows


def summary(rows: list[dict[str, float]]) -> str:
    if not rows:
        return "no restart try under load"

    def spread(key: str) -> str:
        values = sorted(r[key] for r in rows)
        return f"median {statistics.median(values):.1f}, max {values[-1]:.1f}"

    return (
        f"{len(rows)} tries under load; the last copy ms {spread('last_copy_ms')}; "
        f"thread's flushes ms {spread('thread_flush_ms')}; longest loop lag of 10 ms or more around it "
        f"{spread('loop_lag_ms')} (0: none); longest SQLite call of 5 ms or more {spread('sqlite_call_ms')}; "
        f"longest wait of a statement of 5 ms or more {spread('sqlite_wait_ms')}"
    )


def main() -> None:
    for path in sys.argv[1:]:
        processes = read(path)
        if not processes:
            print(f"{path}: no stall-trace lines with pid= and on= (a log of this bench's older form?)")
        for pid, events in sorted(processes.items()):
            print(f"{path} pid {pid}: {summary(tries(events))}")


if __name__ == "__main__":
    main()
