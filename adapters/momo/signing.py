"""MoMo's signature: lowercase hex HMAC-SHA256 with the secret key over `key=value` pairs joined by `&`, in
a fixed (alphabetical) order per message, values raw (not URL-encoded), `accessKey` first although it is
not a field of the body."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

CREATE_REQUEST_FIELDS = (
    "accessKey",
    "amount",
    "extraData",
    "ipnUrl",
    "orderId",
    "orderInfo",
    "partnerCode",
    "redirectUrl",
    "requestId",
    "requestType",
)
NOTIFICATION_FIELDS = (
    "accessKey",
    "amount",
    "extraData",
    "message",
    "orderId",
    "orderInfo",
    "orderType",
    "partnerCode",
    "payType",
    "requestId",
    "responseTime",
    "resultCode",
    "transId",
)
QUERY_REQUEST_FIELDS = ("accessKey", "orderId", "partnerCode", "requestId")
REFUND_REQUEST_FIELDS = (
    "accessKey",
    "amount",
    "description",
    "orderId",
    "partnerCode",
    "requestId",
    "transId",
)


def raw_signature(values: Mapping[str, object], fields: Iterable[str]) -> str:
    """The text MoMo signs: `k=v&…` over `fields` in order, a missing value as ''."""
    return "&".join(f"{name}={'' if values.get(name) is None else values[name]}" for name in fields)


def hmac_sha256(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def sign(values: Mapping[str, object], fields: Iterable[str], secret: str) -> str:
    return hmac_sha256(secret, raw_signature(values, fields))


def constant_time_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.lower().encode(), expected.lower().encode())
