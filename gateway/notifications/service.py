"""The acceptance rules for every provider's notifications: what the adapter verified is applied to its
payment and recorded, once, and the verdict goes back in the provider's own terms (its `acknowledge`).

In the order of VNPay's sample, which the others follow too: signature, order exists, amount, order
still open, record. A notification is recorded with the verdict it got; one that fails verification is
only counted and sampled (rejections.py). A failure of ours is a RETRY: every provider re-sends then.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl

import structlog
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.errors import InvalidSignature
from contracts.providers import Acknowledgement, Inbound, PaymentProvider, ProviderResult, Verdict
from gateway.clock import Clock
from gateway.db.models import Payment, ProviderNotification
from gateway.db.races import RACE_ERRORS, lost_race
from gateway.logging import note, notes_undone_on_error
from gateway.notifications.rejections import record_rejection
from gateway.payments.providers import Providers
from gateway.payments.resolver import OPEN_VALUES, Resolver
from gateway.payments.service import PaymentService, Recorded
from gateway.request_text import storable
from gateway.settings import Settings

log = structlog.get_logger()
# How long a citizen's browser waits on the gateway asking the provider about an unsigned return: past it
# they go on to the portal with what is known, and the resolver finds out the rest.
RETURN_QUERY_SECONDS = 8.0

_BY_REFERENCE = select(Payment).where(
    Payment.provider == bindparam("provider"), Payment.provider_ref == bindparam("reference")
)
_VERDICTS = {
    Recorded.CHANGED: Verdict.RECORDED,
    Recorded.UNCHANGED: Verdict.RECORDED,
    Recorded.ALREADY_FINAL: Verdict.ALREADY_FINAL,
    Recorded.AMOUNT_MISMATCH: Verdict.AMOUNT_MISMATCH,
}


def evidence_of(inbound: Inbound) -> dict[str, str]:
    """What a notification said, to keep: its query fields, and its body's fields if it is a JSON object."""
    fields = dict(parse_qsl(inbound.query, keep_blank_values=True))
    if inbound.body:
        try:
            body = json.loads(inbound.body)
        except ValueError:
            body = None
        if isinstance(body, dict):
            fields.update({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
        else:
            fields["_body"] = inbound.body.decode("utf-8", "replace")
    return storable(fields)


class NotificationService:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], providers: Providers, settings: Settings, clock: Clock
    ) -> None:
        self.sessionmaker = sessionmaker
        self.providers = providers
        self.settings = settings
        self.clock = clock
        self.resolver = Resolver(sessionmaker, providers, settings, clock)

    async def receive(self, provider: PaymentProvider, inbound: Inbound) -> Acknowledgement:
        evidence = evidence_of(inbound)
        try:
            result: ProviderResult | None = provider.parse_notification(inbound)
        except InvalidSignature as exc:
            log.warning("notification_refused", provider=provider.name, reason=exc.message)
            result, verdict = None, Verdict.INVALID_SIGNATURE
        except ValueError:
            # Signed by the provider, yet a value we cannot read: kept whole, and the provider will re-send.
            result, verdict = None, Verdict.RETRY
        for _attempt in range(2):
            try:
                with notes_undone_on_error():
                    verdict = await self._apply(provider, result, evidence, verdict if result is None else None)
                break
            except RACE_ERRORS as exc:
                if not lost_race(exc):
                    log.exception("notification_error", provider=provider.name)
                    verdict = Verdict.RETRY
                    break
                # A duplicate or a query changed the payment first (nothing was written): read it again.
                verdict = Verdict.RETRY
            except Exception:
                log.exception("notification_error", provider=provider.name)
                verdict = Verdict.RETRY
                break
        ack = provider.acknowledge(verdict)
        reference = result.reference[:64] if result is not None else None
        note(log, "notification", provider=provider.name, reference=reference, verdict=verdict.value, ack=ack.code)
        return ack

    async def _apply(
        self, provider: PaymentProvider, result: ProviderResult | None, evidence: dict[str, str], known: Verdict | None
    ) -> Verdict:
        now = self.clock.now()
        async with self.sessionmaker() as session:
            if result is None and known is Verdict.INVALID_SIGNATURE:
                await record_rejection(session, provider.name, evidence, provider.acknowledge(known).code, now)
                await session.commit()
                return known
            verdict = known or Verdict.RETRY
            if result is not None:
                verdict = await self._record(session, provider.name, result)
            session.add(
                ProviderNotification(
                    provider=provider.name,
                    reference=result.reference[:64] if result is not None else None,
                    payload=evidence,
                    signature_valid=True,
                    ack_code=provider.acknowledge(verdict).code,
                    received_at=now,
                )
            )
            await session.commit()
            return verdict

    async def _record(self, session: AsyncSession, provider: str, result: ProviderResult) -> Verdict:
        payment = await session.scalar(_BY_REFERENCE, {"provider": provider, "reference": result.reference})
        if payment is None:
            return Verdict.UNKNOWN_ORDER
        payments = PaymentService(session, self.providers, self.settings, self.clock)
        recorded = payments.record(payment, result, "ipn")
        if recorded is Recorded.UNCHANGED:
            payments.schedule_query(payment, soon=True)
        return _VERDICTS[recorded]

    async def browser_return(self, provider: PaymentProvider, inbound: Inbound) -> Payment | None:
        """The payment a signed browser return is about, marked as finished by the citizen; None when the
        return is not signed or names no payment. Only the notification or a query decides the outcome."""
        hint = provider.unsigned_return_reference(inbound)
        if hint is not None:
            return await self._checked_return(provider, hint)
        try:
            result = provider.parse_notification(inbound)
        except (InvalidSignature, ValueError) as exc:
            log.warning("return_refused", provider=provider.name, reason=getattr(exc, "message", type(exc).__name__))
            return None
        async with self.sessionmaker() as session:
            payment = await session.scalar(_BY_REFERENCE, {"provider": provider.name, "reference": result.reference})
            if payment is None:
                return None
            payments = PaymentService(session, self.providers, self.settings, self.clock)
            payments.citizen_returned(payment)
            try:
                await session.commit()
            except RACE_ERRORS as exc:
                if not lost_race(exc):
                    raise
                await session.rollback()  # the notification or a query got there first: it knows more
                payment = await session.scalar(
                    _BY_REFERENCE, {"provider": provider.name, "reference": result.reference}
                )
            return payment

    async def _checked_return(self, provider: PaymentProvider, reference: str) -> Payment | None:
        """An unsigned return names an order and nothing more is believed of it: the payment of that order,
        settled from what its provider answers when asked (a signed answer), within RETURN_QUERY_SECONDS.
        A reference no payment has is not asked about, so a forged query costs the provider nothing."""
        async with self.sessionmaker() as session:
            payment = await session.scalar(_BY_REFERENCE, {"provider": provider.name, "reference": reference})
        if payment is None:
            log.warning("return_refused", provider=provider.name, reason="unsigned return names no payment")
            return None
        if payment.status in OPEN_VALUES:
            try:
                async with asyncio.timeout(RETURN_QUERY_SECONDS):
                    await self.resolver.resolve(payment.id)
            except TimeoutError:
                log.warning("return_query_timed_out", provider=provider.name, payment_id=payment.id)
        async with self.sessionmaker() as session:
            return await session.get(Payment, payment.id)
