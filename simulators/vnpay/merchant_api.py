"""The merchant web API, `POST /merchant_webapi/api/transaction`: querydr and refund.

Answers are HTTP 200 JSON with every value a string, as in real VNPay answers captured in public code:
`{"vnp_ResponseCode":"00","vnp_Message":"QueryDR Success",...,"vnp_Amount":"10000000",...}`, a not-found
querydr `{"vnp_ResponseCode":"91","vnp_Message":"Transaction_not_found","vnp_TmnCode":..,"vnp_TxnRef":..,
"vnp_SecureHash":..}`, and a refund `{"vnp_Message":"Refund success","vnp_TransactionType":"02",
"vnp_TransactionStatus":"05",...}`. Extra unsigned fields of a paid querydr (vnp_CardNumber masked,
vnp_CardHolder, vnp_Issuer, vnp_Trace, vnp_FeeAmount) are reproduced too.

Order of checks: body is a JSON object (03) -> TmnCode known (02) -> command (03) -> checksum (97) ->
fields (03) -> vnp_RequestId not seen in the window (94) -> transaction found and vnp_TransactionDate
equal to its vnp_CreateDate (91) -> refund rules. An unexpected failure is answered 99, still signed.

querydr of a refunded transaction reports its latest refund: vnp_TransactionType 02/03, vnp_TransactionNo
and vnp_TransactionStatus (05 processing, 06 sent to the bank, 00 done, 09 refused) of that refund, as
VNPay's querydr documentation lists those types and refund statuses for querydr. UNVERIFIED against a
real answer: that it is the latest refund that is reported when there are several, that the refund's
own vnp_TransactionNo is reported rather than the payment's, that vnp_Amount stays the payment's (kept
so here) and that a refund VNPay completed reads 00. A refund's status is changed with the control API
(`POST /_sim/vnpay/transactions/{TxnRef}/refunds/{RequestId}`).

Refund rejections beyond the documented codes (choice of this simulator, VNPay's exact code UNVERIFIED):
* nothing left to refund because earlier refunds took it all -> 94, whose documented refund meaning is
  "Giao dịch đã được gửi yêu cầu hoàn tiền trước đó";
* amount above what is left, a full refund (02) for other than exactly what is left, or a partial
  refund (03) for all of it -> 03 "Dữ liệu gửi sang không đúng định dạng": the request data is wrong for
  this transaction and resending it cannot succeed, unlike 99 which callers may treat as transient.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from litestar import Request, post
from litestar.response import Response

from .codes import (
    API_BAD_FORMAT,
    API_DUPLICATE_REQUEST,
    API_INVALID_CHECKSUM,
    API_INVALID_TMN_CODE,
    API_NOT_FOUND,
    API_NOT_SUCCESSFUL,
    API_OK,
    API_OTHER_ERROR,
    API_RESULTS,
    API_VERSION,
    KIND_FULL_REFUND,
    KIND_PARTIAL_REFUND,
    KIND_PAYMENT,
)
from .config import Merchant
from .signing import (
    QUERYDR_ANSWER_ORDER,
    QUERYDR_REQUEST_ORDER,
    REFUND_ANSWER_ORDER,
    REFUND_REQUEST_ORDER,
    hash_matches,
    pipe_hash,
)
from .simulator_state import SimulatorState, simulator_of
from .store import NO_TRANSACTION_NO, Outcome, Refund, Transaction
from .wire import format_vnp_date, parse_vnp_date, wire_amount

log = structlog.get_logger("simulators.vnpay.merchant_api")

API_PATH = "/merchant_webapi/api/transaction"
COMMAND_QUERYDR = "querydr"
COMMAND_REFUND = "refund"

# Texts of real answers where one has been seen; VNPay's documented description otherwise.
_MESSAGES = {
    (COMMAND_QUERYDR, API_OK): "QueryDR Success",
    (COMMAND_REFUND, API_OK): "Refund success",
    (COMMAND_QUERYDR, API_NOT_FOUND): "Transaction_not_found",
}
_REFUND_DUPLICATE_MESSAGE = "Giao dịch đã được gửi yêu cầu hoàn tiền trước đó. Yêu cầu này VNPAY đang xử lý"

_REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_DIGITS = re.compile(r"^\d+$")


class ApiError(Exception):
    def __init__(self, code: str, reason: str, message: str | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.message = message


def _message(command: str, code: str) -> str:
    return _MESSAGES.get((command, code), API_RESULTS.get(code, API_RESULTS[API_OTHER_ERROR]))


def _text(body: Mapping[str, Any], name: str) -> str:
    """A field as the client hashed it: JSON numbers are accepted and taken by their decimal text."""
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, str | int):
        return str(value)
    raise ApiError(API_BAD_FORMAT, f"{name} must be a string or an integer")


def _require(body: Mapping[str, Any], name: str, pattern: re.Pattern[str] | None = None, max_len: int = 255) -> str:
    value = _text(body, name)
    if not value:
        raise ApiError(API_BAD_FORMAT, f"missing {name}")
    if len(value) > max_len or (pattern is not None and not pattern.match(value)):
        raise ApiError(API_BAD_FORMAT, f"malformed {name}")
    return value


def _require_date(body: Mapping[str, Any], name: str) -> str:
    value = _require(body, name)
    if parse_vnp_date(value) is None:
        raise ApiError(API_BAD_FORMAT, f"{name} must be yyyyMMddHHmmss")
    return value


def _checksum_ok(body: Mapping[str, Any], order: str, secret: str) -> bool:
    given = body.get("vnp_SecureHash")
    if not isinstance(given, str) or not given:
        return False
    if hash_matches(given, pipe_hash(body, order, secret)):
        return True
    # lehuygiang28/vnpay hashes a missing vnp_TransactionNo of a refund as "0" but leaves it out of the
    # body; accept that reading too so the SDK works unchanged (what VNPay does here is UNVERIFIED).
    if order == REFUND_REQUEST_ORDER and body.get("vnp_TransactionNo") in (None, ""):
        patched = {**body, "vnp_TransactionNo": NO_TRANSACTION_NO}
        return hash_matches(given, pipe_hash(patched, order, secret))
    return False


def _signed(answer: dict[str, str], order: str, secret: str) -> dict[str, str]:
    return {**answer, "vnp_SecureHash": pipe_hash(answer, order, secret)}


def _head(command: str, code: str, message: str | None = None) -> dict[str, str]:
    """The fields every answer of the merchant API opens with, in VNPay's order."""
    return {
        "vnp_ResponseId": uuid.uuid4().hex,
        "vnp_Command": command,
        "vnp_ResponseCode": code,
        "vnp_Message": message or _message(command, code),
    }


