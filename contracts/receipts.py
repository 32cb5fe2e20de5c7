"""E-receipts as the portal and the public verification page see them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class ReceiptKind(StrEnum):
    ORIGINAL = "original"  # the receipt of a succeeded payment
    ADJUSTMENT = "adjustment"  # a partial refund's reduction of an original


class ReceiptStatus(StrEnum):
    ISSUED = "issued"
    ADJUSTED = "adjusted"  # an original a partial refund reduced (see its adjustment receipts)
    CANCELLED = "cancelled"  # an original whose whole amount was refunded


class ReceiptOut(BaseModel):
    """The data of the `receipt.issued` and `receipt.cancelled` webhooks."""

    id: str
    payment_id: str
    kind: ReceiptKind
    form: str = Field(description="Mẫu số")
    series: str = Field(description="Ký hiệu")
    number: int = Field(description="Số, consecutive without gaps within its form and series")
    amount: int
    status: ReceiptStatus
    issued_at: datetime
    cancelled_at: datetime | None = None
    original_id: str | None = None
    refund_id: str | None = None
    verify_url: str


class ReceiptVerification(BaseModel):
    """What the public verification page shows: nothing about the payer."""

    genuine: bool
    form: str
    series: str
    number: int
    kind: ReceiptKind
    amount: int
    agency_code: str
    issued_at: datetime
    status: ReceiptStatus
    cancelled_at: datetime | None = None
