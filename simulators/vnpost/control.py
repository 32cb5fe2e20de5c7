"""The test-control API under /_sim/vnpost/, which VNPost does not have: move an order on (a postman's
scan), choose its scripted progression, look at it and its pushes, switch faults, expire tokens, and the
daily COD remittance file."""

from __future__ import annotations

import csv
import html
import io
from dataclasses import asdict
from datetime import date
from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.params import FromPath
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .codes import COD_PAID, DELIVERED, ENDS, FAILED, FAILURE_REASONS, SCENARIOS, STATUS_BY_NAME, STATUS_NAMES
from .faults import Faults
from .simulator_state import SimulatorState, simulator_of
from .store import Order, Push

PREFIX = "/_sim/vnpost"
CAUSED = frozenset({5, 8, FAILED, 22})  # codes that carry a cause


class AdvanceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    to: int | str | None = None  # a status code or name; none: the scenario's next step
    reason: str | None = Field(default=None, max_length=10)  # a cause code, for a failure


class ScenarioRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    scenario: str


def _problem(status: int, title: str, detail: str) -> Response[dict[str, Any]]:
    return Response(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def _push_view(push: Push) -> dict[str, Any]:
    return {
        "number": push.number,
        "statuses": push.statuses,
        "acknowledged": push.acknowledged,
        "attempts": [asdict(a) for a in push.attempts],
    }


def _view(order: Order) -> dict[str, Any]:
    return {
        **order.created_answer(),
        "scenario": order.scenario,
        "remaining": [code for code, _ in order.remaining()],
        "codAmount": order.cod_amount,
        "events": [e.wire() for e in order.events],
        "pushes": [_push_view(p) for p in order.pushes],
    }


def _steps(order: Order, wanted: AdvanceRequest) -> list[tuple[int, str | None]] | str:
    """The steps an advance takes, or why it cannot."""
    if order.status in ENDS or (order.status == DELIVERED and not order.cod_amount):
        return f"order {order.original_id} is at its end ({order.status})"
    remaining = list(order.remaining())
    if wanted.to is None:
        if not remaining:
            return f"the {order.scenario} scenario has no further step"
        steps = remaining[:1]
    else:
        target = wanted.to if isinstance(wanted.to, int) else STATUS_BY_NAME.get(wanted.to, -1)
        if target not in STATUS_NAMES:
            return f"unknown status {wanted.to!r}"
        if target == COD_PAID and not order.cod_amount:
            return "no COD on this order"
        on_script = [i for i, (code, _) in enumerate(remaining) if code == target]
        # On the script: every step up to it. Off it: that one event, the script where it was.
        steps = remaining[: on_script[0] + 1] if on_script else [(target, "L09" if target in CAUSED else None)]
    if wanted.reason is not None:
        if wanted.reason not in FAILURE_REASONS or steps[-1][0] not in CAUSED:
            return f"reason {wanted.reason!r} is not a cause code of a failure"
        steps[-1] = (steps[-1][0], wanted.reason)
    return steps


@post(f"{PREFIX}/orders/{{original_id:str}}/advance", status_code=200)
async def advance(request: Request[Any, Any, Any], original_id: FromPath[str]) -> Response[Any]:
    """Move the order one step along its scenario, or up to a named status (`{"to": "delivered"}`,
    `{"to": 15, "reason": "L02"}`), and answer with the push sent of it and how it was answered."""
    sim = simulator_of(request.app.state)
    order = sim.store.find(original_id)
    if order is None:
        return _problem(404, "Not Found", f"no order {original_id!r}")
    raw = await request.body()
    try:
        wanted = AdvanceRequest.model_validate_json(raw) if raw.strip() else AdvanceRequest()
    except ValidationError as exc:
        return _problem(422, "Unprocessable Content", str(exc.errors(include_url=False)[0]["msg"]))
    steps = _steps(order, wanted)
    if isinstance(steps, str):
        return _problem(409, "Conflict", steps)
    remaining = order.remaining()
    if [code for code, _ in steps] == [code for code, _ in remaining[: len(steps)]]:
        order.step += len(steps)
    events, push, attempt = await sim.move(order, steps)
    return Response(
        {
            "push": push.last_envelope,
            "events": [e.wire() for e in events],
            "sent": attempt is not None,
            "acknowledged": push.acknowledged,
            "order": _view(order),
        }
    )


@put(f"{PREFIX}/orders/{{original_id:str}}/scenario", status_code=200)
async def choose_scenario(request: Request[Any, Any, Any], original_id: FromPath[str]) -> Response[Any]:
    sim = simulator_of(request.app.state)
    order = sim.store.find(original_id)
    if order is None:
        return _problem(404, "Not Found", f"no order {original_id!r}")
    try:
        wanted = ScenarioRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        return _problem(422, "Unprocessable Content", str(exc.errors(include_url=False)[0]["msg"]))
    if wanted.scenario not in SCENARIOS:
        return _problem(422, "Unprocessable Content", f"scenario is one of {sorted(SCENARIOS)}")
    if order.step or len(order.events) > 1:
        return _problem(409, "Conflict", "the order has already moved on")
    order.scenario = wanted.scenario
    return Response(_view(order))


@get(f"{PREFIX}/orders/{{original_id:str}}", sync_to_thread=False)
def show(request: Request[Any, Any, Any], original_id: FromPath[str]) -> Response[Any]:
    order = simulator_of(request.app.state).store.find(original_id)
    if order is None:
        return _problem(404, "Not Found", f"no order {original_id!r}")
    return Response(_view(order))


@post(f"{PREFIX}/orders/{{original_id:str}}/push", status_code=200)
async def resend(request: Request[Any, Any, Any], original_id: FromPath[str]) -> Response[Any]:
    """The order's last push once more, faults aside."""
    sim = simulator_of(request.app.state)
    order = sim.store.find(original_id)
    if order is None or not order.pushes:
        return _problem(404, "Not Found", f"no push of order {original_id!r}")
    push = order.pushes[-1]
    attempt = await sim.pushes.resend(order, push)
    return Response({"push": push.last_envelope, "attempt": asdict(attempt)})


@get(f"{PREFIX}/faults", sync_to_thread=False)
def get_faults(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return simulator_of(request.app.state).faults.model_dump()


@put(f"{PREFIX}/faults")
async def put_faults(request: Request[Any, Any, Any]) -> Response[Any]:
    sim = simulator_of(request.app.state)
    try:
        sim.faults = Faults.model_validate_json(await request.body())
    except ValidationError as exc:
        return _problem(422, "Unprocessable Content", str(exc.errors(include_url=False)[0]["msg"]))
    return Response(sim.faults.model_dump(), status_code=200)


@delete(f"{PREFIX}/faults", status_code=204)
async def clear_faults(request: Request[Any, Any, Any]) -> None:
    simulator_of(request.app.state).faults = Faults()


@post(f"{PREFIX}/tokens/expire", status_code=200, sync_to_thread=False)
def expire_tokens(request: Request[Any, Any, Any]) -> dict[str, int]:
    """Every token issued so far is refused from now on (as when they expire)."""
    return {"expired": simulator_of(request.app.state).store.expire_tokens()}


REMITTANCE_COLUMNS = (
    "remittance_date",
    "original_id",
    "item_code",
    "sale_order_code",
    "customer_code",
    "cod_amount",
    "postage_collected",
    "remitted_amount",
    "delivered_at",
    "remitted_at",
)


def remittance_rows(sim: SimulatorState, day: date) -> list[dict[str, Any]]:
    rows = []
    for order in sim.store.orders.values():
        paid = next((e for e in order.events if e.status == COD_PAID), None)
        if paid is None or paid.event_time.date() != day:
            continue
        delivered = next(e for e in order.events if e.status == DELIVERED)
        rows.append(
            {
                "remittance_date": day.isoformat(),
                "original_id": order.original_id,
                "item_code": order.item_code,
                "sale_order_code": order.sale_order_code,
                "customer_code": order.account.customer_code,
                "cod_amount": order.cod_amount,
                # The postage VNPost collected from the recipient (GTG071) it keeps: not remitted.
                "postage_collected": order.total_fee if "GTG071" in order.addons else 0,
                "remitted_amount": order.cod_amount,
                "delivered_at": delivered.event_time.isoformat(),
                "remitted_at": paid.event_time.isoformat(),
            }
        )
    return sorted(rows, key=lambda r: (r["remitted_at"], r["original_id"]))


@get(f"{PREFIX}/cod-remittance", sync_to_thread=False)
def cod_remittance(request: Request[Any, Any, Any]) -> Response[Any]:
    """The COD VNPost remits for one day (GMT+7), as CSV (layout: docs/simulators.md)."""
    text = str(request.query_params.get("date", ""))
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        return _problem(422, "Unprocessable Content", "date must be YYYY-MM-DD")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REMITTANCE_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(remittance_rows(simulator_of(request.app.state), day))
    return Response(
        out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="cod-remittance-{day.isoformat()}.csv"'},
    )


@get("/", sync_to_thread=False)
def index(request: Request[Any, Any, Any]) -> Response[str]:
    sim = simulator_of(request.app.state)
    text = (
        "<!doctype html><html><head><meta charset='utf-8'><title>VNPost simulator</title></head><body>"
        "<h1>MyVNPost partner API — simulator</h1>"
        "<p>POST /customer-partner/GetAccessToken, ServicesCharge, CreateOrder, orderCancel; "
        "GET /customer-partner/orderTracking; control API under /_sim/vnpost/.</p>"
        f"<p>{len(sim.store.orders)} orders; pushes go to {html.escape(sim.config.callback_url)}.</p>"
        "</body></html>"
    )
    return Response(text, media_type="text/html")


CONTROL_HANDLERS = [
    advance,
    choose_scenario,
    show,
    resend,
    get_faults,
    put_faults,
    clear_faults,
    expire_tokens,
    cod_remittance,
    index,
]
