"""`python -m bench.stalls LOG...`: the restarts of SQLite's log in server logs of the `stall-trace` variant.

A restart try (gateway/db/checkpoint.py) ends with a copy on the loop, which stalls every request of the
process while it runs. For each log this prints, over the tries made under load (commits came in after
the thread's last copy, so the loop had something to copy): how long the loop's copy took, how long the
thread's flushes before it took, and the longest loop lag and SQLite call on the loop from 250 ms before
the loop's copy to 50 ms after it. `bench.run --keep` keeps the logs (gateway-<db>-<workers>-<variant>.log).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import statistics
import sys
from dataclasses import dataclass

LINE = re.compile(
    r"stall at=(?P<at>\d\d:\d\d:\d\d\.\d{3}) (?P<kind>\w+) ms=(?P<ms>[\d.]+)"
    r"(?: on=(?P<on>\w+))?(?: result=\(\d+, (?P<log>\d+), \d+\))?"
)
BEFORE, AFTER = dt.timedelta(milliseconds=250), dt.timedelta(milliseconds=50)


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    kind: str
    ms: float
    on: str | None
    log: int | None


def read(path: str) -> list[Event]:
    events = []
    with open(path) as f:
        for line in f:
            if m := LINE.search(line):
                events.append(
                    Event(
                        dt.datetime.strptime(m["at"], "%H:%M:%S.%f"),
                        m["kind"],
                        float(m["ms"]),
                        m["on"],
                        int(m["log"]) if m["log"] else None,
                    )
                )
    return events


def tries(events: list[Event]) -> list[dict[str, float]]:
    """One row per restart try under load."""
    rows = []
    copies = [e for e in events if e.kind == "checkpoint"]
    for before, copy in itertools.pairwise(copies):
        if copy.on != "loop" or copy.log is None or before.log is None or copy.log <= before.log:
            continue
        near = [e for e in events if copy.at - BEFORE <= e.at <= copy.at + AFTER]
        rows.append(
            {
                "loop_copy_ms": copy.ms,
                "thread_flush_ms": sum(e.ms for e in near if e.kind == "flush" and e.on == "thread"),
                "loop_lag_ms": max((e.ms for e in near if e.kind == "loop_lag"), default=0.0),
                "sqlite_call_ms": max((e.ms for e in near if e.kind == "sqlite_call"), default=0.0),
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
        f"{len(rows)} tries under load; loop's copy ms {spread('loop_copy_ms')}; "
        f"thread's flushes ms {spread('thread_flush_ms')}; longest loop lag of 10 ms or more around it "
        f"{spread('loop_lag_ms')} (0: none); longest SQLite call of 5 ms or more {spread('sqlite_call_ms')}"
    )


def main() -> None:
    for path in sys.argv[1:]:
        print(f"{path}: {summary(tries(read(path)))}")


if __name__ == "__main__":
    main()
