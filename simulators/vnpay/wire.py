"""VNPay wire formats: GMT+7 `yyyyMMddHHmmss` timestamps, ×100 amounts and signed redirect query strings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from .signing import secure_hash, signed_string

# Vietnam has kept UTC+7 without daylight saving since 1975, so a fixed offset needs no tz database.
VN_TZ = timezone(timedelta(hours=7), "ICT")
_VNP_DATE = re.compile(r"^\d{14}$")


def now_vn() -> datetime:
    return datetime.now(VN_TZ)


def format_vnp_date(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("wire timestamps are built from timezone-aware datetimes only")
    return moment.astimezone(VN_TZ).strftime("%Y%m%d%H%M%S")


def parse_vnp_date(value: str) -> datetime | None:
    """A `yyyyMMddHHmmss` GMT+7 timestamp, or None when the text is not one."""
    if not _VNP_DATE.match(value):
        return None
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=VN_TZ)
    except ValueError:
        return None


def wire_amount(amount_vnd: int) -> str:
    return str(amount_vnd * 100)


def signed_query(params: Mapping[str, str], secret: str) -> str:
    """The query string VNPay puts on the return URL and the IPN: canonical form, hash appended last."""
    return f"{signed_string(params)}&vnp_SecureHash={secure_hash(params, secret)}"


def append_query(url: str, query: str) -> str:
    # A merchant URL that already carries a query keeps it; VNPay's fields follow.
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{query}"
