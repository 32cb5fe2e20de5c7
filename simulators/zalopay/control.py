"""The test-control API: settle an order without a browser, look at one, and switch faults on and off."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.params import FromPath
from pydantic import BaseModel, ConfigDict, ValidationError

from .faults import Faults
from .simulator_state import simulator_of
from .store import CANCELLED, FAILED, UNPAID, Order

PREFIX = "/_sim/zalopay"


class PayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    outcome: str = "success"  # success, cancel, fail


def _problem(status: int, title: str, detail: str) -> Response[dict[str, Any]]:
    return Response(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def _view(order: Order) -> dict[str, Any]:
    return {
        "app_id": order.app.app_id,
        "app_trans_id": order.app_trans_id,
        "amount": order.amount,
        "status": order.status,
        "zp_trans_id": order.zp_trans_id,
        "zp_trans_token": order.zp_trans_token,
        "refunded": order.refunded,
        "callback_url": order.callback_url,
        "callbacks": [asdict(a) for a in order.callbacks],
    }


@post(f"{PREFIX}/orders/{{app_trans_id:str}}/pay", status_code=200)
async def pay(request: Request[Any, Any, Any], app_trans_id: FromPath[str]) -> Response[Any]:
    sim = simulator_of(request.app.state)
    order = sim.store.find(app_trans_id)
    if order is None:
        return _problem(404, "Not Found", f"no order {app_trans_id!r}")
    raw = await request.body()
    try:
        wanted = PayRequest.model_validate_json(raw) if raw.strip() else PayRequest()
    except ValidationError as exc:
        return _problem(422, "Unprocessable Content", str(exc.errors(include_url=False)[0]["msg"]))
    if wanted.outcome not in {"success", "cancel", "fail"}:
        return _problem(422, "Unprocessable Content", "outcome is success, cancel or fail")
    if order.status != UNPAID or order.expired():
        return _problem(409, "Conflict", f"order is {order.status}")
    if wanted.outcome != "success":
        # ZaloPay calls back only for a paid order: a cancelled or failed one is learnt by querying.
        order.status = CANCELLED if wanted.outcome == "cancel" else FAILED
        return Response({**_view(order), "callback": None})
    sim.store.pay(order)
    attempt = await sim.callbacks.notify(order)
    return Response({**_view(order), "callback": None if attempt is None else asdict(attempt)})


@post(f"{PREFIX}/orders/{{app_trans_id:str}}/callback", status_code=200)
async def resend(request: Request[Any, Any, Any], app_trans_id: FromPath[str]) -> Response[Any]:
    sim = simulator_of(request.app.state)
    order = sim.store.find(app_trans_id)
    if order is None or order.zp_trans_id is None:
        return _problem(404, "Not Found", f"no paid order {app_trans_id!r}")
    return Response(asdict(await sim.callbacks.resend(order)))


@get(f"{PREFIX}/orders/{{app_trans_id:str}}", sync_to_thread=False)
def show(request: Request[Any, Any, Any], app_trans_id: FromPath[str]) -> Response[Any]:
    order = simulator_of(request.app.state).store.find(app_trans_id)
    if order is None:
        return _problem(404, "Not Found", f"no order {app_trans_id!r}")
    return Response(_view(order))


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


CONTROL_HANDLERS = [pay, resend, show, get_faults, put_faults, clear_faults]
