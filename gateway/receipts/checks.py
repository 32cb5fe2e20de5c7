"""The receipts' invariants, checked against the database (tests now, the reliability suite later): every
succeeded payment has exactly one original receipt of its amount, none that did not succeed has one, and
each series is numbered 1, 2, 3, ... with no gap and no repeat."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.payments import PaymentStatus
from contracts.receipts import ReceiptKind
from gateway.db.models import Payment, Receipt, ReceiptCounter
from gateway.ledger.checks import LIMIT, Violation


async def check_receipts(session: AsyncSession) -> list[Violation]:
    found: list[Violation] = []
    originals = (
        select(Receipt.payment_id, func.count().label("n"), func.sum(Receipt.amount).label("amount"))
        .where(Receipt.kind == ReceiptKind.ORIGINAL.value)
        .group_by(Receipt.payment_id)
        .subquery()
    )
    rows = await session.execute(
        select(Payment.id, Payment.status, Payment.amount, originals.c.n, originals.c.amount)
        .outerjoin(originals, originals.c.payment_id == Payment.id)
        .where(
            ((Payment.status == PaymentStatus.SUCCEEDED.value) & (func.coalesce(originals.c.n, 0) != 1))
            | ((Payment.status == PaymentStatus.SUCCEEDED.value) & (originals.c.amount != Payment.amount))
            | ((Payment.status != PaymentStatus.SUCCEEDED.value) & originals.c.n.is_not(None))
        )
        .limit(LIMIT)
    )
    for pid, status, amount, n, receipted in rows:
        found.append(
            Violation("receipt_per_payment", pid, f"{status} payment of {amount}: {n or 0} receipts of {receipted}")
        )
    series = await session.execute(
        select(
            Receipt.form,
            Receipt.series,
            func.count(),
            func.count(func.distinct(Receipt.number)),
            func.max(Receipt.number),
        ).group_by(Receipt.form, Receipt.series)
    )
    counters = {(c.form, c.series): c.last_number for c in await session.scalars(select(ReceiptCounter))}
    for form, name, count, distinct, highest in series:
        if not count == distinct == highest == counters.get((form, name)):
            found.append(
                Violation(
                    "receipt_numbering",
                    f"{form} {name}",
                    f"{count} receipts, {distinct} numbers, highest {highest}, counter {counters.get((form, name))}",
                )
            )
    return found
