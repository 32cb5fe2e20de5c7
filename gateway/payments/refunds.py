"""Refunds: full or partial, never more than was paid, each provider outcome recorded.

A payment's refunds are serialized under its lock (`_lock`):
* the amount is reserved first, so concurrent requests cannot together reserve more than was paid;
* only one refund of a payment is at the provider at a time. VNPay's refund type (02 all that is left,
  03 a part) is judged against what is left when VNPay handles it, and its querydr reports only a
  transaction's latest refund: both are only sound with one refund in flight. A refund reserved while
  another is processing stays `pending`; the resolver sends it once that one is settled.

The provider is called outside any transaction. Its answer is then recorded in a new transaction
under the same lock, which no other writer of the payment can make fail; if that never happens (the
process died, the answer was lost), the refund stays `processing` and the resolver asks the provider.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import select

from contracts.errors import ProviderError, ProviderRejected
from contracts.payments import PaymentStatus, RefundCreate, RefundStatus
from contracts.providers import ProviderOutcome, RefundOrder, RefundResult
from contracts.webhooks import EventType
from gateway.auth import Caller
from gateway.db.models import Client, Payment, Refund
from gateway.errors import InvalidTransition, RefundExceedsPaid
from gateway.ids import new_id
from gateway.ledger import money_events
from gateway.payments.providers import Providers
from gateway.payments.refund_rules import check_provider_rules
from gateway.payments.service import PaymentService, transaction_ref
from gateway.payments.views import refund_event_data
from gateway.settings import Settings
from gateway.webhooks.outbox import enqueue

log = structlog.get_logger()
S = RefundStatus
RESERVING = (S.PENDING.value, S.PROCESSING.value, S.SUCCEEDED.value)
OPEN_VALUES = [S.PENDING.value, S.PROCESSING.value]
FINAL = frozenset({S.SUCCEEDED.value, S.FAILED.value})


def send_lease(settings: Settings, providers: Providers) -> timedelta:
    """How long a refund being sent is left alone: the provider call may retry three times up to its timeout."""
    return timedelta(seconds=settings.worker_lease_seconds + 3 * (providers.longest_timeout + 2))


class RefundService:
    def __init__(self, payments: PaymentService) -> None:
        self.payments = payments
        self.session = payments.session
        self.clock = payments.clock
        self.settings = payments.settings

    async def for_payment(self, client: Caller, payment_id: str) -> list[Refund]:
        await self.payments.get(client, payment_id)
        return list(
            await self.session.scalars(
                select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.created_at, Refund.id)
            )
        )

    async def requested_with(self, client: Caller, payment_id: str, key: str | None) -> Refund | None:
        await self.payments.get(client, payment_id)
        if not key:
            return None
        return await self.session.scalar(
            select(Refund)
            .where(Refund.payment_id == payment_id, Refund.idempotency_key == key)
            .execution_options(populate_existing=True)
        )

    async def reserve(
        self, client: Caller, payment_id: str, data: RefundCreate, requested_by: str, key: str | None = None
    ) -> Refund:
        """A pending refund, its amount reserved when the session commits (the caller commits)."""
        await self.payments.get(client, payment_id)  # another client's payment is not found
        return await self.reserve_for(payment_id, data, requested_by, key)

    async def reserve_for(
        self, payment_id: str, data: RefundCreate, requested_by: str, key: str | None = None
    ) -> Refund:
        """`reserve` without the portal's ownership check: for finance, who act on every portal's payments
        (gateway/reconciliation/resolutions.py). The caller commits."""
        payment = await self._lock(payment_id)
        if payment.status != PaymentStatus.SUCCEEDED.value:
            raise InvalidTransition(f"Payment is {payment.status}; only a succeeded payment can be refunded.")
        reserved = sum(r.amount for r in await self._refunds(payment) if r.status in RESERVING)
        refundable = payment.amount - reserved
        amount = data.amount if data.amount is not None else refundable
        check_provider_rules(self.payments.providers.get(payment.provider), payment, amount, self.clock.now())
        if amount <= 0 or amount > refundable:
            raise RefundExceedsPaid(
                f"Refundable amount is {refundable} VND; {amount} VND was asked.", refundable=refundable
            )
        now = self.clock.now()
        refund = Refund(
            id=new_id("rfd"),
            payment_id=payment.id,
            amount=amount,
            status=S.PENDING.value,
            reason=data.reason,
            provider_request_id=new_id("req").removeprefix("req_"),
            idempotency_key=key,
            provider_codes={},
            created_at=now,
            updated_at=now,
            # The request sends it now; should it die first, the resolver sends it after this.
            next_query_at=now + send_lease(self.settings, self.payments.providers),
            query_attempts=0,
        )
        self.session.add(refund)
        self.payments.audit(
            payment,
            PaymentStatus.SUCCEEDED,
            PaymentStatus.SUCCEEDED,
            "portal",
            detail=f"refund of {amount} VND requested by {requested_by}",
            refund_id=refund.id,
        )
        return refund

    async def send(self, refund_id: str, requested_by: str | None = None) -> Refund:
        """Send a pending refund to the provider, once, unless another refund of its payment is there.

        It is marked processing and committed before the call: if the process dies after VNPay acted
        but before the answer is stored, nothing sends it again (VNPay forgets a vnp_RequestId after a
        while, so re-sending could refund twice); the resolver asks VNPay what became of it.
        """
        refund = await self.session.get_one(Refund, refund_id)
        payment = await self._lock(refund.payment_id)
        refunds = await self._refunds(payment)
        refund = next(r for r in refunds if r.id == refund_id)
        if refund.status != S.PENDING.value or any(r.status == S.PROCESSING.value for r in refunds):
            # Sent already (by another request or the resolver), or waiting for the one at the provider:
            # that one's outcome wakes it (_wake_next).
            await self.session.commit()
            return refund
        provider = self.payments.providers.get(payment.provider)
        if requested_by is None:
            requested_by = (await self.session.get_one(Client, payment.client_id)).name
        now = self.clock.now()
        succeeded = sum(r.amount for r in refunds if r.status == S.SUCCEEDED.value)
        order = RefundOrder(
            request_id=refund.provider_request_id,
            payment=transaction_ref(payment),
            amount=refund.amount,
            # VNPay's type 02 refunds all that is left of the transaction; 03 a part of it. Nothing else
            # of this payment is at VNPay now, so what is left there is what was paid less what succeeded.
            full=refund.amount == payment.amount - succeeded,
            requested_by=requested_by,
            reason=refund.reason,
            requested_at=now,
        )
        refund.status = S.PROCESSING.value
        refund.updated_at = now
        refund.sent_at = now
        refund.next_query_at = now + send_lease(self.settings, self.payments.providers)
        await self.session.commit()
        try:
            result = await provider.refund(order)
        except ProviderRejected as exc:
            result = RefundResult(order.request_id, ProviderOutcome.FAILED, message=exc.message, codes=exc.codes)
        except ProviderError as exc:
            # Timeout or garbled answer: VNPay may have acted. The resolver asks it what happened.
            result = RefundResult(order.request_id, ProviderOutcome.UNDER_REVIEW, message=exc.message, codes=exc.codes)
        except Exception as exc:
            log.exception("refund_answer_unreadable", refund_id=refund.id)
            result = RefundResult(
                order.request_id, ProviderOutcome.UNDER_REVIEW, message=f"answer unreadable: {type(exc).__name__}"
            )
        return await self.record(refund.id, result, "provider")

    async def record(self, refund_id: str, result: RefundResult, cause: str) -> Refund:
        """Record what the provider said of a processing refund, in a transaction of its own that waits for
        the payment's lock instead of failing on what changed meanwhile: the provider's answer stands."""
        await self.session.rollback()
        refund = await self.session.get_one(Refund, refund_id)
        payment = await self._lock(refund.payment_id)
        refunds = await self._refunds(payment)
        refund = next(r for r in refunds if r.id == refund_id)
        if refund.status == S.PROCESSING.value:
            if cause == "query":
                refund.query_attempts += 1
            refunded_before = payment.refunded_amount
            self._apply(payment, refund, result, cause)
            if refund.status == S.SUCCEEDED.value:
                await money_events.refund_succeeded(
                    self.session, self.settings, payment, refund, refunded_before, self.clock.now()
                )
            if refund.status in FINAL:
                self._wake_next(refunds)
        await self.session.commit()
        return refund

    async def note_unknown(self, refund_id: str, reason: str) -> None:
        """A query told nothing: asked again later, further apart each time."""
        await self.session.rollback()
        refund = await self.session.get_one(Refund, refund_id)
        payment = await self._lock(refund.payment_id)
        refund = next(r for r in await self._refunds(payment) if r.id == refund_id)
        if refund.status == S.PROCESSING.value:
            refund.query_attempts += 1
            self._audit(payment, refund, "query", {}, f"refund processing: {reason}")
            self._schedule(refund)
        await self.session.commit()

    def _apply(self, payment: Payment, refund: Refund, result: RefundResult, cause: str) -> None:
        now = self.clock.now()
        status = {
            ProviderOutcome.SUCCEEDED: S.SUCCEEDED,
            ProviderOutcome.FAILED: S.FAILED,
        }.get(result.outcome, S.PROCESSING)
        refund.status = status.value
        refund.updated_at = now
        refund.provider_transaction_id = result.transaction_id or refund.provider_transaction_id
        refund.provider_codes = result.codes or refund.provider_codes
        if status is S.SUCCEEDED:
            payment.refunded_amount += refund.amount
            payment.updated_at = now
        if status is S.PROCESSING:
            self._schedule(refund)
        else:
            refund.next_query_at = None
        self._audit(payment, refund, cause, result.codes, f"refund {status.value}: {result.message}")
        event = {S.SUCCEEDED: EventType.REFUND_SUCCEEDED, S.FAILED: EventType.REFUND_FAILED}
        if status in event:
            enqueue(self.session, payment.client_id, event[status], refund_event_data(refund), now)

    def _schedule(self, refund: Refund) -> None:
        schedule = self.settings.payment_query_schedule_seconds
        delay = schedule[min(refund.query_attempts, len(schedule) - 1)]
        refund.next_query_at = self.clock.now() + timedelta(seconds=delay)

    def _wake_next(self, refunds: list[Refund]) -> None:
        """The payment's oldest pending refund is due at once: the one it waited for is settled."""
        waiting = [r for r in refunds if r.status == S.PENDING.value]
        if waiting:
            min(waiting, key=lambda r: (r.created_at, r.id)).next_query_at = self.clock.now()

    def _audit(self, payment: Payment, refund: Refund, cause: str, codes: dict[str, str], detail: str) -> None:
        succeeded = PaymentStatus.SUCCEEDED
        self.payments.audit(payment, succeeded, succeeded, cause, codes, detail, refund_id=refund.id)

    async def _lock(self, payment_id: str) -> Payment:
        """The payment, fresh, and locked against every other writer until the session's transaction ends:
        PostgreSQL's row lock (FOR UPDATE), SQLite's one write lock (taken by its BEGIN IMMEDIATE)."""
        return await self.session.get_one(Payment, payment_id, with_for_update=True, populate_existing=True)

    async def _refunds(self, payment: Payment) -> list[Refund]:
        return list(
            await self.session.scalars(
                select(Refund).where(Refund.payment_id == payment.id).execution_options(populate_existing=True)
            )
        )
