"""Background resolution: asks the provider about every open payment whose next query is due.

This is what makes a missing IPN, a browser that never came back or a provider timeout end in a
known state instead of a payment left pending for ever.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from contracts.errors import ProviderError
from contracts.providers import ProviderOutcome
from gateway.clock import Clock
from gateway.db.claims import claim
from gateway.db.models import Payment
from gateway.payments.providers import Providers
from gateway.payments.service import PaymentService, transaction_ref
from gateway.payments.transitions import OPEN
from gateway.settings import Settings

log = structlog.get_logger()
QUERY_CONCURRENCY = 5
OPEN_VALUES = [s.value for s in OPEN]


class Resolver:
    def __init__(
        self, sessionmaker: async_sessionmaker[Any], providers: Providers, settings: Settings, clock: Clock
    ) -> None:
        self.sessionmaker = sessionmaker
        self.providers = providers
        self.settings = settings
        self.clock = clock
        # Long enough for the whole batch: each query may retry three times up to the provider's timeout.
        rounds = -(-settings.worker_batch_size // QUERY_CONCURRENCY)
        self.lease = timedelta(seconds=settings.worker_lease_seconds + rounds * 3 * (providers.longest_timeout + 2))

    async def run_once(self) -> int:
        ids = await self._claim()
        # A few at a time: each holds a database connection while it waits for the provider.
        limit = asyncio.Semaphore(QUERY_CONCURRENCY)

        async def one(payment_id: str) -> None:
            async with limit:
                await self.resolve(payment_id)

        await asyncio.gather(*(one(payment_id) for payment_id in ids))
        return len(ids)

    async def _claim(self) -> list[str]:
        now = self.clock.now()
        # Pushing next_query_at past a lease is the claim; the version bump makes a writer holding
        # a stale copy of the payment fail instead of overwriting.
        return await claim(
            self.sessionmaker,
            Payment,
            where=[Payment.status.in_(OPEN_VALUES), Payment.next_query_at <= now],
            order_by=Payment.next_query_at,
            limit=self.settings.worker_batch_size,
            values={
                "next_query_at": now + self.lease,
                "version": Payment.version + 1,
            },
        )

    async def resolve(self, payment_id: str) -> None:
        async with self.sessionmaker() as session:
            service = PaymentService(session, self.providers, self.settings, self.clock)
            payment = await session.get(Payment, payment_id)
            if payment is None or payment.status not in OPEN_VALUES:
                return
            try:
                result = await self.providers.get(payment.provider).query(transaction_ref(payment))
            except ProviderError as exc:
                log.warning("payment_query_failed", payment_id=payment.id, error=str(exc))
                service.note_unknown_outcome(payment, f"query failed: {exc.message}")
            except Exception as exc:
                # An answer we could not read is still an unknown outcome: back off like any failure.
                log.exception("payment_query_error", payment_id=payment.id)
                service.note_unknown_outcome(payment, f"query answer unreadable: {type(exc).__name__}")
            else:
                if result.outcome is ProviderOutcome.SUCCEEDED and result.amount != payment.amount:
                    log.error("payment_amount_mismatch", payment_id=payment.id, provider_amount=result.amount)
                    service.note_unknown_outcome(payment, f"provider reports {result.amount} VND paid")
                else:
                    service.record(payment, result, "query")
            payment.query_attempts += 1
            service.schedule_query(payment)
            try:
                await session.commit()
            except StaleDataError:
                # An IPN changed the payment meanwhile; it is the fresher truth.
                await session.rollback()
