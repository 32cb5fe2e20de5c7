"""Pure parsers of what ZaloPay sends back: the callback and the Open API v2 answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from adapters.http import strict_json
from adapters.zalopay import signing
from adapters.zalopay.codes import RETURN_CODES, CallError, check_call, payment_outcome, refund_outcome
from adapters.zalopay.config import ZaloPayConfig
from adapters.zalopay.wire import MAX_TRANS_ID, from_millis, read_amount, read_integer
from contracts.errors import InvalidSignature, ProviderRejected, ProviderUnavailable
from contracts.providers import Checkout, ProviderOutcome, ProviderResult, RefundResult

PROVIDER = "zalopay"
MAX_CALLBACK_BYTES = 16_384  # data is a few hundred bytes; embed_data and item at most 1024 and 2048
# What every order callback's data carries (ZaloPay's callback spec).
CALLBACK_FIELDS = (
    "app_id",
    "app_trans_id",
    "app_time",
    "app_user",
    "amount",
    "embed_data",
    "item",
    "zp_trans_id",
    "server_time",
    "channel",
    "merchant_user_id",
    "user_fee_amount",
    "discount_amount",
)


def parse_callback(config: ZaloPayConfig, body: bytes) -> ProviderResult:
    """Verify and read a callback: `{"data": "<json text>", "mac": "...", "type": 1}`.

    The mac signs `data` as the text it is; every value returned is read from that text and nothing else
    (`type` is not signed and is not read).
    """
    if len(body) > MAX_CALLBACK_BYTES:
        raise InvalidSignature(PROVIDER, "callback too large")
    try:
        envelope = strict_json(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidSignature(PROVIDER, "callback body is not a JSON object") from None
    if not isinstance(envelope, dict):
        raise InvalidSignature(PROVIDER, "callback body is not a JSON object")
    data, mac = envelope.get("data"), envelope.get("mac")
    if not isinstance(data, str) or not isinstance(mac, str):
        raise InvalidSignature(PROVIDER, "callback has no data text or no mac")
    if not signing.callback_is_signed(data, mac, config.key2):
        raise InvalidSignature(PROVIDER, "mac does not match")
    # Signed by ZaloPay yet unreadable (a number no JSON parser agrees on, a key twice): ValueError, never a
    # guess at what was meant.
    fields = strict_json(data)
    if not isinstance(fields, dict):
        raise InvalidSignature(PROVIDER, "signed, but data is not a JSON object")
    missing = [name for name in CALLBACK_FIELDS if name not in fields]
    if missing:
        raise InvalidSignature(PROVIDER, "signed, but not an order callback: " + ", ".join(missing))
    if fields["app_id"] != config.app_id or isinstance(fields["app_id"], bool):
        raise InvalidSignature(PROVIDER, "app_id is not this merchant's")
    reference = fields["app_trans_id"]
    if not isinstance(reference, str) or not 0 < len(reference) <= MAX_TRANS_ID:
        raise InvalidSignature(PROVIDER, "signed, but app_trans_id is not one of ZaloPay's")
    zp_trans_id = read_integer(fields["zp_trans_id"], "zp_trans_id", digits=19)
    # ZaloPay calls back only for a paid order.
    return ProviderResult(
        reference=reference,
        outcome=ProviderOutcome.SUCCEEDED,
        amount=read_amount(fields["amount"]),
        transaction_id=str(zp_trans_id),
        paid_at=from_millis(fields["server_time"]),
        message=RETURN_CODES[1],
        codes={"channel": str(fields["channel"])[:16]},
    )


REDIRECT_FIELDS = ("appid", "apptransid", "pmcid", "bankcode", "amount", "discountamount", "status")


def parse_redirect(config: ZaloPayConfig, raw_query: str) -> ProviderResult:
    """The citizen's browser back from ZaloPay's page: its fields signed with key2 as `checksum`.

    ZaloPay calls it informational: it names the order and nothing more is believed of it, so it reads as
    PENDING whatever its status says; the callback or a query decides.
    """
    if len(raw_query) > 2048:
        raise InvalidSignature(PROVIDER, "redirect query too long")
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    params = dict(pairs)
    if len(params) != len(pairs):
        raise InvalidSignature(PROVIDER, "a field is sent more than once")
    text = "|".join(params.get(name, "") for name in REDIRECT_FIELDS)
    if any(name not in params for name in REDIRECT_FIELDS) or not signing.callback_is_signed(
        text, params.get("checksum", ""), config.key2
    ):
        raise InvalidSignature(PROVIDER, "checksum does not match")
    if params["appid"] != str(config.app_id) or not 0 < len(params["apptransid"]) <= MAX_TRANS_ID:
        raise InvalidSignature(PROVIDER, "appid is not this merchant's")
    amount = params["amount"]
    if not (amount.isascii() and amount.isdigit()) or len(amount) > 15:
        raise ValueError(f"ZaloPay amount {amount!r} is not a number")
    return ProviderResult(
        reference=params["apptransid"],
        outcome=ProviderOutcome.PENDING,
        amount=int(amount),
        message="browser return",
        codes={"status": params["status"]},
    )


def _code(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _codes(body: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(body[name]) for name in ("return_code", "sub_return_code") if body.get(name) is not None}


def _checked(body: Mapping[str, Any], what: str) -> int:
    """return_code of an answer that reports on the order; raises when it reports a failure of the call."""
    code = _code(body, "return_code")
    message = f"{what}: {body.get('return_message', '')} {body.get('sub_return_message', '')}".strip()
    if code is None:
        raise ProviderUnavailable(PROVIDER, f"{what} answered without a return_code", codes=_codes(body))
    try:
        check_call(code, _code(body, "sub_return_code"))
    except CallError as exc:
        error = ProviderUnavailable if exc.unavailable else ProviderRejected
        raise error(PROVIDER, message, codes=_codes(body)) from None
    return code


def _message(body: Mapping[str, Any]) -> str:
    return str(body.get("sub_return_message") or body.get("return_message") or "")


def parse_create_response(body: Mapping[str, Any]) -> Checkout:
    code = _checked(body, "create")
    if code != 1:
        raise ProviderRejected(PROVIDER, f"create refused: {_message(body)}", codes=_codes(body))
    order_url, token = body.get("order_url"), body.get("zp_trans_token")
    if not isinstance(order_url, str) or not order_url.startswith(("https://", "http://")):
        raise ProviderUnavailable(PROVIDER, "create answered without an order_url", codes=_codes(body))
    qr_code = body.get("qr_code")
    return Checkout(
        url=order_url,
        qr_code=qr_code if isinstance(qr_code, str) and qr_code else None,
        provider_order_id=token if isinstance(token, str) and token else None,
    )


def parse_query_response(body: Mapping[str, Any], reference: str) -> ProviderResult:
    code = _checked(body, "query")
    outcome = payment_outcome(code)
    paid = outcome is ProviderOutcome.SUCCEEDED
    amount = body.get("amount")
    zp_trans_id = body.get("zp_trans_id")
    server_time = body.get("server_time")
    return ProviderResult(
        reference=reference,
        outcome=outcome,
        amount=read_amount(amount) if paid or amount not in (None, 0) else None,
        transaction_id=str(read_integer(zp_trans_id, "zp_trans_id", 19)) if paid and zp_trans_id else None,
        paid_at=from_millis(server_time) if paid and server_time else None,
        message=_message(body),
        codes=_codes(body),
    )


def parse_refund_response(body: Mapping[str, Any], request_id: str) -> RefundResult:
    code = _checked(body, "refund")
    refund = body.get("refund_id")
    return RefundResult(
        request_id=request_id,
        outcome=refund_outcome(code),
        transaction_id=str(refund) if refund not in (None, "", 0) else None,
        message=_message(body),
        codes=_codes(body),
    )
