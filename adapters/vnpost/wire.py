"""MyVNPost's wire formats: times "dd/MM/yyyy HH:mm:ss" in Vietnam's time (GMT+7), money JSON numbers of
đồng kept as the text they are written in, S10 item numbers."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

VIETNAM = timezone(timedelta(hours=7), "GMT+7")
TIME_FORMAT = "%d/%m/%Y %H:%M:%S"
TIME = re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}")
MAX_MONEY = 10**12  # no fee or COD amount is near a thousand billion đồng
S10 = re.compile(r"[A-Z]{2}\d{9}[A-Z]{2}")
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


class Number(str):
    """A JSON number as written: read into đồng without passing through a float."""

    __slots__ = ()


def parse_time(text: object) -> datetime:
    if not isinstance(text, str) or not TIME.fullmatch(text):
        raise ValueError(f"VNPost time {text!r} is not dd/MM/yyyy HH:mm:ss")
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=VIETNAM)


def format_time(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).strftime(TIME_FORMAT)


def money(value: object) -> int:
    """Đồng from a JSON number (22000 or 22000.0); a fraction of a đồng, a sign or a string is refused."""
    if not isinstance(value, Number):
        raise ValueError(f"VNPost amount {value!r} is not a JSON number")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"VNPost amount {value!r} is not a number") from None
    if amount != amount.to_integral_value() or not 0 <= amount < MAX_MONEY:
        raise ValueError(f"VNPost amount {value!r} is not a whole number of đồng")
    return int(amount)


def s10_check_digit(serial: str) -> int:
    """UPU S10 check digit of an 8-digit serial (postal.md §3.1)."""
    remainder = 11 - sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(remainder, remainder)


def is_valid_s10(item_number: str) -> bool:
    """Well formed and check digit right. A carrier's number that fails is kept, not refused: the
    carrier's number is the truth, and its own samples are not always check-valid (§3.1)."""
    if not S10.fullmatch(item_number):
        return False
    return s10_check_digit(item_number[2:10]) == int(item_number[10])
