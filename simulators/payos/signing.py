"""payOS's signatures, as the simulator writes them (its own code: it imports nothing from adapters/).

Data is signed over every field sorted by name, `k=v` joined by `&`: null as nothing, lists as compact JSON
with each object's keys sorted, everything else as itself. A payment request signs five fields in order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(
            [{k: v[k] for k in sorted(v)} if isinstance(v, dict) else v for v in value],
            separators=(",", ":"),
            ensure_ascii=False,
        )
    return str(value)


def _hmac(text: str, key: str) -> str:
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def sign(data: Mapping[str, Any], key: str) -> str:
    return _hmac("&".join(f"{k}={_text(data[k])}" for k in sorted(data)), key)


def sign_payment_request(body: Mapping[str, Any], key: str) -> str:
    names = ("amount", "cancelUrl", "description", "orderCode", "returnUrl")
    return _hmac("&".join(f"{k}={_text(body.get(k))}" for k in names), key)


def same(signature: object, expected: str) -> bool:
    return isinstance(signature, str) and hmac.compare_digest(signature, expected)
