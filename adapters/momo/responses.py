"""Pure parsers of what MoMo sends back: the IPN, and the answers of create, query and refund.

MoMo signs its IPN (and the browser's redirect) but no API answer: developers.momo.vn's response tables of
create, query (/v2/gateway/api/query) and refund (/v2/gateway/api/refund) carry no `signature`, and
payments.md 2.2 says the same of create. Those answers come back on the TLS connection the adapter opened to
MoMo's host, and are checked instead for what they must echo: this merchant's partnerCode, the orderId and
the requestId that were sent. An answer about another request is one the adapter cannot read
(ProviderUnavailable): for a refund, the resolver then asks MoMo what became of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from adapters.momo import signing
from adapters.momo.client import PROVIDER, strict_json
from adapters.momo.codes import (
    RETRYABLE_API_CODES,
    SUCCESS,
    describe,
    payment_outcome,
    query_outcome,
    refund_outcome,
)
from adapters.momo.config import MoMoConfig
from adapters.momo.wire import Number, from_millis, from_wire_amount
from contracts.errors import InvalidSignature, ProviderRejected, ProviderUnavailable
from contracts.providers import Checkout, ProviderOutcome, ProviderResult, RefundResult

MAX_NOTIFICATION_BYTES = 16 * 1024
# What the signature of an IPN covers, but accessKey, which is the merchant's and not sent.
SIGNED = tuple(name for name in signing.NOTIFICATION_FIELDS if name != "accessKey")


def _int(value: object) -> int:
    """A code MoMo writes as a JSON integer (some samples as a string of digits)."""
    text = str(value) if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise ValueError(f"MoMo code {value!r} is not an integer")
    return int(text)


def _signed_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _id(value: object) -> str | None:
    text = str(value) if isinstance(value, str) else ""
    return text if text not in ("", "0") else None


def parse_notification(config: MoMoConfig, body: bytes) -> ProviderResult:
    """Verify and read an IPN from its body exactly as received; every value read is one the signature
    covers, and a number is signed as the text it is written in."""
    if len(body) > MAX_NOTIFICATION_BYTES:
        raise InvalidSignature(PROVIDER, "notification too large")
    try:
        message = strict_json(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidSignature(PROVIDER, f"not strict JSON: {exc}") from None
    if not isinstance(message, dict):
        raise InvalidSignature(PROVIDER, "not a JSON object")
    return _read_signed(config, message)


# The fields MoMo writes as JSON numbers; on the browser's redirect they come as query text.
NUMBER_FIELDS = frozenset({"amount", "resultCode", "transId", "responseTime"})


def parse_return(config: MoMoConfig, raw_query: str) -> ProviderResult:
    """Verify and read the browser's redirect: the IPN's fields as a query string, signed the same way."""
    if len(raw_query) > MAX_NOTIFICATION_BYTES:
        raise InvalidSignature(PROVIDER, "return too large")
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise InvalidSignature(PROVIDER, "a field is sent more than once")
    message: dict[str, Any] = {name: Number(value) if name in NUMBER_FIELDS else value for name, value in pairs}
    return _read_signed(config, message)


def _read_signed(config: MoMoConfig, message: dict[str, Any]) -> ProviderResult:
    missing = [name for name in SIGNED if name not in message]
    if missing:
        raise InvalidSignature(PROVIDER, "signed fields missing: " + ", ".join(missing))
    values = {name: message[name] for name in SIGNED}
    # Text and numbers are signed as written; anything else as its JSON text, which no genuine message
    # holds: a signature over it only gets as far as the reading below, which refuses it.
    signed = {name: _signed_text(value) for name, value in values.items()}
    given = message.get("signature")
    expected = signing.sign({"accessKey": config.access_key, **signed}, signing.NOTIFICATION_FIELDS, config.secret_key)
    if not isinstance(given, str) or not given or not signing.constant_time_equal(given, expected):
        raise InvalidSignature(PROVIDER, "signature does not match")
    if any(not isinstance(value, str) for value in values.values()):
        raise ValueError("a signed field is neither text nor a number")
    if values["partnerCode"] != config.partner_code:
        raise InvalidSignature(PROVIDER, "partnerCode is not this merchant's")
    if "accessKey" in message and message["accessKey"] != config.access_key:
        raise InvalidSignature(PROVIDER, "accessKey is not this merchant's")
    result_code = _int(values["resultCode"])
    outcome = payment_outcome(result_code)
    return ProviderResult(
        reference=str(values["orderId"]),
        outcome=outcome,
        amount=from_wire_amount(values["amount"]),
        transaction_id=_id(values["transId"]),
        paid_at=from_millis(values["responseTime"]) if outcome is ProviderOutcome.SUCCEEDED else None,
        message=str(values["message"]) or describe(result_code),
        codes={"resultCode": str(result_code), "payType": str(values["payType"])},
    )


def _api_error(code: int, body: Mapping[str, Any]) -> ProviderUnavailable | ProviderRejected:
    message = f"resultCode {code}: {body.get('message') or describe(code)}"
    codes = {"resultCode": str(code)}
    if code in RETRYABLE_API_CODES:
        return ProviderUnavailable(PROVIDER, message, codes=codes)
    return ProviderRejected(PROVIDER, message, codes=codes)


def _check(config: MoMoConfig, body: Mapping[str, Any], order_id: str, request_id: str) -> int:
    code = _int(body.get("resultCode"))
    if body.get("partnerCode", config.partner_code) != config.partner_code:
        raise ProviderRejected(PROVIDER, "answer for another partnerCode")
    if body.get("orderId", order_id) != order_id:
        raise ProviderRejected(PROVIDER, f"answer for orderId {body.get('orderId')!r}, not {order_id!r}")
    if body.get("requestId", request_id) != request_id:
        raise ProviderUnavailable(PROVIDER, "answer for another requestId than the one sent")
    return code


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_create(config: MoMoConfig, body: Mapping[str, Any], reference: str) -> Checkout:
    code = _check(config, body, reference, reference)  # a create's requestId is its orderId (requests.py)
    if code != SUCCESS:
        raise _api_error(code, body)
    pay_url = _text(body.get("payUrl"))
    if pay_url is None or not pay_url.startswith(("https://", "http://")):
        raise ProviderUnavailable(PROVIDER, "create answered 0 without a payUrl")
    # qrCodeUrl is, despite its name, the text the QR code encodes (a momo:// link), as MoMo gives it.
    return Checkout(url=pay_url, qr_code=_text(body.get("qrCodeUrl")), deeplink=_text(body.get("deeplink")))


def parse_query(config: MoMoConfig, body: Mapping[str, Any], reference: str, request_id: str) -> ProviderResult:
    code = _check(config, body, reference, request_id)
    outcome = query_outcome(code)
    if outcome is None:
        raise _api_error(code, body)
    amount = body.get("amount")
    return ProviderResult(
        reference=reference,
        outcome=outcome,
        amount=from_wire_amount(amount) if outcome is not ProviderOutcome.NOT_FOUND else None,
        transaction_id=_id(body.get("transId")),
        # A query's responseTime is when MoMo answered, not when the citizen paid: the query says nothing
        # of that time.
        paid_at=None,
        message=str(body.get("message") or describe(code)),
        codes={"resultCode": str(code), **({"payType": str(body["payType"])} if body.get("payType") else {})},
    )


def parse_refund(config: MoMoConfig, body: Mapping[str, Any], order_id: str, request_id: str) -> RefundResult:
    code = _check(config, body, order_id, request_id)
    if code in RETRYABLE_API_CODES:
        raise _api_error(code, body)
    return RefundResult(
        request_id=request_id,
        outcome=refund_outcome(code),
        transaction_id=_id(body.get("transId")) if code == SUCCESS else None,
        message=str(body.get("message") or describe(code)),
        codes={"resultCode": str(code)},
    )


def parse_refund_query(
    config: MoMoConfig, body: Mapping[str, Any], reference: str, order_id: str, request_id: str, query_id: str
) -> RefundResult:
    """What a query (sent as `query_id`) of the payment says of one refund: its row in refundTrans, found by
    the refund's own orderId; NOT_FOUND when MoMo lists no such refund."""
    code = _check(config, body, reference, query_id)
    if code in RETRYABLE_API_CODES or query_outcome(code) in (None, ProviderOutcome.NOT_FOUND):
        raise _api_error(code, body)
    rows = body.get("refundTrans") or []
    if not isinstance(rows, list):
        raise ProviderUnavailable(PROVIDER, "refundTrans is not a list")
    mine = [row for row in rows if isinstance(row, dict) and row.get("orderId") == order_id]
    if not mine:
        return RefundResult(request_id=request_id, outcome=ProviderOutcome.NOT_FOUND)
    row = mine[-1]
    row_code = _int(row.get("resultCode"))
    return RefundResult(
        request_id=request_id,
        outcome=refund_outcome(row_code),
        transaction_id=_id(row.get("transId")) if row_code == SUCCESS else None,
        message=describe(row_code),
        codes={"resultCode": str(row_code)},
    )


__all__ = ["Number", "parse_create", "parse_notification", "parse_query", "parse_refund", "parse_refund_query"]
