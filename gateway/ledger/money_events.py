"""What a payment's or a refund's success writes besides its status, in the same transaction: its ledger
entry and its receipt. Called from the one place each becomes succeeded (PaymentService.transition,
RefundService.record), which only ever happens once per payment and per refund."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.models import Payment, Refund
from gateway.ledger import entries
from gateway.ledger.posting import post
from gateway.receipts.issuing import issue_receipt, refund_receipt
from gateway.settings import Settings


def payment_succeeded(session: AsyncSession, settings: Settings, payment: Payment, now: datetime) -> None:
    entry = entries.payment_succeeded(
        payment.id, payment.provider, payment.agency_code, payment.amount, payment.lines, payment.paid_at or now
    )
    post(session, entry, recorded_at=now)
    issue_receipt(session, settings, payment, now)


async def refund_succeeded(
    session: AsyncSession, settings: Settings, payment: Payment, refund: Refund, refunded_before: int, now: datetime
) -> None:
    entry = entries.refund_succeeded(
        refund.id,
        payment.id,
        payment.provider,
        payment.agency_code,
        payment.lines,
        refunded_before,
        refund.amount,
        now,
    )
    post(session, entry, recorded_at=now)
    await refund_receipt(session, settings, payment, refund, now)