def _error_answer(command: str, merchant: Merchant | None, body: Mapping[str, Any], error: ApiError) -> dict[str, str]:
    answer = _head(command, error.code, error.message)
    if merchant is None:
        # Without a known terminal there is no secret to sign with, so the answer goes unsigned.
        return answer
    answer["vnp_TmnCode"] = merchant.tmn_code
    txn_ref = body.get("vnp_TxnRef")
    if isinstance(txn_ref, str | int) and not isinstance(txn_ref, bool) and str(txn_ref):
        answer["vnp_TxnRef"] = str(txn_ref)
    order = REFUND_ANSWER_ORDER if command == COMMAND_REFUND else QUERYDR_ANSWER_ORDER
    return _signed(answer, order, merchant.hash_secret)


def _find_transaction(sim: SimulatorState, merchant: Merchant, body: Mapping[str, Any]) -> Transaction:
    txn = sim.store.find(merchant.tmn_code, _text(body, "vnp_TxnRef"))
    # VNPay looks a payment up by TxnRef and its creation time: vnp_TransactionDate must quote the
    # vnp_CreateDate of the payment URL.
    if txn is None or txn.create_date != _text(body, "vnp_TransactionDate"):
        raise ApiError(API_NOT_FOUND, "no transaction with this TxnRef and TransactionDate")
    return txn


def _check_common(body: Mapping[str, Any]) -> None:
    _require(body, "vnp_RequestId", _REQUEST_ID, 32)
    if _require(body, "vnp_Version") != API_VERSION:
        raise ApiError(API_BAD_FORMAT, "vnp_Version must be 2.1.0")
    _require(body, "vnp_TxnRef", max_len=100)
    _require(body, "vnp_OrderInfo")
    _require_date(body, "vnp_TransactionDate")
    _require_date(body, "vnp_CreateDate")
    _require(body, "vnp_IpAddr", max_len=45)
    transaction_no = _text(body, "vnp_TransactionNo")
    if transaction_no and not _DIGITS.match(transaction_no):
        raise ApiError(API_BAD_FORMAT, "vnp_TransactionNo must be numeric")


