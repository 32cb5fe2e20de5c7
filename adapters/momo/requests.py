"""Pure builders of what the gateway sends MoMo: the create, query and refund bodies, signed."""

from __future__ import annotations

from typing import Any

from adapters.momo import signing
from adapters.momo.config import MoMoConfig
from adapters.momo.wire import ORDER_ID, plain_text
from contracts.errors import ProviderRejected
from contracts.providers import CheckoutOrder, RefundOrder

CREATE_PATH = "/v2/gateway/api/create"
QUERY_PATH = "/v2/gateway/api/query"
REFUND_PATH = "/v2/gateway/api/refund"
MAX_EXPIRE_MINUTES = 43_200  # 30 days: a bound of ours (MoMo states none that was found)


def _signed(config: MoMoConfig, body: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    # Numbers go out as JSON numbers and are signed as their text, which is what str() of an int gives.
    body["signature"] = signing.sign({"accessKey": config.access_key, **body}, fields, config.secret_key)
    return body


def expire_minutes(order: CheckoutOrder) -> int:
    """orderExpireTime: how many whole minutes MoMo keeps the payment link open, rounded up so the link
    never lapses before the gateway's own deadline (expires_at). UNVERIFIED: payments.md does not list the
    field; MoMo's create pages (developers.momo.vn v3) are read as taking it in minutes, outside the
    signature, and one integration seen sends an epoch in ms instead."""
    seconds = (order.expires_at - order.created_at).total_seconds()
    return max(1, min(MAX_EXPIRE_MINUTES, -(-int(seconds) // 60)))


def create_body(config: MoMoConfig, order: CheckoutOrder) -> dict[str, Any]:
    body: dict[str, Any] = {
        "partnerCode": config.partner_code,
        # MoMo answers a requestId it has settled with the same answer, so the order's own id serves.
        "requestId": order.reference,
        "amount": order.amount,
        "orderId": order.reference,
        "orderInfo": plain_text(order.description, 200),
        "redirectUrl": order.return_url,
        "ipnUrl": order.notify_url,
        "requestType": config.request_type,
        "extraData": "",
        "lang": "en" if order.locale == "en" else config.lang,
        "orderExpireTime": expire_minutes(order),  # not signed: not in the create's signature fields
    }
    return _signed(config, body, signing.CREATE_REQUEST_FIELDS)


def query_body(config: MoMoConfig, reference: str, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "partnerCode": config.partner_code,
        "requestId": request_id,
        "orderId": reference,
        "lang": config.lang,
    }
    return _signed(config, body, signing.QUERY_REQUEST_FIELDS)


def refund_order_id(request_id: str) -> str:
    """A refund is an order of its own at MoMo, with an orderId no other order has: the refund's request
    id (unique for the gateway, and of another form than a payment's reference)."""
    if not ORDER_ID.fullmatch(request_id):
        raise ProviderRejected("momo", "the refund's request id is not a MoMo orderId")
    return request_id


def refund_body(config: MoMoConfig, order: RefundOrder) -> dict[str, Any]:
    trans_id = order.payment.transaction_id
    if not trans_id or not (trans_id.isascii() and trans_id.isdigit()):
        raise ProviderRejected("momo", "MoMo refunds a payment by its transId, and this payment has none")
    body: dict[str, Any] = {
        "partnerCode": config.partner_code,
        "orderId": refund_order_id(order.request_id),
        "requestId": order.request_id,
        "amount": order.amount,
        "transId": int(trans_id),
        "lang": config.lang,
        "description": plain_text(order.reason or f"Hoan tien {order.payment.reference}", 200),
    }
    return _signed(config, body, signing.REFUND_REQUEST_FIELDS)
