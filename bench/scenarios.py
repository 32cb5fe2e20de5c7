"""What each scenario sends, for wrk (saturation) and for bench.loadgen (fixed offered load).

baseline  POST /echo on bench/baseline_app.py: a small pydantic body, validated and answered; no database.
create    POST /v1/payments, the portal's payment body, a new Idempotency-Key on every request.
ipn       GET /callbacks/vnpay/ipn, VNPay's signed success IPN for a pending payment, each payment once
          (RspCode 00); the payments are made beforehand, a fresh set for every phase.
ipn_dup   the same IPN again for payments already succeeded (RspCode 02): VNPay re-sends until it is told
          00 or 02, so duplicates are a normal share of IPN traffic.
read      GET /v1/payments/{id} over 1,000 existing payments (500 with --quick).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import dataprep
from bench.baseline_app import BODY as BASELINE_BODY


@dataclass
class Context:
    workdir: Path
    base_url: str
    db_url: str | None = None
    client_id: str | None = None
    api_key: str | None = None
    read_paths: Path | None = None
    ipn_seq: int = 0
    files: int = 0
    dup_load: Load | None = None  # ipn_dup: the IPNs of payments that have already succeeded
    dup_payments: int = 300

    def file(self, stem: str, suffix: str) -> Path:
        self.files += 1
        return self.workdir / f"{stem}-{self.files}{suffix}"


@dataclass(frozen=True)
class Load:
    kind: str  # "post" | "get"
    api_key: str | None = None
    path: str = ""
    body_file: Path | None = None
    idem_prefix: str | None = None
    paths_file: Path | None = None

    def wrk_args(self, threads: int) -> tuple[str, list[str]]:
        key = self.api_key or "-"
        if self.kind == "post":
            return "post_json.lua", [str(self.body_file), self.path, key, self.idem_prefix or "-"]
        return "get_paths.lua", [str(self.paths_file), key, str(threads)]

    def loadgen_spec(self, base_url: str, **extra: Any) -> dict[str, Any]:
        spec: dict[str, Any] = {"url": base_url, "kind": self.kind, "api_key": self.api_key, **extra}
        if self.kind == "post":
            spec |= {"path": self.path, "body_file": str(self.body_file), "idem_prefix": self.idem_prefix}
        else:
            spec |= {"paths_file": str(self.paths_file), "cycle": True}
        return spec


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    app: str  # "baseline" | "gateway"
    goal_ratio: float | None = None
    expect_status: frozenset[str] = frozenset({"200"})
    expect_rsp: frozenset[str] = field(default_factory=frozenset)  # VNPay RspCode, IPN scenarios only

    def prepare(self, ctx: Context, prime: Any) -> None:
        """Once before the scenario's phases; `prime(load, count)` sends `count` requests once each."""
        if self.name == "ipn_dup":
            payments = dataprep.create_payments(ctx.db_url or "", ctx.client_id or "", ctx.dup_payments)
            load = self._ipn_load(ctx, payments)
            prime(load, len(payments))  # each succeeds once: from now on every IPN is a duplicate
            ctx.dup_load = load

    def load(self, ctx: Context, budget: int) -> Load:
        """The requests of one phase; `budget` is how many distinct requests it may send."""
        if self.name == "baseline":
            return Load("post", path="/echo", body_file=_json_file(ctx, "baseline-body", BASELINE_BODY))
        if self.name == "create":
            return Load(
                "post",
                api_key=ctx.api_key,
                path="/v1/payments",
                body_file=_json_file(ctx, "payment-body", dataprep.PAYMENT_BODY),
                idem_prefix=f"bench-{uuid.uuid4().hex[:12]}",
            )
        if self.name == "ipn":
            payments = dataprep.create_payments(ctx.db_url or "", ctx.client_id or "", budget)
            return self._ipn_load(ctx, payments)
        if self.name == "ipn_dup":
            assert ctx.dup_load is not None, "prepare() first"
            return ctx.dup_load
        if self.name == "read":
            assert ctx.read_paths is not None
            return Load("get", api_key=ctx.api_key, paths_file=ctx.read_paths)
        raise ValueError(self.name)

    def _ipn_load(self, ctx: Context, payments: list[dataprep.PreparedPayment]) -> Load:
        paths = []
        for p in payments:
            ctx.ipn_seq += 1
            paths.append(dataprep.ipn_path(p, ctx.ipn_seq))
        return Load("get", paths_file=dataprep.write_lines(ctx.file("ipn-paths", ".txt"), paths))

    @property
    def unique(self) -> bool:
        """Each request consumes a resource (a pending payment) that a later phase cannot reuse."""
        return self.name == "ipn"


def _json_file(ctx: Context, stem: str, body: dict[str, Any]) -> Path:
    path = ctx.workdir / f"{stem}.json"
    if not path.exists():
        path.write_text(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    return path


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("baseline", "Bare Litestar: POST /echo (pydantic body)", "baseline", None, frozenset({"201"})),
        Scenario("create", "POST /v1/payments (new Idempotency-Key each)", "gateway", 0.25, frozenset({"201"})),
        Scenario("ipn", "VNPay IPN, first delivery (RspCode 00)", "gateway", 0.30, expect_rsp=frozenset({"00"})),
        Scenario("ipn_dup", "VNPay IPN, duplicate (RspCode 02)", "gateway", 0.30, expect_rsp=frozenset({"02"})),
        Scenario("read", "GET /v1/payments/{id}", "gateway", 0.50),
    )
}
GATEWAY_SCENARIOS = [n for n, s in SCENARIOS.items() if s.app == "gateway"]


def make_read_paths(ctx: Context, n: int = 1000) -> None:
    payments = dataprep.create_payments(ctx.db_url or "", ctx.client_id or "", n)
    ctx.read_paths = dataprep.write_lines(ctx.workdir / "read-paths.txt", [f"/v1/payments/{p.id}" for p in payments])
