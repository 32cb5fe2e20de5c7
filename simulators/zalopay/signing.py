"""ZaloPay's macs, written for the simulator alone: lowercase hex HMAC-SHA256 over '|'-joined fields."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

CREATE = ("app_id", "app_trans_id", "app_user", "amount", "app_time", "embed_data", "item")
REFUND = ("app_id", "zp_trans_id", "amount", "description", "timestamp")
QUERY_REFUND = ("app_id", "m_refund_id", "timestamp")
REDIRECT = ("appid", "apptransid", "pmcid", "bankcode", "amount", "discountamount", "status")


def mac(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def joined(params: Mapping[str, str], names: tuple[str, ...]) -> str:
    return "|".join(params.get(name, "") for name in names)


def matches(given: str, key: str, text: str) -> bool:
    return bool(given) and hmac.compare_digest(given.lower().encode(), mac(key, text).encode())
