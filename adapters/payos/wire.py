"""How payOS writes amounts, order codes and times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

GMT7 = timezone(timedelta(hours=7))
MAX_ORDER_CODE = 9_007_199_254_740_991  # 2**53 - 1: JavaScript's largest safe integer, payOS's bound
# The most a VietQR amount (EMVCo field 54, at most 13 characters) can carry in whole VND; payOS publishes
# no lower cap for bank transfers.
MAX_AMOUNT = 9_999_999_999_999
MAX_DESCRIPTION = 25  # a payment link's description on an account not linked through payOS


def read_int(value: object, name: str, *, low: int = 1, high: int = MAX_AMOUNT) -> int:
    """An integer payOS wrote as a JSON integer within [low, high]; anything else is refused."""
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"{name} is not an integer in [{low}, {high}]")
    return value


def order_code(reference: str) -> int:
    if not reference.isascii() or not reference.isdigit():
        raise ValueError("a payOS reference is a decimal orderCode")
    return read_int(int(reference), "orderCode", high=MAX_ORDER_CODE)


def parse_time(value: object) -> datetime:
    """payOS writes `2023-02-04 18:25:00` (GMT+7) in webhooks and ISO 8601 with an offset in API answers."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("a payOS time is a short string")
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=GMT7) if parsed.tzinfo is None else parsed
