"""Background resolution: asks the provider about every open payment and refund whose next query is due.

This is what makes a missing IPN, a browser that never came back or a provider timeout end in a
known state instead of a payment left pending for ever; and a refund whose answer was lost, or that
VNPay is still processing, end succeeded or failed. It also sends the refunds that waited for an
earlier refund of their payment (gateway/payments/refunds.py).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from contracts.errors import ProviderError
from contracts.payments import RefundStatus
from contracts.providers import ProviderOutcome, ProviderResult, RefundResult
from gateway.clock import Clock
from gateway.db.claims import Claimed, Lease, Sleep, renewing
from gateway.db.models import Payment, Refund
from gateway.db.races import RACE_ERRORS, lost_race
from gateway.payments import refunds
from gateway.payments.providers import Providers
from gateway.payments.refunds import RefundService
from gateway.payments.service import PaymentService, transaction_ref
from gateway.payments.transitions import OPEN
from gateway.settings import Settings

log = structlog.get_logger()
QUERY_CONCURRENCY = 5
OPEN_VALUES = [s.value for s in OPEN]


class Resolver:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[Any],
        providers: Providers,
        settings: Settings,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.providers = providers
        self.settings = settings
        self.clock = clock
        self.sleep = sleep  # paces lease renewals; tests drive it by hand
        # Short, and renewed while the batch runs (gateway/db/claims.py): a query that retries up to the
        # provider's timeout keeps its claim, and a dead process's claims are due again within the lease.
        length = timedelta(seconds=settings.worker_lease_seconds)
        self.payment_lease = Lease(sessionmaker, Payment, Payment.next_query_at, length, clock.now)
        self.refund_lease = Lease(sessionmaker, Refund, Refund.next_query_at, length, clock.now)

    async def run_once(self) -> int:
        payments = await self._claim()
        refunds_claimed = await self._claim_refunds()
        ids, refund_ids = list(payments.ids), list(refunds_claimed.ids)
        if not ids and not refund_ids:
            return 0
        # A few at a time: each holds a database connection while it waits for the provider.
        limit = asyncio.Semaphore(QUERY_CONCURRENCY)

        async def one(payment_id: str) -> None:
            async with limit:
                await self.resolve(payment_id)

        async def one_refund(refund_id: str) -> None:
            async with limit:
                try:
                    await self.resolve_refund(refund_id)
                except Exception:
                    # Its next_query_at was pushed by the claim: it is tried again then.
                    log.exception("refund_resolution_error", refund_id=refund_id)

        # Each row leaves the renewals once resolved: its next_query_at is then no longer the claim's mark.
        async def renew() -> None:
            await self.payment_lease.renew_once(payments)
            await self.refund_lease.renew_once(refunds_claimed)

        async with renewing(renew, self.payment_lease.length.total_seconds() / 3, self.sleep):
            await asyncio.gather(*(one(payment_id) for payment_id in ids), *(one_refund(r) for r in refund_ids))
        return len(ids) + len(refund_ids)

    async def _claim(self) -> Claimed:
        now = self.clock.now()
        # Pushing next_query_at past a lease is the claim; the version bump makes a writer holding
        # a stale copy of the payment fail instead of overwriting.
        return await self.payment_lease.claim(
            where=[Payment.status.in_(OPEN_VALUES), Payment.next_query_at <= now],
            order_by=Payment.next_query_at,
            limit=self.settings.worker_batch_size,
            values={"version": Payment.version + 1},
        )

    async def _claim_refunds(self) -> Claimed:
        now = self.clock.now()
        return await self.refund_lease.claim(
            where=[Refund.status.in_(refunds.OPEN_VALUES), Refund.next_query_at <= now],
            order_by=Refund.next_query_at,
            limit=self.settings.worker_batch_size,
        )

    async def resolve_refund(self, refund_id: str) -> None:
        """Send a refund that waited, or ask the provider what became of one at it."""
        async with self.sessionmaker() as session:
            service = RefundService(PaymentService(session, self.providers, self.settings, self.clock))
            refund = await session.get(Refund, refund_id)
            if refund is None:
                return
            if refund.status == RefundStatus.PENDING.value:
                await service.send(refund_id)
                return
            if refund.status != RefundStatus.PROCESSING.value:
                return
            payment = await session.get_one(Payment, refund.payment_id)
            await session.commit()  # no transaction held while the provider answers (see resolve)
            try:
                latest = await self.providers.get(payment.provider).query_refund(
                    transaction_ref(payment), refund.provider_request_id, refund.sent_at or refund.updated_at
                )
            except ProviderError as exc:
                log.warning("refund_query_failed", refund_id=refund_id, error=str(exc))
                await service.note_unknown(refund_id, f"query failed: {exc.message}")
                return
            except Exception as exc:
                log.exception("refund_query_error", refund_id=refund_id)
                await service.note_unknown(refund_id, f"query answer unreadable: {type(exc).__name__}")
                return
            # Nothing else of the payment is sent while this refund is processing: these stay as read.
            others = list(
                await session.scalars(select(Refund).where(Refund.payment_id == payment.id, Refund.id != refund_id))
            )
            known = {r.provider_transaction_id for r in others if r.provider_transaction_id}
            made = any(r.status == RefundStatus.SUCCEEDED.value for r in others)
            result = _this_refund(refund, latest, known, made)
            if result is None:
                await service.note_unknown(refund_id, "the provider's latest refund cannot be told apart from this one")
                log.error("refund_unattributable", refund_id=refund_id)
            else:
                await service.record(refund_id, result, "query")

    async def resolve(self, payment_id: str) -> None:
        async with self.sessionmaker() as session:
            service = PaymentService(session, self.providers, self.settings, self.clock)
            payment = await session.get(Payment, payment_id)
            if payment is None or payment.status not in OPEN_VALUES:
                return
            ref, seen = transaction_ref(payment), payment.version
            # No transaction held while the provider answers: on SQLite it would hold every writer back (the
            # IPNs, the lease renewals) for as long as a slow provider takes.
            await session.commit()
            result: ProviderResult | None = None
            failure: str | None = None
            try:
                result = await self.providers.get(payment.provider).query(ref)
            except ProviderError as exc:
                self.providers.outcome(payment.provider, exc)
                log.warning("payment_query_failed", payment_id=payment.id, error=str(exc))
                failure = f"query failed: {exc.message}"
            except Exception as exc:
                # An answer we could not read is still an unknown outcome: back off like any failure.
                log.exception("payment_query_error", payment_id=payment.id)
                failure = f"query answer unreadable: {type(exc).__name__}"
            else:
                self.providers.outcome(payment.provider, None)
            await session.refresh(payment)
            if payment.version != seen:
                return  # an IPN changed the payment meanwhile; it is the fresher truth
            if result is not None:
                service.record(payment, result, "query")
            else:
                service.note_unknown_outcome(payment, failure or "query failed")
            payment.query_attempts += 1
            service.schedule_query(payment)
            try:
                await session.commit()
            except RACE_ERRORS as exc:
                if not lost_race(exc):
                    raise
                await session.rollback()  # the same, between the refresh and the commit


def _this_refund(
    refund: Refund, latest: RefundResult | None, others: set[str], any_succeeded: bool
) -> RefundResult | None:
    """What the provider's latest refund of the transaction says of `refund`, the only one of the payment
    at the provider (gateway/payments/refunds.py); None when that cannot be told.

    VNPay's querydr reports one refund per transaction, the latest. If that is none at all while no refund
    of ours succeeded, or one of our other refunds, this one never reached VNPay: it was not made. The
    first query comes a lease after the send (refunds.send_lease), time enough for VNPay to have it on
    record if it got it.
    """
    if latest is not None and latest.request_id:  # the provider answered about this refund itself
        if latest.outcome is ProviderOutcome.NOT_FOUND:
            return RefundResult(latest.request_id, ProviderOutcome.FAILED, message="the provider has no such refund")
        return latest
    mine = refund.provider_transaction_id
    if latest is None:
        if any_succeeded or mine:
            return None
        return RefundResult("", ProviderOutcome.FAILED, message="the provider has no record of this refund")
    if latest.transaction_id is None:
        return None
    if mine:
        return latest if latest.transaction_id == mine else None
    if latest.transaction_id in others:
        return RefundResult("", ProviderOutcome.FAILED, message="the provider has no record of this refund")
    return latest
