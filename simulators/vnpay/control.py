"""Test-control API under `/_sim/vnpay`: settle payments, inspect them and their IPNs, switch faults.

Nothing here exists at VNPay; it lets tests and demos drive the simulator without a browser.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, delete, get, post, put
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.response import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .codes import PAYMENT_RESULTS
from .faults import Faults
from .settlement import AlreadyFinishedError, finish_and_notify, return_url
from .simulator_state import SimulatorState, simulator_of
from .store import REFUND_STATUSES, IpnAttempt, Refund, Transaction
from .wire import format_vnp_date

CONTROL_PREFIX = "/_sim/vnpay"


class SettleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response_code: str = Field(pattern=r"^\d{2}$")
    tmn_code: str | None = None


def _conflict(detail: str) -> HTTPException:
    return HTTPException(status_code=409, detail=detail)


def _attempt_json(attempt: IpnAttempt) -> dict[str, Any]:
    return {
        "attempt": attempt.number,
        "kind": attempt.kind,
        "sent_at": attempt.sent_at.isoformat(),
        "vnp_ResponseCode": attempt.response_code,
        "vnp_TransactionStatus": attempt.transaction_status,
        "http_status": attempt.http_status,
        "rsp_code": attempt.rsp_code,
        "message": attempt.message,
        "error": attempt.error,
        "acknowledged": attempt.acknowledged,
    }


def _refund_json(refund: Refund) -> dict[str, Any]:
    return {
        "vnp_RequestId": refund.request_id,
        "vnp_TransactionNo": refund.transaction_no,
        "vnp_TransactionType": refund.transaction_type,
        "amount": refund.amount,
        "vnp_TransactionStatus": refund.transaction_status,
        "order_info": refund.order_info,
        "create_by": refund.create_by,
        "requested_at": refund.requested_at.isoformat(),
    }


def transaction_json(txn: Transaction) -> dict[str, Any]:
    return {
        "tmn_code": txn.tmn_code,
        "vnp_TxnRef": txn.txn_ref,
        "amount": txn.amount,
        "vnp_Amount": str(txn.amount * 100),
        "vnp_OrderInfo": txn.order_info,
        "vnp_CreateDate": txn.create_date,
        "vnp_ExpireDate": format_vnp_date(txn.expire_at) if txn.expire_at else None,
        "status": txn.outcome.value,
        "vnp_ResponseCode": txn.response_code,
        "vnp_TransactionStatus": txn.transaction_status,
        "vnp_TransactionNo": txn.transaction_no,
        "vnp_BankTranNo": txn.bank_tran_no,
        "vnp_BankCode": txn.bank_code,
        "vnp_CardType": txn.card_type,
        "vnp_PayDate": format_vnp_date(txn.paid_at) if txn.paid_at else None,
        "return_url": return_url(txn) if txn.finished else None,
        "ipn": {
            "url": txn.merchant.ipn_url,
            "acknowledged": txn.ipn_acknowledged,
            "dropped": txn.ipn_dropped,
            "deliveries": [_attempt_json(a) for a in txn.ipn_attempts],
        },
        "refunds": [_refund_json(r) for r in txn.refunds],
        "refunded_amount": txn.refunded_amount,
    }


def _transaction(sim: SimulatorState, txn_ref: str, tmn_code: str | None) -> Transaction:
    merchant = sim.config.merchant(tmn_code) if tmn_code else sim.config.default_merchant
    txn = sim.store.find(merchant.tmn_code, txn_ref) if merchant else None
    if txn is None:
        raise NotFoundException(detail=f"no transaction {txn_ref!r} for merchant {tmn_code or 'default'}")
    return txn


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise HTTPException(status_code=400, detail="body is not JSON") from exc
    if not isinstance(body, dict):
        raise HTTPException(status_code=400, detail="body must be a JSON object")
    return body


def _invalid(exc: ValidationError) -> Response[Any]:
    errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    return Response(content={"detail": "invalid input", "errors": errors}, status_code=422)


@post(f"{CONTROL_PREFIX}/transactions/{{txn_ref:str}}", status_code=200)
async def settle_transaction(request: Request, txn_ref: FromPath[str]) -> Response[Any]:
    """Finish a pending payment as the payment page would; the first IPN attempt is awaited."""
    sim = simulator_of(request.app.state)
    try:
        settle = SettleRequest.model_validate(await _json_object(request))
    except ValidationError as exc:
        return _invalid(exc)
    if settle.response_code not in PAYMENT_RESULTS:
        return Response(
            content={
                "detail": f"unknown vnp_ResponseCode {settle.response_code}",
                "known": sorted(PAYMENT_RESULTS),
            },
            status_code=422,
        )
    txn = _transaction(sim, txn_ref, settle.tmn_code)
    try:
        await finish_and_notify(sim.store, sim.ipn, txn, settle.response_code, wait_for_first_ipn=True)
    except AlreadyFinishedError as exc:
        raise _conflict(str(exc)) from exc
    return Response(content=transaction_json(txn), status_code=200)


@get(f"{CONTROL_PREFIX}/transactions/{{txn_ref:str}}", sync_to_thread=False)
def show_transaction(request: Request, txn_ref: FromPath[str]) -> dict[str, Any]:
    sim = simulator_of(request.app.state)
    return transaction_json(_transaction(sim, txn_ref, request.query_params.get("tmn_code")))


@post(f"{CONTROL_PREFIX}/transactions/{{txn_ref:str}}/ipn", status_code=200)
async def resend_ipn(request: Request, txn_ref: FromPath[str]) -> dict[str, Any]:
    sim = simulator_of(request.app.state)
    txn = _transaction(sim, txn_ref, request.query_params.get("tmn_code"))
    if not txn.finished:
        raise _conflict("a pending transaction has no result to notify")
    return _attempt_json(await sim.ipn.resend(txn))


class RefundStatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transaction_status: str = Field(pattern=r"^\d{2}$")
    tmn_code: str | None = None


@post(f"{CONTROL_PREFIX}/transactions/{{txn_ref:str}}/refunds/{{request_id:str}}", status_code=200)
async def change_refund(request: Request, txn_ref: FromPath[str], request_id: FromPath[str]) -> Response[Any]:
    """Move a refund on, as the bank and VNPay's staff would: 06, 00 (done) or 09 (refused)."""
    sim = simulator_of(request.app.state)
    try:
        change = RefundStatusRequest.model_validate(await _json_object(request))
    except ValidationError as exc:
        return _invalid(exc)
    if change.transaction_status not in REFUND_STATUSES:
        return Response(content={"detail": "not a refund status", "known": sorted(REFUND_STATUSES)}, status_code=422)
    refund = _transaction(sim, txn_ref, change.tmn_code).refund(request_id)
    if refund is None:
        raise NotFoundException(detail=f"no refund {request_id!r} of {txn_ref!r}")
    refund.transaction_status = change.transaction_status
    return Response(content=_refund_json(refund), status_code=200)


