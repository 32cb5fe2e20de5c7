"""Refunds: full or partial, never more than was paid, each provider outcome recorded.

The amount is reserved first (a refund row committed under the payment's version lock, so two
concurrent refunds cannot both pass the check), then the provider is called outside any transaction.
"""

from __future__ import annotations

from sqlalchemy import select

from contracts.errors import ProviderError, ProviderRejected
from contracts.payments import PaymentStatus, RefundCreate, RefundStatus
from contracts.providers import ProviderOutcome, RefundOrder, RefundResult
from contracts.webhooks import EventType
from gateway.auth import Caller
from gateway.db.models import Payment, Refund
from gateway.errors import InvalidTransition, RefundExceedsPaid
from gateway.ids import new_id
from gateway.payments.service import PaymentService, transaction_ref
from gateway.payments.views import refund_event_data
from gateway.webhooks.outbox import enqueue

RESERVING = (RefundStatus.PENDING.value, RefundStatus.PROCESSING.value, RefundStatus.SUCCEEDED.value)


class RefundService:
    def __init__(self, payments: PaymentService) -> None:
        self.payments = payments
        self.session = payments.session
        self.clock = payments.clock

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
            select(Refund).where(Refund.payment_id == payment_id, Refund.idempotency_key == key)
        )

    async def reserve(
        self, client: Caller, payment_id: str, data: RefundCreate, requested_by: str, key: str | None = None
    ) -> Refund:
        payment = await self.payments.get(client, payment_id)
        if payment.status != PaymentStatus.SUCCEEDED.value:
            raise InvalidTransition(f"Payment is {payment.status}; only a succeeded payment can be refunded.")
        reserved = sum(r.amount for r in await self._refunds(payment) if r.status in RESERVING)
        refundable = payment.amount - reserved
        amount = data.amount if data.amount is not None else refundable
        if amount <= 0 or amount > refundable:
            raise RefundExceedsPaid(
                f"Refundable amount is {refundable} VND; {amount} VND was asked.", refundable=refundable
            )
        now = self.clock.now()
        refund = Refund(
            id=new_id("rfd"),
            payment_id=payment.id,
            amount=amount,
            status=RefundStatus.PENDING.value,
            reason=data.reason,
            provider_request_id=new_id("req").removeprefix("req_"),
            idempotency_key=key,
            provider_codes={},
            created_at=now,
            updated_at=now,
        )
        self.session.add(refund)
        # Touching the payment bumps its version: a concurrent reservation fails with StaleDataError.
        payment.updated_at = now
        self.payments.audit(
            payment,
            PaymentStatus.SUCCEEDED,
            PaymentStatus.SUCCEEDED,
            "portal",
            detail=f"refund of {amount} VND requested by {requested_by}",
            refund_id=refund.id,
        )
        return refund

    async def execute(self, refund: Refund, requested_by: str) -> Refund:
        """Send a reserved refund to the provider, once.

        It is marked processing and committed before the call: if the process dies after VNPay acted
        but before the answer is stored, a retry finds it processing and does not send it again
        (VNPay forgets a vnp_RequestId after a while, so re-sending could refund twice).
        """
        assert refund.status == RefundStatus.PENDING.value, "only a reserved refund is sent"
        payment = await self.session.get_one(Payment, refund.payment_id)
        provider = self.payments.providers.get(payment.provider)
        others = sum(r.amount for r in await self._refunds(payment) if r.status in RESERVING and r.id != refund.id)
        order = RefundOrder(
            request_id=refund.provider_request_id,
            payment=transaction_ref(payment),
            amount=refund.amount,
            # VNPay's type 02 refunds everything that is left of the transaction; 03 a part of it.
            full=refund.amount == payment.amount - others,
            requested_by=requested_by,
            reason=refund.reason,
            requested_at=self.clock.now(),
        )
        refund.status = RefundStatus.PROCESSING.value
        refund.updated_at = self.clock.now()
        await self.session.commit()
        try:
            result = await provider.refund(order)
        except ProviderRejected as exc:
            result = RefundResult(order.request_id, ProviderOutcome.FAILED, message=exc.message, codes=exc.codes)
        except ProviderError as exc:
            # Timeout or garbled answer: VNPay may have acted. The refund stays processing until
            # reconciliation against VNPay's settlement file says what happened.
            result = RefundResult(order.request_id, ProviderOutcome.UNDER_REVIEW, message=exc.message, codes=exc.codes)
        self._apply(payment, refund, result)
        return refund

    def _apply(self, payment: Payment, refund: Refund, result: RefundResult) -> None:
        now = self.clock.now()
        status = {
            ProviderOutcome.SUCCEEDED: RefundStatus.SUCCEEDED,
            ProviderOutcome.FAILED: RefundStatus.FAILED,
        }.get(result.outcome, RefundStatus.PROCESSING)
        refund.status = status.value
        refund.updated_at = now
        refund.provider_transaction_id = result.transaction_id
        refund.provider_codes = result.codes
        if status is RefundStatus.SUCCEEDED:
            payment.refunded_amount += refund.amount
        payment.updated_at = now
        self.payments.audit(
            payment,
            PaymentStatus.SUCCEEDED,
            PaymentStatus.SUCCEEDED,
            "provider",
            result.codes,
            f"refund {status.value}: {result.message}",
            refund_id=refund.id,
        )
        event = {
            RefundStatus.SUCCEEDED: EventType.REFUND_SUCCEEDED,
            RefundStatus.FAILED: EventType.REFUND_FAILED,
        }
        if status in event:
            data = refund_event_data(refund)
            enqueue(self.session, payment.client_id, event[status], data, now)

    async def _refunds(self, payment: Payment) -> list[Refund]:
        return list(await self.session.scalars(select(Refund).where(Refund.payment_id == payment.id)))
