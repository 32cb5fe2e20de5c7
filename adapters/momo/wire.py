"""MoMo's wire formats: amounts are JSON integers of đồng, times milliseconds since the epoch, order ids
of at most 50 characters of [0-9a-zA-Z_.:-]."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

# MoMo's amount is a Long; no payment is near 15 digits of đồng, and past 19 it is not a Long at all.
AMOUNT_DIGITS = 15
# captureWallet takes 1,000 to 50,000,000 đồng a payment.
MIN_AMOUNT = 1_000
MAX_AMOUNT = 50_000_000

ORDER_ID = re.compile(r"[0-9a-zA-Z_.:-]{1,50}")


class Number(str):
    """A JSON number as written in the message: MoMo signs its text, so it is kept, not converted."""

    __slots__ = ()


def from_wire_amount(wire: object) -> int:
    """Đồng from a JSON amount. Only an integer as JSON writes it (no sign, fraction, exponent or
    quotes) is read; int() alone would take "35000.0", " 1", "+1", other scripts' digits, True."""
    if not isinstance(wire, Number):
        raise ValueError(f"MoMo amount {wire!r} is not a JSON number")
    text = str(wire)
    if not (text.isascii() and text.isdigit()) or len(text) > AMOUNT_DIGITS:
        raise ValueError(f"MoMo amount {text!r} is not an integer of at most {AMOUNT_DIGITS} digits")
    return int(text)


def from_millis(wire: object) -> datetime:
    text = str(wire)
    if not (text.isascii() and text.isdigit()) or len(text) > 15:
        raise ValueError(f"MoMo time {text!r} is not milliseconds since the epoch")
    return datetime.fromtimestamp(int(text) / 1000, tz=UTC)


def plain_text(text: str, limit: int) -> str:
    """Text without diacritics or characters some of MoMo's app screens mangle."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9 .,:_\-/()]", " ", text)
    return re.sub(r"\s+", " ", text).strip()[:limit]
