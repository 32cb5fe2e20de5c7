"""payOS's signatures: hex HMAC-SHA256 with the checksum key over `k=v` pairs joined by `&`.

A payment request signs five named fields in a fixed order; everything payOS sends (API answers' `data`,
webhooks' `data`) is signed over all of its fields, sorted by name, each value written as payOS's SDK
writes it (payos 1.1.0, payos/_crypto/provider.py): null, "null" and "undefined" as nothing, booleans as
JSON, lists as compact JSON with each object's keys sorted, anything else as str().
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

PAYMENT_REQUEST_FIELDS = ("amount", "cancelUrl", "description", "orderCode", "returnUrl")


class Unsignable(ValueError):
    """A value payOS's scheme does not write (a nested object): never signed, never believed."""


def value_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        items = [dict(sorted(item.items())) if isinstance(item, dict) else item for item in value]
        return json.dumps(items, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, dict):
        raise Unsignable("a nested object has no signed form")
    if value in ("undefined", "null"):
        return ""
    return str(value)


def data_text(data: Mapping[str, object]) -> str:
    return "&".join(f"{name}={value_text(data[name])}" for name in sorted(data))


def payment_request_text(data: Mapping[str, object]) -> str:
    return "&".join(f"{name}={value_text(data[name])}" for name in PAYMENT_REQUEST_FIELDS)


def hmac_hex(text: str, key: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def sign_data(data: Mapping[str, object], key: str) -> str:
    return hmac_hex(data_text(data), key)


def sign_payment_request(data: Mapping[str, object], key: str) -> str:
    return hmac_hex(payment_request_text(data), key)


def data_is_signed(data: Mapping[str, object], signature: object, key: str) -> bool:
    if not isinstance(signature, str) or len(signature) != 64:
        return False
    try:
        expected = sign_data(data, key)
    except Unsignable:
        return False
    return hmac.compare_digest(expected, signature.lower()) and signature == signature.lower()