def _querydr(sim: SimulatorState, merchant: Merchant, body: Mapping[str, Any]) -> dict[str, str]:
    txn = _find_transaction(sim, merchant, body)
    answer = {
        **_head(COMMAND_QUERYDR, API_OK),
        "vnp_TmnCode": merchant.tmn_code,
        "vnp_TxnRef": txn.txn_ref,
        "vnp_Amount": wire_amount(txn.amount),
        "vnp_OrderInfo": txn.order_info,
        "vnp_BankCode": txn.bank_code or txn.requested_bank_code or "",
        "vnp_PayDate": format_vnp_date(txn.paid_at) if txn.paid_at else "",
        "vnp_TransactionNo": txn.transaction_no or (NO_TRANSACTION_NO if txn.finished else ""),
        "vnp_TransactionType": KIND_PAYMENT,
        "vnp_TransactionStatus": txn.transaction_status,
    }
    if txn.refunds:
        # A refunded transaction is reported as its latest refund: its type, number and status.
        latest = txn.refunds[-1]
        answer["vnp_TransactionNo"] = latest.transaction_no
        answer["vnp_TransactionType"] = latest.transaction_type
        answer["vnp_TransactionStatus"] = latest.transaction_status
    answer = {k: v for k, v in answer.items() if v != ""}
    signed = _signed(answer, QUERYDR_ANSWER_ORDER, merchant.hash_secret)
    unsigned: dict[str, str] = {"vnp_FeeAmount": "0", "vnp_Trace": txn.trace or "0"}
    if txn.card_number_masked:
        unsigned["vnp_CardNumber"] = txn.card_number_masked
    if txn.card_holder:
        unsigned["vnp_CardHolder"] = txn.card_holder
    if txn.bank_code:
        unsigned["vnp_Issuer"] = txn.bank_code
    # The hash comes last in VNPay's answers; the unsigned extras sit before it.
    secure_hash = signed.pop("vnp_SecureHash")
    return {**signed, **unsigned, "vnp_SecureHash": secure_hash}


def _check_refund_fields(body: Mapping[str, Any]) -> tuple[str, int]:
    transaction_type = _require(body, "vnp_TransactionType")
    if transaction_type not in {KIND_FULL_REFUND, KIND_PARTIAL_REFUND}:
        raise ApiError(API_BAD_FORMAT, "vnp_TransactionType must be 02 or 03")
    raw_amount = _require(body, "vnp_Amount", _DIGITS, 12)
    wire = int(raw_amount)
    if wire <= 0 or wire % 100:
        raise ApiError(API_BAD_FORMAT, "vnp_Amount must be a positive multiple of 100")
    _require(body, "vnp_CreateBy", max_len=250)
    return transaction_type, wire // 100


