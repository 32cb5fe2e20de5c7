"""The rules of a fee payment: creation, reading, cancelling, and recording what the provider says."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import structlog
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.errors import ProviderError, ProviderRejected, ProviderUnavailable
from contracts.payments import PaymentCreate, PaymentStatus
from contracts.providers import CheckoutOrder, ProviderOutcome, ProviderResult, TransactionRef
from gateway.auth import Caller
from gateway.clock import Clock
from gateway.db.models import Payment, PaymentEvent
from gateway.errors import InvalidTransition, NotFound, Unprocessable
from gateway.ids import new_id
from gateway.ledger import money_events
from gateway.logging import note
from gateway.payments.providers import Providers
from gateway.payments.transitions import EVENTS, OPEN, can_move
from gateway.payments.views import payment_event_data
from gateway.settings import Settings
from gateway.webhooks.outbox import enqueue

log = structlog.get_logger()
S = PaymentStatus

# Built once: composing a statement costs more than SQLAlchemy's cached execution of it.
_BY_ID = select(Payment).where(Payment.id == bindparam("payment_id"), Payment.client_id == bindparam("client_id"))
_BY_REFERENCE = select(Payment).where(
    Payment.provider == bindparam("provider"), Payment.provider_ref == bindparam("reference")
)


class Recorded(Enum):
    CHANGED = "changed"
    AMOUNT_MISMATCH = "amount_mismatch"  # nothing changed: the provider's amount is not the payment's
    UNCHANGED = "unchanged"  # noted; the payment stays open
    ALREADY_FINAL = "already_final"  # the payment had already reached a final status


def transaction_ref(payment: Payment) -> TransactionRef:
    return TransactionRef(
        reference=payment.provider_ref,
        created_at=payment.created_at,
        transaction_id=payment.provider_transaction_id,
        description=f"Thanh toan ho so {payment.dossier_code}",
    )


class PaymentService:
    """The rules of a payment, on one session: the caller commits (a state change, its audit row and its
    portal event commit together)."""

    def __init__(self, session: AsyncSession, providers: Providers, settings: Settings, clock: Clock) -> None:
        self.session = session
        self.providers = providers
        self.settings = settings
        self.clock = clock

    async def requested_with(self, client: Caller, key: str | None) -> Payment | None:
        """The payment an earlier run of this request made, if a crash cut that run short."""
        if not key:
            return None
        # Within the key's retention only: past it the key names a new request (gateway/idempotency.py).
        since = self.clock.now() - timedelta(hours=self.settings.idempotency_retention_hours)
        return await self.session.scalar(
            select(Payment)
            .where(Payment.client_id == client.id, Payment.idempotency_key == key, Payment.created_at >= since)
            .order_by(Payment.created_at.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )

    async def resume(self, payment: Payment) -> Payment:
        """Finish the request that made `payment` instead of making another payment and provider order.

        With its checkout recorded, that is the answer. Without one, the first run died while the provider
        was being asked: whether an order exists there is unknown, and asking again with the same reference
        could be refused as a duplicate (failing a payment the provider holds), so it is queried now and the
        portal told the outcome is unknown, as for a provider that did not answer.
        """
        if payment.checkout_url is not None or payment.status != S.PENDING.value:
            return payment
        payment.next_query_at = self.clock.now()
        await self.session.commit()
        raise ProviderUnavailable(payment.provider, "the checkout of this request was cut short; it is being resolved")

    async def create(self, client: Caller, data: PaymentCreate, client_ip: str, key: str | None = None) -> Payment:
        """A new payment, committed pending before the provider is called and again with its checkout.

        No transaction is held across the provider's call. If the call fails, the payment stays behind
        pending with no checkout and a query due at once: the resolver settles it (a provider that never
        heard of it lets it expire), and the portal is told the provider failed.
        """
        provider = self.providers.get(data.provider)
        ttl = data.expires_in_seconds or self.settings.payment_default_ttl_seconds
        if ttl > self.settings.payment_max_ttl_seconds:
            raise Unprocessable(
                f"expires_in_seconds may be at most {self.settings.payment_max_ttl_seconds}.",
                field="expires_in_seconds",
            )
        amount = sum(line.amount for line in data.fee_lines)
        if amount > provider.max_amount:
            raise Unprocessable(
                f"{provider.display_name} takes at most {provider.max_amount} VND in one payment.", field="fee_lines"
            )
        self.providers.admit(provider.name)
        now = self.clock.now()
        payment_id = new_id("pay")
        expires_at = now + timedelta(seconds=ttl)
        payment = Payment(
            id=payment_id,
            client_id=client.id,
            dossier_code=data.dossier_code,
            agency_code=data.agency_code,
            procedure_code=data.procedure_code,
            payer_name=data.payer.name,
            payer_phone=data.payer.phone,
            payer_email=str(data.payer.email) if data.payer.email else None,
            provider=provider.name,
            provider_ref=provider.reference_for(payment_id, now),
            amount=amount,
            refunded_amount=0,
            currency="VND",
            status=S.PENDING.value,
            return_url=str(data.return_url),
            client_ip=str(data.citizen_ip) if data.citizen_ip else client_ip,
            created_at=now,
            updated_at=now,
            expires_at=expires_at,
            next_query_at=now + timedelta(seconds=min(self.settings.payment_first_query_seconds, ttl)),
            query_attempts=0,
            provider_codes={},
            lines=[line.model_dump(mode="json") for line in data.fee_lines],
            idempotency_key=key,
        )
        self.session.add(payment)
        self.audit(payment, None, S.PENDING, "portal", detail="created")
        await self.session.commit()
        order = CheckoutOrder(
            reference=payment.provider_ref,
            amount=payment.amount,
            description=f"Thanh toan phi le phi ho so {data.dossier_code}",
            created_at=now,
            expires_at=expires_at,
            return_url=self.provider_return_url(provider.name),
            client_ip=payment.client_ip,
            notify_url=self.provider_notify_url(provider.name),
        )
        try:
            checkout = await provider.create_checkout(order)
        except ProviderError as exc:
            self.providers.outcome(provider.name, exc)
            await self._checkout_failed(payment, exc)
            raise
        self.providers.outcome(provider.name, None)
        # The provider's notification may have settled the payment while its answer was on the way (the
        # citizen paid at once): the checkout is written beside the status it has now, never over it, so
        # the portal still gets its 201 (a version conflict here would answer 409 and invite a second
        # payment for a fee already paid).
        await self.session.execute(
            update(Payment)
            .where(Payment.id == payment.id)
            .values(
                checkout_url=checkout.url,
                qr_code=checkout.qr_code,
                deeplink=checkout.deeplink,
                provider_order_id=checkout.provider_order_id,
                version=Payment.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        await self.session.refresh(payment)
        note(log, "payment_created", payment_id=payment.id, provider=payment.provider, amount=payment.amount)
        return payment

    async def _checkout_failed(self, payment: Payment, exc: ProviderError) -> None:
        await self.session.rollback()
        # The portal is told of the failure and may send the request again: that makes a new payment.
        payment.idempotency_key = None
        if isinstance(exc, ProviderRejected):
            self.transition(payment, S.FAILED, "provider", exc.codes, f"checkout refused: {exc.message}")
        else:
            # The provider may have made the order: a query settles it.
            self.audit(payment, S.PENDING, S.PENDING, "provider", exc.codes, f"checkout failed: {exc.message}")
            payment.next_query_at = self.clock.now()
        await self.session.commit()

    def provider_return_url(self, provider: str) -> str:
        return f"{self.settings.public_base_url.rstrip('/')}/callbacks/{provider}/return"

    def provider_notify_url(self, provider: str) -> str:
        return f"{self.settings.public_base_url.rstrip('/')}/callbacks/{provider}/ipn"

    # -- provider evidence -------------------------------------------------------------------------

    def record(self, payment: Payment, result: ProviderResult, cause: str) -> Recorded:
        """Apply what the provider says of this payment, from a notification or a query; the adapter has
        checked the signature. An amount that is not the payment's changes nothing but the audit trail,
        and the outcome stays unknown until a person looks (the same for both causes)."""
        now = self.clock.now()
        current = S(payment.status)
        if result.amount is not None and result.amount != payment.amount:
            log.error("payment_amount_mismatch", payment_id=payment.id, provider_amount=result.amount)
            self.note_unknown_outcome(payment, f"{cause}: provider reports {result.amount} VND for {payment.amount}")
            return Recorded.AMOUNT_MISMATCH
        target = self._target(payment, result, now)
        if result.transaction_id:
            payment.provider_transaction_id = payment.provider_transaction_id or result.transaction_id
        if target is None or target == current:
            if current not in OPEN:
                return Recorded.ALREADY_FINAL
            self.audit(payment, current, current, cause, result.codes, result.message or result.outcome.value)
            return Recorded.UNCHANGED
        if not can_move(current, target):
            return Recorded.ALREADY_FINAL
        if target is S.SUCCEEDED:
            payment.paid_at = result.paid_at or now
        payment.provider_codes = result.codes
        detail = result.message
        if target is S.SUCCEEDED and current not in OPEN:
            detail = f"provider reports payment after the payment was {current.value}: {result.message}"
            log.warning("late_payment", payment_id=payment.id, previous=current.value)
        self.transition(payment, target, cause, result.codes, detail)
        return Recorded.CHANGED

    def _target(self, payment: Payment, result: ProviderResult, now: datetime) -> S | None:
        expired = now >= payment.expires_at + timedelta(seconds=self.settings.payment_expiry_grace_seconds)
        match result.outcome:
            case ProviderOutcome.SUCCEEDED:
                return S.SUCCEEDED
            case ProviderOutcome.FAILED:
                return S.FAILED
            case ProviderOutcome.UNDER_REVIEW:
                return S.PROCESSING
            # The provider enforces our expiry (vnp_ExpireDate), so an unfinished or unknown
            # transaction past it can no longer be paid.
            case ProviderOutcome.PENDING | ProviderOutcome.NOT_FOUND:
                return S.EXPIRED if expired else None
        return None

    def citizen_returned(self, payment: Payment) -> None:
        """The citizen is back from the provider's page: the outcome exists, we just do not know it yet."""
        if payment.status == S.PENDING.value:
            self.transition(payment, S.PROCESSING, "return", detail=f"citizen returned from {payment.provider}")
        self.schedule_query(payment, soon=True)

    def note_unknown_outcome(self, payment: Payment, reason: str) -> None:
        """A query failed. Once the citizen can no longer be paying, the outcome is formally unknown."""
        expired = self.clock.now() >= payment.expires_at
        if payment.status == S.PENDING.value and expired:
            self.transition(payment, S.PROCESSING, "query", detail=reason)
        else:
            self.audit(payment, S(payment.status), S(payment.status), "query", detail=reason)

    def schedule_query(self, payment: Payment, *, soon: bool = False) -> None:
        now = self.clock.now()
        if payment.status not in OPEN:
            payment.next_query_at = None
            return
        if soon:
            payment.next_query_at = now
            return
        schedule = self.settings.payment_query_schedule_seconds
        delay = timedelta(seconds=schedule[min(payment.query_attempts, len(schedule) - 1)])
        next_at = now + delay
        deadline = payment.expires_at + timedelta(seconds=self.settings.payment_expiry_grace_seconds)
        if payment.status == S.PENDING.value and now < deadline:
            next_at = min(next_at, deadline)
        payment.next_query_at = next_at

    # -- shared ------------------------------------------------------------------------------------

    def transition(
        self, payment: Payment, target: S, cause: str, codes: dict[str, str] | None = None, detail: str = ""
    ) -> None:
        current = S(payment.status)
        if not can_move(current, target):
            raise InvalidTransition(f"Payment cannot move from {current.value} to {target.value}.")
        now = self.clock.now()
        payment.status = target.value
        payment.updated_at = now
        if target not in OPEN:
            payment.next_query_at = None
        self.audit(payment, current, target, cause, codes, detail)
        if target is S.SUCCEEDED:
            money_events.payment_succeeded(self.session, self.settings, payment, now)
        if target in EVENTS:
            enqueue(self.session, payment.client_id, EVENTS[target], payment_event_data(payment), now)
        note(
            log, "payment_status", payment_id=payment.id, from_status=current.value, to_status=target.value, cause=cause
        )

    def audit(
        self,
        payment: Payment,
        current: S | None,
        target: S,
        cause: str,
        codes: dict[str, str] | None = None,
        detail: str = "",
        refund_id: str | None = None,
    ) -> None:
        self.session.add(
            PaymentEvent(
                payment_id=payment.id,
                refund_id=refund_id,
                from_status=current.value if current else None,
                to_status=target.value,
                cause=cause,
                provider_codes=codes or {},
                detail=detail[:2000],
                occurred_at=self.clock.now(),
            )
        )

    # -- the portal's reads and commands ----------------------------------------------------------

    async def get(self, client: Caller, payment_id: str) -> Payment:
        payment = await self.session.scalar(_BY_ID, {"payment_id": payment_id, "client_id": client.id})
        return _found(payment, payment_id)

    async def search(
        self,
        client: Caller,
        dossier_code: str | None,
        status: PaymentStatus | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Payment], str | None]:
        query = select(Payment).where(Payment.client_id == client.id)
        if dossier_code:
            query = query.where(Payment.dossier_code == dossier_code)
        if status:
            query = query.where(Payment.status == status.value)
        if cursor:
            created_at, last_id = _decode_cursor(cursor)
            query = query.where(
                or_(
                    Payment.created_at < created_at,
                    and_(Payment.created_at == created_at, Payment.id < last_id),
                )
            )
        rows = list(
            await self.session.scalars(query.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit + 1))
        )
        next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
        return rows[:limit], next_cursor

    async def events(self, client: Caller, payment_id: str) -> list[PaymentEvent]:
        await self.get(client, payment_id)
        return list(
            await self.session.scalars(
                select(PaymentEvent).where(PaymentEvent.payment_id == payment_id).order_by(PaymentEvent.id)
            )
        )

    async def cancel(self, client: Caller, payment_id: str) -> Payment:
        payment = await self.get(client, payment_id)
        if payment.status == S.CANCELLED.value:
            return payment
        if payment.status != S.PENDING.value:
            raise InvalidTransition(
                f"Payment is {payment.status}; only a pending payment can be cancelled.",
                current_status=payment.status,
            )
        self.transition(payment, S.CANCELLED, "portal", detail="cancelled by the portal")
        return payment

    async def find_by_reference(self, provider: str, reference: str) -> Payment | None:
        return await self.session.scalar(_BY_REFERENCE, {"provider": provider, "reference": reference})


def _found(payment: Payment | None, payment_id: str) -> Payment:
    if payment is None:
        # Another client's payment answers exactly like a missing one (OWASP API1).
        raise NotFound(f"No payment '{payment_id}'.")
    return payment


def _encode_cursor(p: Payment) -> str:
    return base64.urlsafe_b64encode(f"{p.created_at.isoformat()}|{p.id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, Any]:
    try:
        created, last_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(created), last_id
    except (ValueError, UnicodeDecodeError):
        raise Unprocessable("The cursor is not one this API gave out.", field="cursor") from None
