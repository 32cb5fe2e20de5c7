"""ZaloPay's wire formats: ids that start with the GMT+7 date, times in Unix milliseconds, amounts as
whole đồng in JSON integers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

MAX_TRANS_ID = 40  # app_trans_id is String(40)
MAX_DESCRIPTION = 256
# ZaloPay's amount is a Long; the gateway caps one payment far below it, at what the bank rails carry.
MAX_AMOUNT = 999_999_999_999
_WIRE_AMOUNT_DIGITS = 15


def day_prefix(moment: datetime) -> str:
    """yymmdd of `moment` in Vietnam's time zone, as app_trans_id and m_refund_id begin."""
    if moment.tzinfo is None:
        raise ValueError("ZaloPay dates need an aware datetime")
    return moment.astimezone(VN_TZ).strftime("%y%m%d")


def to_millis(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("ZaloPay times need an aware datetime")
    return int(moment.timestamp() * 1000)


def from_millis(value: object) -> datetime:
    return datetime.fromtimestamp(read_integer(value, "time") / 1000, tz=UTC)


def read_integer(value: object, name: str, digits: int = _WIRE_AMOUNT_DIGITS) -> int:
    """A non-negative JSON integer as ZaloPay writes one. A float, a string, a bool or a number past
    `digits` digits is not one of ZaloPay's and is refused (ValueError), never read as another number."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"ZaloPay {name} {value!r} is not an integer")
    if value < 0 or value >= 10**digits:
        raise ValueError(f"ZaloPay {name} {value!r} is out of range")
    return value


def read_amount(value: object) -> int:
    return read_integer(value, "amount")


_REFUND_ID = re.compile(r"\d{6}_\d+_[A-Za-z0-9]+")


def refund_id(app_id: int, sent_at: datetime, request_id: str) -> str:
    """m_refund_id (yymmdd_appid_xxx) of the gateway's refund `request_id`, sent to ZaloPay at `sent_at`.
    ZaloPay's refund spec (docs.zalopay.vn/docs/specs/order-refund): it "must be preceded by yymmdd of the
    current date", the day the refund is sent in GMT+7, not the payment's; the gateway keeps that moment
    (refunds.sent_at) so query_refund rebuilds the same id."""
    if not request_id.isascii() or not request_id.isalnum():
        raise ValueError("a refund request id must be ASCII letters and digits")
    text = f"{day_prefix(sent_at)}_{app_id}_{request_id}"
    if len(text) > 45 or not _REFUND_ID.fullmatch(text):
        raise ValueError(f"m_refund_id {text!r} is not yymmdd_appid_xxx")
    return text