def _refund(sim: SimulatorState, merchant: Merchant, body: Mapping[str, Any], request_id: str) -> dict[str, str]:
    transaction_type, amount = _check_refund_fields(body)
    txn = _find_transaction(sim, merchant, body)
    transaction_no = _text(body, "vnp_TransactionNo")
    if transaction_no not in ("", NO_TRANSACTION_NO) and transaction_no != txn.transaction_no:
        raise ApiError(API_NOT_FOUND, "vnp_TransactionNo does not belong to this TxnRef")
    if txn.outcome is not Outcome.SUCCEEDED:
        raise ApiError(API_NOT_SUCCESSFUL, "only a successful payment can be refunded")
    left = txn.refundable_amount
    if left == 0:
        raise ApiError(API_DUPLICATE_REQUEST, "already refunded in full", _REFUND_DUPLICATE_MESSAGE)
    if amount > left:
        raise ApiError(API_BAD_FORMAT, "refund amount exceeds what is left to refund")
    if transaction_type == KIND_FULL_REFUND and amount != left:
        raise ApiError(API_BAD_FORMAT, "a full refund must be for exactly what is left")
    if transaction_type == KIND_PARTIAL_REFUND and amount == left:
        raise ApiError(API_BAD_FORMAT, "a partial refund must be for less than what is left")

    refund = Refund(
        request_id=request_id,
        transaction_no=sim.store.next_transaction_no(),
        transaction_type=transaction_type,
        amount=amount,
        transaction_status="05" if sim.faults.refund_pending else "00",
        order_info=_text(body, "vnp_OrderInfo"),
        create_by=_text(body, "vnp_CreateBy"),
        requested_at=sim.store.clock(),
    )
    txn.refunds.append(refund)
    answer = {
        **_head(COMMAND_REFUND, API_OK),
        "vnp_TmnCode": merchant.tmn_code,
        "vnp_TxnRef": txn.txn_ref,
        "vnp_Amount": wire_amount(amount),
        "vnp_OrderInfo": refund.order_info,
        "vnp_BankCode": txn.bank_code or "",
        "vnp_PayDate": format_vnp_date(refund.requested_at),
        "vnp_TransactionNo": refund.transaction_no,
        "vnp_TransactionType": transaction_type,
        "vnp_TransactionStatus": refund.transaction_status,
    }
    return _signed({k: v for k, v in answer.items() if v != ""}, REFUND_ANSWER_ORDER, merchant.hash_secret)


def _plain_string(value: object) -> str:
    return value if isinstance(value, str) else ""


def answer_request(sim: SimulatorState, raw_body: bytes) -> dict[str, str]:
    try:
        body = json.loads(raw_body)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _error_answer("", None, {}, ApiError(API_BAD_FORMAT, "body is not a JSON object"))
    command = _plain_string(body.get("vnp_Command"))
    merchant = sim.config.merchant(_plain_string(body.get("vnp_TmnCode")))
    if merchant is None:
        return _error_answer(command, None, body, ApiError(API_INVALID_TMN_CODE, "unknown vnp_TmnCode"))
    try:
        if command == COMMAND_QUERYDR:
            order = QUERYDR_REQUEST_ORDER
        elif command == COMMAND_REFUND:
            order = REFUND_REQUEST_ORDER
        else:
            raise ApiError(API_BAD_FORMAT, "vnp_Command must be querydr or refund")
        if not _checksum_ok(body, order, merchant.hash_secret):
            raise ApiError(API_INVALID_CHECKSUM, "vnp_SecureHash does not match")
        _check_common(body)
        if command == COMMAND_REFUND:
            _check_refund_fields(body)
        request_id = _text(body, "vnp_RequestId")
        if not sim.store.claim_request_id(merchant.tmn_code, request_id):
            raise ApiError(API_DUPLICATE_REQUEST, "vnp_RequestId seen within the dedupe window")
        if command == COMMAND_QUERYDR:
            answer = _querydr(sim, merchant, body)
        else:
            answer = _refund(sim, merchant, body, request_id)
    except ApiError as error:
        log.info("api.rejected", command=command, tmn_code=merchant.tmn_code, code=error.code, reason=error.reason)
        return _error_answer(command, merchant, body, error)
    except Exception:
        # VNPay's catch-all; the traceback stays in the simulator's log for whoever broke it.
        log.exception("api.failed", command=command, tmn_code=merchant.tmn_code)
        return _error_answer(command, merchant, body, ApiError(API_OTHER_ERROR, "unexpected error"))
    log.info(
        "api.answered",
        command=command,
        tmn_code=merchant.tmn_code,
        txn_ref=answer.get("vnp_TxnRef"),
        transaction_status=answer.get("vnp_TransactionStatus"),
    )
    return answer


@post(API_PATH, status_code=200)
async def merchant_transaction_api(request: Request) -> Response[Any]:
    sim = simulator_of(request.app.state)
    if sim.faults.take_http_5xx():
        return Response(content="Service Unavailable", status_code=503, media_type="text/plain")
    if sim.faults.api_delay_ms:
        await asyncio.sleep(sim.faults.api_delay_ms / 1000)
    if sim.faults.api_hang:
        await asyncio.sleep(sim.faults.api_hang_seconds)
    raw_body = await request.body()
    return Response(content=answer_request(sim, raw_body), status_code=200, media_type="application/json")


MERCHANT_API_HANDLERS = [merchant_transaction_api]
