"""The test-control API under /_sim/payos: pay or cancel a link as a citizen would, see webhook attempts,
switch faults on and off."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.params import FromPath
from pydantic import ValidationError

from .faults import Faults
from .state import SimulatorState, simulator_of
from .store import Link, Transfer, new_bank_reference, now_vn
from .webhook import envelope

OUTCOMES = ("success", "cancelled")


async def pay(sim: SimulatorState, link: Link) -> dict[str, Any]:
    """The citizen's bank transfer of the whole amount lands: the link is PAID and payOS sends its webhook."""
    link.refresh(now_vn())
    if link.status != "PENDING":
        raise HTTPException(status_code=409, detail=f"the link is {link.status}, not PENDING")
    transfer = Transfer(reference=new_bank_reference(), amount=link.amount, at=now_vn())
    link.transfers.append(transfer)
    link.status = "PAID"
    body = envelope(link.webhook_data(transfer), link.merchant)
    attempt = await sim.sender.deliver(link, body)
    webhook: dict[str, Any] = {
        "url": link.merchant.webhook_url,
        "body": body,
        "dropped": attempt is None and link.webhook_dropped,
        "held": attempt is None and not link.webhook_dropped,  # out of order: it goes after the next one
    }
    if attempt is not None:
        webhook.update(http_status=attempt.http_status, acknowledged=attempt.acknowledged, error=attempt.error)
    return webhook


def cancel(link: Link, reason: str) -> None:
    link.refresh(now_vn())
    if link.status != "PENDING":
        raise HTTPException(status_code=409, detail=f"the link is {link.status}, not PENDING")
    link.status, link.canceled_at, link.cancellation_reason = "CANCELLED", now_vn(), reason


def _link(sim: SimulatorState, order_code: int, client_id: object) -> Link:
    links = [link for link in sim.store.by_order_code(order_code) if client_id in (None, link.merchant.client_id)]
    if not links:
        raise NotFoundException(detail=f"no payment link with orderCode {order_code}")
    if len(links) > 1:
        raise HTTPException(status_code=409, detail="several merchants have this orderCode: name client_id")
    return links[0]


@post("/_sim/payos/payment-requests/{order_code:int}/pay", status_code=200)
async def control_pay(request: Request[Any, Any, Any], order_code: FromPath[int]) -> dict[str, Any]:
    sim = simulator_of(request.app.state)
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise ValidationException(detail="the body is not JSON") from None
    if not isinstance(body, dict) or set(body) - {"outcome", "client_id"}:
        raise ValidationException(detail='expected {"outcome": "success"|"cancelled", "client_id"?}')
    outcome = body.get("outcome", "success")
    if outcome not in OUTCOMES:
        raise ValidationException(detail=f"outcome must be one of {', '.join(OUTCOMES)}")
    link = _link(sim, order_code, body.get("client_id"))
    if outcome == "cancelled":
        cancel(link, "Khách hàng huỷ thanh toán")
        return {"status": link.status, "webhook": None}
    webhook = await pay(sim, link)
    return {"status": link.status, "webhook": webhook}


@post("/_sim/payos/payment-requests/{order_code:int}/webhook", status_code=200)
async def control_resend(request: Request[Any, Any, Any], order_code: FromPath[int]) -> dict[str, Any]:
    """The paid link's webhook once more, exactly as first sent (a replay), faults aside."""
    link = _link(simulator_of(request.app.state), order_code, request.query_params.get("client_id"))
    if link.status != "PAID" or not link.transfers:
        raise HTTPException(status_code=409, detail=f"the link is {link.status}: it has no webhook to send again")
    body = envelope(link.webhook_data(link.transfers[-1]), link.merchant)
    attempt = await simulator_of(request.app.state).sender.resend(link, body)
    return {"http_status": attempt.http_status, "acknowledged": attempt.acknowledged, "error": attempt.error}


@get("/_sim/payos/payment-requests/{order_code:int}/webhooks")
async def control_webhooks(request: Request[Any, Any, Any], order_code: FromPath[int]) -> dict[str, Any]:
    link = _link(simulator_of(request.app.state), order_code, request.query_params.get("client_id"))
    return {
        "acknowledged": link.webhook_acknowledged,
        "attempts": [
            {"number": a.number, "kind": a.kind, "http_status": a.http_status, "error": a.error}
            for a in link.webhook_attempts
        ],
    }


@get("/_sim/payos/faults")
async def get_faults(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return simulator_of(request.app.state).faults.model_dump()


@put("/_sim/payos/faults")
async def put_faults(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    sim = simulator_of(request.app.state)
    try:
        sim.faults = Faults.model_validate_json(await request.body())
    except ValidationError as exc:
        raise ValidationException(detail=str(exc)) from None
    return Response(sim.faults.model_dump())


@delete("/_sim/payos/faults", status_code=200)
async def reset_faults(request: Request[Any, Any, Any]) -> dict[str, Any]:
    sim = simulator_of(request.app.state)
    sim.faults = Faults()
    return sim.faults.model_dump()


CONTROL_HANDLERS = [control_pay, control_resend, control_webhooks, get_faults, put_faults, reset_faults]