@get(f"{CONTROL_PREFIX}/faults", sync_to_thread=False)
def show_faults(request: Request) -> dict[str, Any]:
    return simulator_of(request.app.state).faults.model_dump()


@put(f"{CONTROL_PREFIX}/faults")
async def change_faults(request: Request) -> Response[Any]:
    """Merge the given keys into the current faults; unknown keys or bad values change nothing."""
    sim = simulator_of(request.app.state)
    patch = await _json_object(request)
    try:
        sim.faults = Faults.model_validate({**sim.faults.model_dump(), **patch})
    except ValidationError as exc:
        return _invalid(exc)
    return Response(content=sim.faults.model_dump(), status_code=200)


@delete(f"{CONTROL_PREFIX}/faults", status_code=200)
async def reset_faults(request: Request) -> dict[str, Any]:
    sim = simulator_of(request.app.state)
    sim.faults = Faults()
    return sim.faults.model_dump()


@get(f"{CONTROL_PREFIX}/health", sync_to_thread=False)
def health(request: Request) -> dict[str, Any]:
    sim = simulator_of(request.app.state)
    return {"status": "ok", "merchants": [m.tmn_code for m in sim.config.merchants]}


CONTROL_HANDLERS = [
    settle_transaction,
    show_transaction,
    resend_ipn,
    change_refund,
    show_faults,
    change_faults,
    reset_faults,
    health,
]
