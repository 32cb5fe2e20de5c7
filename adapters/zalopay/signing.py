"""ZaloPay Open API v2 macs: lowercase hex HMAC-SHA256 over fields joined by '|', in the order each API
documents; key1 for what the merchant sends, key2 for the callback (over its `data` text as received)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

CREATE_FIELDS = ("app_id", "app_trans_id", "app_user", "amount", "app_time", "embed_data", "item")
REFUND_FIELDS = ("app_id", "zp_trans_id", "amount", "description", "timestamp")
QUERY_REFUND_FIELDS = ("app_id", "m_refund_id", "timestamp")


def hmac_sha256(key: str, data: str) -> str:
    return hmac.new(key.encode(), data.encode(), hashlib.sha256).hexdigest()


def pipe_text(body: Mapping[str, object], fields: tuple[str, ...]) -> str:
    return "|".join("" if body.get(name) is None else str(body.get(name)) for name in fields)


def sign(body: Mapping[str, object], fields: tuple[str, ...], key1: str) -> str:
    return hmac_sha256(key1, pipe_text(body, fields))


def query_text(app_id: object, app_trans_id: str, key1: str) -> str:
    # The query's mac signs key1 itself as its last field, as ZaloPay documents.
    return f"{app_id}|{app_trans_id}|{key1}"


def query_mac(app_id: object, app_trans_id: str, key1: str) -> str:
    return hmac_sha256(key1, query_text(app_id, app_trans_id, key1))


def constant_time_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.lower().encode(), expected.lower().encode())


def callback_is_signed(data: str, mac: str, key2: str) -> bool:
    return bool(mac) and constant_time_equal(mac, hmac_sha256(key2, data))
