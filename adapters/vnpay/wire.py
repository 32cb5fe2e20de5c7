"""VNPay's wire formats: yyyyMMddHHmmss in GMT+7, amounts ×100, text without diacritics."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TIME_FORMAT = "%Y%m%d%H%M%S"


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("VNPay times need an aware datetime")
    return moment.astimezone(VN_TZ).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    # By hand: strptime costs a tenth of an IPN's parsing; datetime() still checks every field's range.
    if len(text) != 14 or not (text.isascii() and text.isdigit()):
        raise ValueError(f"time data {text!r} does not match format {TIME_FORMAT!r}")
    return datetime(
        int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]), int(text[12:]), tzinfo=VN_TZ
    )


def to_wire_amount(vnd: int) -> str:
    return str(vnd * 100)


# vnp_Amount is Numeric[1,12]: longer is not VNPay's, and past 19 digits not even a 64-bit integer.
WIRE_AMOUNT_DIGITS = 12
# The most one payment can be: 12 digits of đồng ×100.
MAX_AMOUNT = (10**WIRE_AMOUNT_DIGITS - 1) // 100


def from_wire_amount(wire: str | int) -> int:
    """Đồng from VNPay's vnp_Amount (×100): the text of a query string, or a JSON number in an API answer,
    read by the same rule. int() alone would also read " 1", "+1", "1_0", other scripts' digits, True."""
    if isinstance(wire, bool) or not isinstance(wire, str | int):
        raise ValueError(f"VNPay amount {wire!r} is not a number")
    text = str(wire)
    if not (text.isascii() and text.isdigit()) or len(text) > WIRE_AMOUNT_DIGITS:
        raise ValueError(f"VNPay amount {text!r} is not a number of at most {WIRE_AMOUNT_DIGITS} digits")
    value = int(text)
    if value % 100:
        raise ValueError(f"VNPay amount {value} is not a whole number of đồng")
    return value // 100


def plain_text(text: str, limit: int = 255) -> str:
    """vnp_OrderInfo must be Vietnamese without diacritics and without special characters."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9 .,:_\-/]", " ", text)
    return re.sub(r"\s+", " ", text).strip()[:limit]
