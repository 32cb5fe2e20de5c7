"""Issuing receipts in the transaction that makes a payment or a refund succeed.

Numbering without gaps: a receipt is numbered when its row is flushed (`_number_receipts`), by adding one
to its series' counter row (INSERT ... ON CONFLICT DO UPDATE ... RETURNING). The counter row stays locked
until the transaction ends (PostgreSQL's row lock; SQLite's one write lock), and if the transaction rolls
back the number goes back with it: no sequence that can skip. Drawing the number at the flush keeps the
lock as short as it can be, and lets a synchronous state change (PaymentService.transition) issue one.
The `receipt.issued` webhook is queued in the same flush, once the number is known.

A refund of the whole amount at once cancels the original receipt (its cancellation record: when, why,
which refund); any other refund issues an adjustment receipt (biên lai điều chỉnh giảm) of its amount,
numbered in the current series, and marks the original adjusted (docs/finance.md).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from contracts.receipts import ReceiptKind, ReceiptOut, ReceiptStatus
from contracts.webhooks import EventType
from gateway.clock import VN_TZ
from gateway.db.models import Payment, Receipt, ReceiptCounter, Refund
from gateway.ids import new_id
from gateway.settings import Settings
from gateway.webhooks.outbox import enqueue

UNNUMBERED = 0  # numbers start at 1: a receipt holds 0 only until its flush numbers it
_PENDING = "dvcgw_receipts_to_number"


@dataclass(frozen=True)
class _Pending:
    receipt: Receipt
    client_id: str
    base_url: str
    webhook: bool


def series_for(settings: Settings, at: datetime) -> str:
    """The series of receipts issued at `at`: the prefix, the year in GMT+7, E for electronic (UNVERIFIED:
    modelled on the e-invoice series of Circular 78/2021/TT-BTC; set the prefix from the agency's
    registration). A new year starts a new series, numbered from 1."""
    return f"{settings.receipt_series_prefix}-{at.astimezone(VN_TZ):%y}E"


def verify_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/receipts/verify/{token}"


def receipt_out(receipt: Receipt, base_url: str) -> ReceiptOut:
    return ReceiptOut(
        id=receipt.id,
        payment_id=receipt.payment_id,
        kind=ReceiptKind(receipt.kind),
        form=receipt.form,
        series=receipt.series,
        number=receipt.number,
        amount=receipt.amount,
        status=ReceiptStatus(receipt.status),
        issued_at=receipt.issued_at,
        cancelled_at=receipt.cancelled_at,
        original_id=receipt.original_id,
        refund_id=receipt.refund_id,
        verify_url=verify_url(base_url, receipt.token),
    )


def _new_receipt(
    session: AsyncSession, settings: Settings, payment: Payment, kind: ReceiptKind, amount: int, now: datetime
) -> Receipt:
    receipt = Receipt(
        id=new_id("rct"),
        payment_id=payment.id,
        kind=kind.value,
        form=settings.receipt_form,
        series=series_for(settings, now),
        number=UNNUMBERED,
        amount=amount,
        status=ReceiptStatus.ISSUED.value,
        token=secrets.token_urlsafe(24),
        issued_at=now,
    )
    session.add(receipt)
    pending = _Pending(receipt, payment.client_id, settings.public_base_url, settings.receipt_webhooks_enabled)
    session.info.setdefault(_PENDING, []).append(pending)
    return receipt


def issue_receipt(session: AsyncSession, settings: Settings, payment: Payment, now: datetime) -> Receipt:
    """The receipt of a payment that has just succeeded; numbered when the session flushes."""
    return _new_receipt(session, settings, payment, ReceiptKind.ORIGINAL, payment.amount, now)


async def refund_receipt(
    session: AsyncSession, settings: Settings, payment: Payment, refund: Refund, now: datetime
) -> Receipt | None:
    """What a succeeded refund does to the payment's receipt: the cancellation of the original for a
    refund of the whole amount, else an adjustment receipt. None if the payment has no receipt."""
    original = await session.scalar(
        select(Receipt).where(Receipt.payment_id == payment.id, Receipt.kind == ReceiptKind.ORIGINAL.value)
    )
    if original is None:
        return None
    if refund.amount == payment.amount:
        original.status = ReceiptStatus.CANCELLED.value
        original.cancelled_at = now
        original.cancel_refund_id = refund.id
        original.cancel_reason = f"hoàn trả toàn bộ số tiền (refund {refund.id})"
        if settings.receipt_webhooks_enabled:
            data = receipt_out(original, settings.public_base_url).model_dump_json()
            enqueue(session, payment.client_id, EventType.RECEIPT_CANCELLED, data, now)
        return original
    original.status = ReceiptStatus.ADJUSTED.value
    adjustment = _new_receipt(session, settings, payment, ReceiptKind.ADJUSTMENT, refund.amount, now)
    adjustment.original_id = original.id
    adjustment.refund_id = refund.id
    return adjustment


def _next_number(session: Session, form: str, series: str) -> int:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(ReceiptCounter)
        .values(form=form, series=series, last_number=1)
        .on_conflict_do_update(index_elements=["form", "series"], set_={"last_number": ReceiptCounter.last_number + 1})
        .returning(ReceiptCounter.last_number)
    )
    return int(session.execute(statement).scalar_one())


@event.listens_for(Session, "before_flush")
def _number_receipts(session: Session, *_: Any) -> None:
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    for item in pending:
        receipt = item.receipt
        if receipt not in session.new or receipt.number != UNNUMBERED:
            continue  # rolled back with its transaction, or numbered already
        receipt.number = _next_number(session, receipt.form, receipt.series)
        if not item.webhook:
            continue
        data = receipt_out(receipt, item.base_url).model_dump_json()
        enqueue(session, item.client_id, EventType.RECEIPT_ISSUED, data, receipt.issued_at)  # type: ignore[arg-type]


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, *_: Any) -> None:
    session.info.pop(_PENDING, None)
