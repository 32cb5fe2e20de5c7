"""MoMo's signature, written apart from the adapter's: hex HMAC-SHA256(secretKey) over `k=v` pairs in a
fixed alphabetical order joined by `&`, with the partner's accessKey as the first pair."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

CREATE = [
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
]
QUERY = ["accessKey", "orderId", "partnerCode", "requestId"]
REFUND = ["accessKey", "amount", "description", "orderId", "partnerCode", "requestId", "transId"]
NOTIFICATION = [
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
]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):  # no MoMo field is a boolean; never sign one as "True"
        return "true" if value else "false"
    return str(value)


def signature(values: Mapping[str, object], names: list[str], access_key: str, secret_key: str) -> str:
    raw = "&".join(f"{name}={access_key if name == 'accessKey' else _text(values.get(name))}" for name in names)
    return hmac.new(secret_key.encode(), raw.encode(), hashlib.sha256).hexdigest()


def verify(values: Mapping[str, object], names: list[str], access_key: str, secret_key: str) -> bool:
    given = values.get("signature")
    if not isinstance(given, str):
        return False
    expected = signature(values, names, access_key, secret_key)
    return hmac.compare_digest(given.lower().encode(), expected.encode())
