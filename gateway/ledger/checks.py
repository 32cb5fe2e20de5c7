"""The ledger's invariants, checked against the database: for the tests now, the reliability suite later.

Each answers the violations it finds (an empty list when all hold), each found by one query, so the
check runs on a ledger of any size without loading it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Subquery, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.payments import PaymentStatus, RefundStatus
from gateway.db.models import JournalEntry, Payment, Posting, Refund
from gateway.ledger.accounts import AccountKind
from gateway.ledger.entries import Cause

LIMIT = 100  # violations reported per rule: enough to act on, bounded however broken the data


@dataclass(frozen=True)
class Violation:
    rule: str
    subject: str  # the entry, payment or refund it is about
    detail: str


async def check_ledger(session: AsyncSession) -> list[Violation]:
    found: list[Violation] = []
    for rule in (_unbalanced, _empty_entries, _global_sum, _payments_agree, _refunds_agree, _refunds_bounded):
        found.extend(await rule(session))
    return found


async def _unbalanced(session: AsyncSession) -> list[Violation]:
    rows = await session.execute(
        select(Posting.entry_id, func.sum(Posting.amount))
        .group_by(Posting.entry_id)
        .having(func.sum(Posting.amount) != 0)
        .limit(LIMIT)
    )
    return [Violation("entry_balances", e, f"postings sum to {s} VND") for e, s in rows]


async def _empty_entries(session: AsyncSession) -> list[Violation]:
    counts = select(Posting.entry_id, func.count().label("n")).group_by(Posting.entry_id).subquery()
    rows = await session.scalars(
        select(JournalEntry.id)
        .outerjoin(counts, counts.c.entry_id == JournalEntry.id)
        .where(func.coalesce(counts.c.n, 0) < 2)
        .limit(LIMIT)
    )
    zero = await session.scalars(select(Posting.entry_id).where(Posting.amount == 0).limit(LIMIT))
    return [Violation("entry_postings", e, "fewer than two postings") for e in rows] + [
        Violation("entry_postings", e, "a posting of zero") for e in zero
    ]


async def _global_sum(session: AsyncSession) -> list[Violation]:
    total = int(await session.scalar(select(func.coalesce(func.sum(Posting.amount), 0))) or 0)
    return [] if total == 0 else [Violation("balances_sum_to_zero", "ledger", f"all balances sum to {total} VND")]


def _cleared(cause: Cause) -> Subquery:
    """What each cause id's entry took from or gave to its provider's clearing account."""
    return (
        select(JournalEntry.cause_id, func.sum(Posting.amount).label("cleared"))
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(JournalEntry.cause == cause.value, Posting.account_kind == AccountKind.PROVIDER_CLEARING.value)
        .group_by(JournalEntry.cause_id)
        .subquery()
    )


async def _payments_agree(session: AsyncSession) -> list[Violation]:
    """A succeeded payment has exactly its amount posted to its clearing account; any other has nothing."""
    cleared = _cleared(Cause.PAYMENT_SUCCEEDED)
    rows = await session.execute(
        select(Payment.id, Payment.status, Payment.amount, cleared.c.cleared)
        .outerjoin(cleared, cleared.c.cause_id == Payment.id)
        .where(
            (
                (Payment.status == PaymentStatus.SUCCEEDED.value)
                & (func.coalesce(cleared.c.cleared, 0) != Payment.amount)
            )
            | ((Payment.status != PaymentStatus.SUCCEEDED.value) & cleared.c.cleared.is_not(None))
        )
        .limit(LIMIT)
    )
    return [
        Violation("payment_status_agrees", pid, f"{status} payment of {amount} VND has {posted or 0} VND posted")
        for pid, status, amount, posted in rows
    ]


async def _refunds_agree(session: AsyncSession) -> list[Violation]:
    """A succeeded refund has exactly its amount taken from its clearing account; any other has nothing."""
    cleared = _cleared(Cause.REFUND_SUCCEEDED)
    rows = await session.execute(
        select(Refund.id, Refund.status, Refund.amount, cleared.c.cleared)
        .outerjoin(cleared, cleared.c.cause_id == Refund.id)
        .where(
            ((Refund.status == RefundStatus.SUCCEEDED.value) & (func.coalesce(cleared.c.cleared, 0) != -Refund.amount))
            | ((Refund.status != RefundStatus.SUCCEEDED.value) & cleared.c.cleared.is_not(None))
        )
        .limit(LIMIT)
    )
    return [
        Violation("refund_status_agrees", rid, f"{status} refund of {amount} VND has {-(posted or 0)} VND posted")
        for rid, status, amount, posted in rows
    ]


async def _refunds_bounded(session: AsyncSession) -> list[Violation]:
    """Refunds never exceed what was paid, and the payment's refunded amount is what its refunds made."""
    made = (
        select(Refund.payment_id, func.sum(Refund.amount).label("made"))
        .where(Refund.status == RefundStatus.SUCCEEDED.value)
        .group_by(Refund.payment_id)
        .subquery()
    )
    rows = await session.execute(
        select(Payment.id, Payment.amount, Payment.refunded_amount, func.coalesce(made.c.made, 0))
        .outerjoin(made, made.c.payment_id == Payment.id)
        .where(
            (Payment.refunded_amount != func.coalesce(made.c.made, 0))
            | (func.coalesce(made.c.made, 0) > Payment.amount)
        )
        .limit(LIMIT)
    )
    return [
        Violation("refunds_bounded", pid, f"paid {amount}, refunded_amount {refunded}, refunds made {total} VND")
        for pid, amount, refunded, total in rows
    ]
