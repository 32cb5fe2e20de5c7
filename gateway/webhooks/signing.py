"""Standard Webhooks signatures (https://www.standardwebhooks.com): any SW library verifies them."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

TOLERANCE_SECONDS = 300


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, msg_id: str, timestamp: int, payload: str) -> str:
    content = f"{msg_id}.{timestamp}.{payload}".encode()
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, msg_id: str, sent_at: datetime, payload: str) -> dict[str, str]:
    timestamp = int(sent_at.timestamp())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, payload),
        "content-type": "application/json",
    }


def verify(secret: str, received: dict[str, str], payload: str, now: datetime) -> bool:
    """What a receiver does: timestamp within tolerance, any of the space-separated signatures matching."""
    try:
        timestamp = int(received["webhook-timestamp"])
        msg_id = received["webhook-id"]
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = sign(secret, msg_id, timestamp, payload).encode()
    return any(
        hmac.compare_digest(candidate.encode(), expected) for candidate in received.get("webhook-signature", "").split()
    )
