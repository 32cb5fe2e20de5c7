"""Each provider's settlement file as the provider lays it out, read into one normalised row.

Column names are the provider's own field names where it publishes them (its API's), else the simulator's
and marked UNVERIFIED in docs/simulators.md: no provider publishes its merchant report's layout. Each
reader raises ValueError with a reason; parsing.py adds the line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_AMOUNT = 10_000_000_000_000  # đồng: far above any fee, far below BigInteger's limit
MAX_REF = 64

Kind = Literal["payment", "refund", "cod"]
FileStatus = Literal["succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class SettlementRow:
    kind: Kind
    provider_txn_id: str
    order_ref: str
    amount: int
    fee: int
    status: FileStatus
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Layout:
    provider: str
    format: Literal["csv", "xlsx"]
    columns: tuple[str, ...]
    read: Callable[[Mapping[str, object]], SettlementRow]


def text(row: Mapping[str, object], column: str, *, required: bool = True) -> str:
    value = row.get(column)
    if isinstance(value, float) and value.is_integer():  # a spreadsheet's number cell
        value = int(value)
    out = "" if value is None else str(value).strip()
    if required and not out:
        raise ValueError(f"{column} is empty")
    if len(out) > MAX_REF:
        raise ValueError(f"{column} is longer than {MAX_REF} characters")
    return out


def dong(row: Mapping[str, object], column: str) -> int:
    """A whole number of đồng: digits only (no sign, no decimals, no separators)."""
    value = row.get(column)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        raw = "" if value is None else str(value).strip()
        if not raw.isascii() or not raw.isdigit() or len(raw) > 14:
            raise ValueError(f"{column} is not a whole number of đồng: {raw[:20]!r}")
        number = int(raw)
    if not 0 <= number <= MAX_AMOUNT:
        raise ValueError(f"{column} is out of range")
    return number


def vn_time(row: Mapping[str, object], column: str, fmt: str) -> datetime:
    value = row.get(column)
    if isinstance(value, datetime):  # a spreadsheet's date cell: Vietnam's wall time
        return value.replace(tzinfo=VN_TZ) if value.tzinfo is None else value
    try:
        return datetime.strptime(text(row, column), fmt).replace(tzinfo=VN_TZ)
    except ValueError:
        raise ValueError(f"{column} is not a time as {fmt}") from None


def epoch_ms(row: Mapping[str, object], column: str) -> datetime:
    raw = text(row, column)
    if not raw.isdigit() or len(raw) > 14:
        raise ValueError(f"{column} is not a time in milliseconds")
    return datetime.fromtimestamp(int(raw) / 1000, UTC)


def iso_time(row: Mapping[str, object], column: str) -> datetime:
    try:
        at = datetime.fromisoformat(text(row, column))
    except ValueError:
        raise ValueError(f"{column} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise ValueError(f"{column} has no UTC offset")
    return at


def one_of(row: Mapping[str, object], column: str, values: Mapping[str, str]) -> str:
    raw = text(row, column)
    if raw not in values:
        raise ValueError(f"{column} {raw!r} is none of {', '.join(values)}")
    return values[raw]


# -- VNPay: an Excel workbook, VNPay's field names (vnp_*); amounts in đồng (UNVERIFIED) -----------------
VNPAY_TYPES: dict[str, str] = {"01": "payment", "02": "refund", "03": "refund"}  # VNPay's vnp_TransactionType


def _vnpay(row: Mapping[str, object]) -> SettlementRow:
    return SettlementRow(
        kind=one_of(row, "vnp_TransactionType", VNPAY_TYPES),  # type: ignore[arg-type]
        provider_txn_id=text(row, "vnp_TransactionNo"),
        order_ref=text(row, "vnp_TxnRef"),
        amount=dong(row, "vnp_Amount"),
        fee=dong(row, "vnp_Fee"),
        status="succeeded" if text(row, "vnp_TransactionStatus") == "00" else "failed",
        occurred_at=vn_time(row, "vnp_PayDate", "%Y%m%d%H%M%S"),
    )


# -- MoMo: CSV, MoMo's API field names; transType and fee are UNVERIFIED ------------------------------------
def _momo(row: Mapping[str, object]) -> SettlementRow:
    return SettlementRow(
        kind=one_of(row, "transType", {"payment": "payment", "refund": "refund"}),  # type: ignore[arg-type]
        provider_txn_id=text(row, "transId"),
        order_ref=text(row, "orderId"),
        amount=dong(row, "amount"),
        fee=dong(row, "fee"),
        status="succeeded" if text(row, "resultCode") == "0" else "failed",
        occurred_at=epoch_ms(row, "responseTime"),
    )


# -- ZaloPay: CSV, ZaloPay's API field names; type and merchant_fee are UNVERIFIED ------------------------
def _zalopay(row: Mapping[str, object]) -> SettlementRow:
    kind = one_of(row, "type", {"1": "payment", "2": "refund"})
    return SettlementRow(
        kind=kind,  # type: ignore[arg-type]
        provider_txn_id=text(row, "refund_id") if kind == "refund" else text(row, "zp_trans_id"),
        order_ref=text(row, "app_trans_id"),
        amount=dong(row, "amount"),
        fee=dong(row, "merchant_fee"),
        status="succeeded" if text(row, "status") == "1" else "failed",
        occurred_at=epoch_ms(row, "server_time"),
    )


# -- payOS: CSV, payOS's transaction field names (its payment-link API); fee is UNVERIFIED ----------------
def _payos(row: Mapping[str, object]) -> SettlementRow:
    return SettlementRow(
        kind="payment",
        provider_txn_id=text(row, "reference"),
        order_ref=text(row, "orderCode"),
        amount=dong(row, "amount"),
        fee=dong(row, "fee"),
        status="succeeded" if text(row, "status") == "PAID" else "failed",
        occurred_at=iso_time(row, "transactionDateTime"),
    )


# -- VNPost: the COD remittance CSV its simulator documents (the real layout is unpublished) --------------
def _vnpost(row: Mapping[str, object]) -> SettlementRow:
    kept = dong(row, "cod_amount") - dong(row, "remitted_amount")
    if kept < 0:
        raise ValueError("remitted_amount is more than cod_amount")
    return SettlementRow(
        kind="cod",
        provider_txn_id=text(row, "original_id"),
        order_ref=text(row, "sale_order_code"),
        amount=dong(row, "cod_amount"),
        # What VNPost kept of what the recipient paid: the remitted amount falls short of the COD by it.
        fee=kept,
        status="succeeded",
        occurred_at=iso_time(row, "remitted_at"),
    )


LAYOUTS: dict[str, Layout] = {
    "vnpay": Layout(
        "vnpay",
        "xlsx",
        (
            "vnp_TmnCode",
            "vnp_TxnRef",
            "vnp_TransactionNo",
            "vnp_TransactionType",
            "vnp_TransactionStatus",
            "vnp_Amount",
            "vnp_Fee",
            "vnp_BankCode",
            "vnp_PayDate",
        ),
        _vnpay,
    ),
    "momo": Layout(
        "momo",
        "csv",
        ("partnerCode", "orderId", "transId", "transType", "resultCode", "amount", "fee", "payType", "responseTime"),
        _momo,
    ),
    "zalopay": Layout(
        "zalopay",
        "csv",
        (
            "app_id",
            "app_trans_id",
            "zp_trans_id",
            "refund_id",
            "type",
            "status",
            "amount",
            "merchant_fee",
            "server_time",
        ),
        _zalopay,
    ),
    "payos": Layout(
        "payos",
        "csv",
        ("orderCode", "reference", "amount", "fee", "description", "accountNumber", "transactionDateTime", "status"),
        _payos,
    ),
    "vnpost": Layout(
        "vnpost",
        "csv",
        (
            "remittance_date",
            "original_id",
            "item_code",
            "sale_order_code",
            "customer_code",
            "cod_amount",
            "postage_collected",
            "remitted_amount",
            "delivered_at",
            "remitted_at",
        ),
        _vnpost,
    ),
}
