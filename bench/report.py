"""bench/results/<name>.json (everything) and <name>.md (the table the README shows)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
P99_GOAL_MS = 25.0


def _f(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def _mark(ok: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "-"}[ok]


def _rounds(config: dict[str, Any]) -> str:
    rounds = config.get("rounds", 1)
    seconds = config["saturation_seconds"]
    if rounds <= 1:
        return f"{seconds:g}s"
    return f"{rounds} rounds of {seconds / rounds:g}s per app, alternated with the baseline beside"


def attach_ratios(rows: list[dict[str, Any]], previous: list[dict[str, Any]] | None = None) -> None:
    """Ratio of each gateway row's saturation throughput to the baseline: the one saturated beside it
    (bench/run.py, step 1) where there is one, else the run's baseline row of the same workers and
    server. `ratio_to_run_baseline` keeps the second either way."""

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return (r["workers"], r["server"])

    baselines = {key(r): r for r in (previous or []) if r["scenario"] == "baseline"}
    baselines |= {key(r): r for r in rows if r["scenario"] == "baseline"}
    for r in rows:
        base = baselines.get(key(r))
        if base is not None and not base["saturation"]["rps"]:
            base = None
        beside = r["saturation"].get("baseline_beside")
        r["baseline_from_earlier_run"] = base is not None and base not in rows
        r["ratio_to_run_baseline"] = None
        if r["scenario"] == "baseline":
            # Beside a baseline row is a second copy of the bare app: the ratio shows the method's error.
            r["ratio"] = r["saturation"]["rps"] / beside["rps"] if beside and beside["rps"] else 1.0
            r["cpu_ratio"] = 1.0
        elif beside or base:
            rps, cpu = r["saturation"]["rps"], r["saturation"]["cpu_ms_per_req"]
            if base:
                r["ratio_to_run_baseline"] = rps / base["saturation"]["rps"]
            r["ratio"] = rps / beside["rps"] if beside else r["ratio_to_run_baseline"]
            bc = (beside or base["saturation"])["cpu_ms_per_req"]
            r["cpu_ratio"] = cpu / bc if bc and cpu else None
        else:
            r["ratio"] = r["cpu_ratio"] = None
        goal = r.get("goal_ratio")
        r["ratio_goal_met"] = None if goal is None or r["ratio"] is None else r["ratio"] >= goal
        interval = r["saturation"].get("ratio_interval") if beside else None
        r["ratio_goal_sure"] = None if goal is None or not interval else not interval[0] < goal < interval[1]
        p99 = r["fixed"]["p99_ms"] if r.get("fixed") else None
        r["p99_goal_met"] = None if r["scenario"] == "baseline" or p99 is None else p99 < P99_GOAL_MS


def _postgres_line(meta: dict[str, Any]) -> list[str]:
    server = meta.get("postgres")
    if not server:
        return []
    settings = ", ".join(f"`{k} = {v}`" for k, v in server.items() if k != "server_version")
    if changed := meta.get("postgres_set"):
        names = " and ".join(f"`{k}`" for k in changed)
        how = f"{names} set for the run as the README recommends (ALTER SYSTEM, put back afterwards)"
    else:
        how = "as the server is set"
    line = f"PostgreSQL {server.get('server_version')}, {how}: {settings}"
    if wal := meta.get("wal_files"):
        ends = [
            f"{v['files']} ({v['ready']} ahead of the one written)" if v else "not known"
            for v in (wal.get("start"), wal.get("end"))
        ]
        line += f". Log segment files: {ends[0]} at the start, {ends[1]} at the end"
    if setup := meta["config"].get("pg_setup"):
        line += f". What-if, run on the bench database after its migrations: `{setup}`"
    return ["", line]


def markdown(meta: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    out = [
        f"# Benchmark results ({meta['mode']})",
        "",
        f"{meta['started']} · commit `{meta['commit']}` · {meta['machine']['cpus']} CPUs "
        f"({meta['machine']['cpu_model']}), {meta['machine']['memory_gib']} GiB · Python {meta['python']}, "
        f"Litestar {meta['versions'].get('litestar')}, uvicorn {meta['versions'].get('uvicorn')}, "
        f"SQLAlchemy {meta['versions'].get('sqlalchemy')}",
        *_postgres_line(meta),
        "",
        f"Saturation: wrk -t{meta['config']['threads']} -c{meta['config']['connections']} (closed loop), "
        f"{_rounds(meta['config'])}. Fixed load: bench.loadgen, open loop at "
        f"{meta['config']['fixed_fraction']:.0%} of the measured saturation for {meta['config']['fixed_seconds']}s; "
        "latency from each request's due time.",
        "",
        "| scenario | db | workers | variant | saturation req/s | baseline beside req/s | × baseline | goal "
        "| × run's baseline | fixed load req/s | p50 ms | p99 ms | p99 < 25 ms | server CPU ms/req | other CPU "
        "| errors |",
        "|---|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        sat, fx = r["saturation"], r.get("fixed") or {}
        earlier = " ¹" if r["baseline_from_earlier_run"] else ""
        beside = (sat.get("baseline_beside") or {}).get("rps")
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.1%}" + ("" if beside else earlier)
        if beside and (interval := sat.get("ratio_interval")):
            ratio += f" ({interval[0]:.1%}–{interval[1]:.1%})"
        goal = "-" if r.get("goal_ratio") is None else f"≥ {r['goal_ratio']:.0%}: {_mark(r['ratio_goal_met'])}"
        if r.get("ratio_goal_sure") is False:
            goal += " ²"
        other = max(sat["cpu"]["other_cores"], (fx.get("cpu") or {}).get("other_cores", 0.0))
        errors = sat["errors"] + fx.get("errors", 0)
        to_run = "-" if r.get("ratio_to_run_baseline") is None else f"{r['ratio_to_run_baseline']:.1%}{earlier}"
        out.append(
            f"| {r['scenario']} | {r['db']} | {r['workers']} | {r['variant']} | {_f(sat['rps'])} | {_f(beside)} "
            f"| {ratio} | {goal} | {to_run} | {_f(fx.get('achieved_rps'))} "
            f"| {_f(fx.get('p50_ms'), 1)} | {_f(fx.get('p99_ms'), 1)} "
            f"| {_mark(r['p99_goal_met'])} | {_f(sat['cpu_ms_per_req'], 2)} | {other:.2f} | {errors} |"
        )
    out += [
        "",
        "*× baseline*: saturation throughput over the bare Litestar app's with the same workers and server, "
        "saturated in rounds alternated with the gateway's (*baseline beside*; the run's own baseline row "
        "where there is none), with the 90% interval of that ratio from its rounds (bootstrap); on a "
        "*baseline* row, over a second copy of the bare app beside it, which shows the method's own error. "
        "*× run's baseline*: over the baseline row of this run, measured minutes apart. "
        "*server CPU ms/req*: CPU time of the server processes per request at saturation (less disturbed by "
        "other work on the machine than throughput). *other CPU*: cores used by processes that are neither "
        "the server nor the load tool during the measurement (above ~0.2 the numbers are disturbed). "
        "*errors*: unexpected HTTP status or RspCode, socket errors and timeouts, both phases.",
    ]
    if any(r["baseline_from_earlier_run"] for r in rows):
        out.append("\n¹ baseline from an earlier run in the same results file (not measured in this run).")
    if any(r.get("ratio_goal_sure") is False for r in rows):
        out.append("\n² the goal lies inside the ratio's 90% interval: this run does not settle it either way.")
    notes = [n for r in rows for n in r.get("notes", [])]
    if notes:
        out += ["", "Notes:", *[f"- {n}" for n in notes]]
    return "\n".join(out) + "\n"


def write(name: str, meta: dict[str, Any], rows: list[dict[str, Any]]) -> tuple[Path, Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    j, m = RESULTS / f"{name}.json", RESULTS / f"{name}.md"
    j.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2, ensure_ascii=False) + "\n")
    m.write_text(markdown(meta, rows))
    return j, m


def previous_rows(name: str) -> list[dict[str, Any]]:
    try:
        return list(json.loads((RESULTS / f"{name}.json").read_text())["rows"])
    except (OSError, ValueError, KeyError):
        return []
