"""Pure parsers of what VNPay sends back: IPN/return parameters and merchant API answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.vnpay import signing
from adapters.vnpay.codes import (
    API_RESPONSE_CODES,
    REFUND_TRANSACTION_TYPES,
    RETRYABLE_API_CODES,
    TRANSACTION_TYPE_PAYMENT,
    describe_payment,
    payment_outcome,
    query_outcome,
    refund_outcome,
    refund_query_outcome,
)
from adapters.vnpay.config import VNPayConfig
from adapters.vnpay.wire import from_wire_amount, parse_time
from contracts.errors import InvalidSignature, ProviderRejected, ProviderUnavailable
from contracts.providers import ProviderOutcome, ProviderResult, RefundResult

PROVIDER = "vnpay"
NOTIFICATION_CODE_FIELDS = ("vnp_ResponseCode", "vnp_TransactionStatus", "vnp_BankCode", "vnp_CardType")


def _codes(source: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, str]:
    return {f: str(source[f]) for f in fields if source.get(f) not in (None, "")}


# What every IPN and return URL carries (a failed payment's vnp_TransactionNo is "0"). The payment URL the
# gateway builds is signed with the same secret but holds none of the outcome fields, and carries fields
# only a request has: sent back, it is not a notification.
NOTIFICATION_FIELDS = (
    "vnp_Amount",
    "vnp_PayDate",
    "vnp_ResponseCode",
    "vnp_TmnCode",
    "vnp_TransactionNo",
    "vnp_TransactionStatus",
    "vnp_TxnRef",
)
REQUEST_ONLY_FIELDS = ("vnp_Command", "vnp_ReturnUrl", "vnp_CreateDate", "vnp_IpAddr")


def parse_notification(config: VNPayConfig, raw_query: str) -> ProviderResult:
    """Verify and read an IPN or a return URL from its query string exactly as received.

    Every value read comes from the fields the signature covers (signing.verified_fields).
    """
    try:
        params = signing.verified_fields(raw_query, config.hash_secret)
    except signing.QueryRefused as exc:
        raise InvalidSignature(PROVIDER, str(exc)) from None
    if params.get("vnp_TmnCode") != config.tmn_code:
        raise InvalidSignature(PROVIDER, "vnp_TmnCode is not this merchant's")
    missing = [name for name in NOTIFICATION_FIELDS if name not in params]
    if missing or any(name in params for name in REQUEST_ONLY_FIELDS):
        raise InvalidSignature(PROVIDER, "signed, but not a notification: " + (", ".join(missing) or "request fields"))
    response_code = params["vnp_ResponseCode"]
    outcome = payment_outcome(response_code, params["vnp_TransactionStatus"])
    transaction_no = params["vnp_TransactionNo"]
    return ProviderResult(
        reference=params["vnp_TxnRef"],
        outcome=outcome,
        amount=from_wire_amount(params["vnp_Amount"]),
        transaction_id=transaction_no if transaction_no != "0" else None,
        paid_at=parse_time(params["vnp_PayDate"]) if outcome is ProviderOutcome.SUCCEEDED else None,
        message=describe_payment(response_code),
        codes=_codes(params, NOTIFICATION_CODE_FIELDS),
    )


def _check_api_answer(config: VNPayConfig, body: Mapping[str, Any], fields: tuple[str, ...]) -> str:
    code = str(body.get("vnp_ResponseCode", ""))
    given = str(body.get("vnp_SecureHash", ""))
    expected = signing.pipe_checksum(body, fields, config.hash_secret)
    if not signing.constant_time_equal(given, expected):
        raise InvalidSignature(PROVIDER, f"answer to {body.get('vnp_Command')} carries a bad checksum")
    return code


def _api_error(code: str, body: Mapping[str, Any]) -> Exception:
    message = str(body.get("vnp_Message") or API_RESPONSE_CODES.get(code, "unknown response"))
    codes = {"vnp_ResponseCode": code}
    if code in RETRYABLE_API_CODES:
        return ProviderUnavailable(PROVIDER, message, codes=codes)
    return ProviderRejected(PROVIDER, message, codes=codes)


def parse_querydr_response(config: VNPayConfig, body: Mapping[str, Any], reference: str) -> ProviderResult:
    code = _check_api_answer(config, body, signing.QUERYDR_RESPONSE_FIELDS)
    status = str(body.get("vnp_TransactionStatus", ""))
    refunded = str(body.get("vnp_TransactionType", "")) in REFUND_TRANSACTION_TYPES
    # A refunded transaction reports its latest refund (parse_refund_query): the payment itself succeeded.
    outcome = query_outcome(code, "00" if refunded and code == "00" else status)
    if outcome is None:
        raise _api_error(code, body)
    if outcome is not ProviderOutcome.NOT_FOUND and body.get("vnp_TxnRef") != reference:
        raise ProviderRejected(PROVIDER, f"querydr answered for {body.get('vnp_TxnRef')!r}, not {reference!r}")
    amount = body.get("vnp_Amount")
    pay_date = body.get("vnp_PayDate")
    transaction_no = None if refunded else body.get("vnp_TransactionNo")
    return ProviderResult(
        reference=reference,
        outcome=outcome,
        amount=from_wire_amount(amount) if amount not in (None, "") else None,
        transaction_id=str(transaction_no) if transaction_no not in (None, "", "0") else None,
        paid_at=parse_time(str(pay_date)) if pay_date and outcome is ProviderOutcome.SUCCEEDED else None,
        message=str(body.get("vnp_Message", "")),
        codes=_codes(body, ("vnp_ResponseCode", "vnp_TransactionStatus", "vnp_TransactionType", "vnp_BankCode")),
    )


def parse_refund_response(config: VNPayConfig, body: Mapping[str, Any], request_id: str) -> RefundResult:
    code = _check_api_answer(config, body, signing.REFUND_RESPONSE_FIELDS)
    status = str(body.get("vnp_TransactionStatus", ""))
    codes = _codes(body, ("vnp_ResponseCode", "vnp_TransactionStatus", "vnp_TransactionType"))
    if code in RETRYABLE_API_CODES:
        raise _api_error(code, body)
    transaction_no = body.get("vnp_TransactionNo")
    return RefundResult(
        request_id=request_id,
        outcome=refund_outcome(code, status),
        transaction_id=str(transaction_no) if transaction_no not in (None, "", "0") else None,
        message=str(body.get("vnp_Message") or API_RESPONSE_CODES.get(code, "")),
        codes=codes,
    )


def parse_refund_query(config: VNPayConfig, body: Mapping[str, Any], reference: str) -> RefundResult | None:
    """What a querydr answer says of the transaction's latest refund; None when it reports the payment
    itself (vnp_TransactionType 01: VNPay has made no refund of it).

    VNPay has no query of one refund: querydr reports the transaction as it last changed, a refund
    with its type (02 whole, 03 part), its own vnp_TransactionNo and vnp_TransactionStatus (05, 06 in
    flight; 09 refused). An answer this parser cannot place raises, so the caller asks again later.
    """
    code = _check_api_answer(config, body, signing.QUERYDR_RESPONSE_FIELDS)
    if code != "00":
        raise _api_error(code, body)
    if body.get("vnp_TxnRef") != reference:
        raise ProviderRejected(PROVIDER, f"querydr answered for {body.get('vnp_TxnRef')!r}, not {reference!r}")
    kind = str(body.get("vnp_TransactionType", ""))
    if kind == TRANSACTION_TYPE_PAYMENT:
        return None
    status = str(body.get("vnp_TransactionStatus", ""))
    outcome = refund_query_outcome(status) if kind in REFUND_TRANSACTION_TYPES else None
    if outcome is None:
        raise ProviderUnavailable(PROVIDER, f"querydr reports transaction type {kind!r} with status {status!r}")
    transaction_no = body.get("vnp_TransactionNo")
    return RefundResult(
        request_id="",
        outcome=outcome,
        transaction_id=str(transaction_no) if transaction_no not in (None, "", "0") else None,
        message=str(body.get("vnp_Message", "")),
        codes=_codes(body, ("vnp_ResponseCode", "vnp_TransactionStatus", "vnp_TransactionType")),
    )
