"""What the adapter sends payOS."""

from __future__ import annotations

import unicodedata
from typing import Any

from adapters.payos import signing
from adapters.payos.config import PayOSConfig
from adapters.payos.wire import MAX_DESCRIPTION, order_code
from contracts.providers import CheckoutOrder


def description(text: str) -> str:
    """At most 25 characters, without diacritics: the description becomes the bank transfer's content,
    which banks carry in ASCII. A longer one loses words from its start, keeping what tells this payment
    apart (the dossier code ends the gateway's descriptions)."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    words = "".join(c for c in folded if c.isascii() and (c.isalnum() or c.isspace())).split()
    while words and len(" ".join(words)) > MAX_DESCRIPTION:
        words = words[1:] if len(words) > 1 else [words[0][-MAX_DESCRIPTION:]]
    return " ".join(words) or "Thanh toan DVC"


def create_body(config: PayOSConfig, order: CheckoutOrder) -> dict[str, Any]:
    body: dict[str, Any] = {
        "orderCode": order_code(order.reference),
        "amount": order.amount,
        "description": description(order.description),
        "cancelUrl": order.return_url,
        "returnUrl": order.return_url,
        "expiredAt": int(order.expires_at.timestamp()),
    }
    body["signature"] = signing.sign_payment_request(body, config.checksum_key)
    return body


def cancel_body(config: PayOSConfig, reason: str) -> dict[str, Any]:
    body: dict[str, Any] = {"cancellationReason": reason[:255]}
    body["signature"] = signing.sign_data(body, config.checksum_key)
    return body
