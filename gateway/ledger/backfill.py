"""Posting what happened before the ledger existed (migration 0014): a database upgraded from an earlier
version holds succeeded payments, succeeded refunds and collected COD that no entry records, so the
provider clearing and agency balances would be short of them for ever.

`dvc-gateway ledger backfill` posts each missing entry with the builder that posts it today (so the
amounts are split exactly as a live success splits them), dated when the money moved and recorded now. It
is safe to run again, or while the gateway runs: an entry is posted only where none exists for its cause;
if a live success posts one between that look and the commit, the unique (cause, cause id) constraint
refuses the batch, which is read again. Receipts are not issued for such payments: a receipt is dated
when the fee is collected, and one issued late under today's series is the agency's decision.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.payments import PaymentStatus, RefundStatus
from gateway.db.models import JournalEntry, Payment, Refund, Shipment
from gateway.db.races import RACE_ERRORS, lost_race
from gateway.ledger import entries
from gateway.ledger.entries import Cause, NewEntry, UnbalancedEntry
from gateway.ledger.posting import post_once

log = structlog.get_logger(__name__)

BATCH = 500


@dataclass
class Backfilled:
    payments: int = 0
    refunds: int = 0
    cod: int = 0
    refused: list[str] = field(default_factory=list)  # subjects whose entry would not balance


def _unposted(model: Any, cause: Cause) -> Any:
    """No entry of `cause` names this row's id."""
    return ~select(JournalEntry.id).where(JournalEntry.cause == cause.value, JournalEntry.cause_id == model.id).exists()


async def backfill(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime, *, dry_run: bool = False
) -> Backfilled:
    done = Backfilled()
    payments = select(Payment).where(
        Payment.status == PaymentStatus.SUCCEEDED.value, _unposted(Payment, Cause.PAYMENT_SUCCEEDED)
    )
    done.payments = await _each(sessionmaker, payments, Payment.id, _payment_entry, now, done, dry_run)
    refunds = select(Refund).where(
        Refund.status == RefundStatus.SUCCEEDED.value, _unposted(Refund, Cause.REFUND_SUCCEEDED)
    )
    done.refunds = await _each(sessionmaker, refunds, Refund.id, _refund_entry, now, done, dry_run)
    shipments = select(Shipment).where(Shipment.cod_collected > 0, _unposted(Shipment, Cause.COD_COLLECTED))
    done.cod = await _each(sessionmaker, shipments, Shipment.id, _cod_entry, now, done, dry_run)
    log.info("ledger_backfilled", payments=done.payments, refunds=done.refunds, cod=done.cod, refused=len(done.refused))
    return done


async def _each(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: Select[Any],
    key: Any,
    build: Callable[[AsyncSession, Any], Awaitable[NewEntry]],
    now: datetime,
    done: Backfilled,
    dry_run: bool,
) -> int:
    """Posts `build(row)` for every row of `query`, a batch per transaction, walking the rows by id so that
    one that is refused is not read again."""
    posted, after = 0, ""
    while True:
        async with sessionmaker() as session:
            rows = list(await session.scalars(query.where(key > after).order_by(key).limit(BATCH)))
            if not rows:
                return posted
            batch, refused, last = 0, [], rows[-1].id  # read before the commit expires the rows
            for row in rows:
                try:
                    entry = await build(session, row)
                except UnbalancedEntry as exc:
                    refused.append(f"{row.id}: {exc}")
                    continue
                if dry_run or await post_once(session, entry, now):
                    batch += 1
            if dry_run:
                await session.rollback()
            else:
                try:
                    await session.commit()
                except RACE_ERRORS as exc:
                    if not lost_race(exc):
                        raise
                    # A live success posted one of these meanwhile: the batch is read again without it.
                    await session.rollback()
                    continue
            posted += batch
            done.refused.extend(refused)
            after = last


async def _payment_entry(session: AsyncSession, payment: Payment) -> NewEntry:
    at = payment.paid_at or payment.updated_at
    return entries.payment_succeeded(
        payment.id, payment.provider, payment.agency_code, payment.amount, payment.lines, at
    )


async def _refund_entry(session: AsyncSession, refund: Refund) -> NewEntry:
    """Its share of each fee line depends on what the payment's earlier refunds gave back: those that
    succeeded before it, in the order they were last changed (a succeeded refund is not changed again)."""
    payment = await session.get_one(Payment, refund.payment_id)
    earlier = (Refund.updated_at < refund.updated_at) | and_(
        Refund.updated_at == refund.updated_at, Refund.id < refund.id
    )
    before = await session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment.id, Refund.status == RefundStatus.SUCCEEDED.value, earlier
        )
    )
    return entries.refund_succeeded(
        refund.id,
        payment.id,
        payment.provider,
        payment.agency_code,
        payment.lines,
        int(before or 0),
        refund.amount,
        refund.updated_at,
    )


async def _cod_entry(session: AsyncSession, shipment: Shipment) -> NewEntry:
    at = shipment.delivered_at or shipment.updated_at
    return entries.cod_collected(shipment.id, shipment.carrier, shipment.client_id, shipment.cod_collected or 0, at)
