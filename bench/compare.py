"""`python -m bench.compare REV`: `bench.inproc` for the code at REV and for the working tree, side by side.

This machine's speed drifts by 30–50% within minutes, so two measurements taken one after the other
say little about a change of 10–20%. Here both run at the same time, one per core, and see the same
machine: the pair is comparable even when the absolute numbers are not. REV is checked out in a
temporary git worktree; each side gets its own PostgreSQL database. The baseline row, the same app on
both sides, shows how far the two sides differ by themselves.

    python -m bench.compare 8e9c70d [--pairs 2] [inproc options: --db sqlite --only read,ipn -n 2000]
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run_side_by_side(trees: dict[str, Path], inproc_args: list[str]) -> dict[str, dict[str, dict[str, int]]]:
    procs = {}
    for side, tree in trees.items():
        env = os.environ | {"PYTHONPATH": str(tree), "BENCH_PG_DATABASE": f"dvcgw_bench_{side}"}
        procs[side] = subprocess.Popen(
            [sys.executable, "-m", "bench.inproc", *inproc_args],
            cwd=tree,
            env=env,
            stdout=subprocess.DEVNULL,  # the gateway's log lines
            stderr=subprocess.PIPE,
            text=True,
        )
    results: dict[str, dict[str, dict[str, int]]] = {}
    for side, proc in procs.items():
        _, err = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"{side} failed:\n{err[-2000:]}")
        # bench.inproc prints "<db> <scenario> {...}" or "baseline {...}" on stderr
        for line in err.splitlines():
            head, brace, rest = line.partition("{")
            if brace and "cpu_us_best" in rest:
                results.setdefault(" ".join(head.split()), {})[side] = ast.literal_eval(brace + rest)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rev", help="the git revision to compare the working tree with")
    parser.add_argument("--pairs", type=int, default=2, help="side-by-side runs (default 2)")
    args, inproc_args = parser.parse_known_args()
    with tempfile.TemporaryDirectory(prefix="dvcgw-compare-") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.rev], check=True)
        try:
            print(f"CPU µs per request in-process, best of five rounds: {args.rev} | working tree | change")
            for pair in range(1, args.pairs + 1):
                for name, sides in _run_side_by_side({"old": old, "new": ROOT}, inproc_args).items():
                    before, after = sides["old"]["cpu_us_best"], sides["new"]["cpu_us_best"]
                    print(f"pair {pair}  {name:18s} {before:7,d} | {after:7,d} | {(after - before) / before:+.0%}")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=True)


if __name__ == "__main__":
    main()
