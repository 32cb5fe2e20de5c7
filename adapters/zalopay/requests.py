"""Pure builders of what the gateway sends ZaloPay: the form fields of each Open API v2 call, signed."""

from __future__ import annotations

import json
from datetime import datetime

from adapters.zalopay import signing
from adapters.zalopay.config import ZaloPayConfig
from adapters.zalopay.wire import MAX_DESCRIPTION, MAX_TRANS_ID, refund_id, to_millis
from contracts.providers import CheckoutOrder, RefundOrder, TransactionRef

# expire_duration_seconds: ZaloPay takes 300 s to 30 days.
MIN_EXPIRY_SECONDS = 300
MAX_EXPIRY_SECONDS = 2_592_000


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def create_body(config: ZaloPayConfig, order: CheckoutOrder) -> dict[str, str]:
    """/v2/create's fields. The browser comes back to embed_data.redirecturl; the callback goes to
    callback_url, both as ZaloPay documents them per order."""
    if len(order.reference) > MAX_TRANS_ID:
        raise ValueError(f"app_trans_id is at most {MAX_TRANS_ID} characters")
    lifetime = int((order.expires_at - order.created_at).total_seconds())
    body = {
        "app_id": str(config.app_id),
        "app_user": config.app_user,
        "app_trans_id": order.reference,
        "app_time": str(to_millis(order.created_at)),
        "expire_duration_seconds": str(min(max(lifetime, MIN_EXPIRY_SECONDS), MAX_EXPIRY_SECONDS)),
        "amount": str(order.amount),
        "item": "[]",
        "description": order.description[:MAX_DESCRIPTION],
        "embed_data": _compact({"redirecturl": order.return_url}),
        "bank_code": "",
    }
    if order.notify_url:
        body["callback_url"] = order.notify_url
    body["mac"] = signing.sign(body, signing.CREATE_FIELDS, config.key1)
    return body


def query_body(config: ZaloPayConfig, ref: TransactionRef) -> dict[str, str]:
    return {
        "app_id": str(config.app_id),
        "app_trans_id": ref.reference,
        "mac": signing.query_mac(config.app_id, ref.reference, config.key1),
    }


def refund_body(config: ZaloPayConfig, order: RefundOrder, now: datetime) -> dict[str, str]:
    if not order.payment.transaction_id:
        raise ValueError("a ZaloPay refund names the payment's zp_trans_id, and this payment has none")
    body = {
        "app_id": str(config.app_id),
        "m_refund_id": refund_id(config.app_id, order.requested_at, order.request_id),
        "zp_trans_id": order.payment.transaction_id,
        "amount": str(order.amount),
        "timestamp": str(to_millis(now)),
        "description": (order.reason or f"Hoan tien {order.payment.reference}")[:MAX_DESCRIPTION],
    }
    body["mac"] = signing.sign(body, signing.REFUND_FIELDS, config.key1)
    return body


def query_refund_body(config: ZaloPayConfig, request_id: str, sent_at: datetime, now: datetime) -> dict[str, str]:
    body = {
        "app_id": str(config.app_id),
        "m_refund_id": refund_id(config.app_id, sent_at, request_id),
        "timestamp": str(to_millis(now)),
    }
    body["mac"] = signing.sign(body, signing.QUERY_REFUND_FIELDS, config.key1)
    return body
