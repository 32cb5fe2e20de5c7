"""Resolving a discrepancy: finance's note and action, audited, final, and acted on (docs/reconciliation.md).

- `write_off` posts the difference the gateway will not pursue (`write_off_entry`).
- `mark_paid` settles the payment the provider's file shows paid and the gateway does not, through the
  payments' own path (`PaymentService.record`: audit row, ledger entry, receipt, portal webhook).
- `refund` gives the money back through the provider: a payment the gateway had not counted as paid is
  first settled like `mark_paid` (the money exists, transitions.py), then refunded in full through
  `RefundService`, which sends, records, retries and queries it like any refund and posts its success.

Every check comes before anything changes: a refused resolution leaves the item, the payment and the
ledger as they were. The item's row lock makes a second submission wait and then find it resolved.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.payments import PaymentStatus, RefundCreate
from contracts.providers import ProviderOutcome, ProviderResult
from gateway.clock import Clock
from gateway.db.models import Payment, ReconciliationItem, ReconciliationResolution, ReconciliationRun, Refund
from gateway.errors import NotFound, Unprocessable
from gateway.ledger import accounts
from gateway.ledger.entries import NewEntry, discrepancy_resolved
from gateway.ledger.posting import post_once
from gateway.payments.providers import Providers
from gateway.payments.refund_rules import check_provider_rules
from gateway.payments.refunds import RefundService
from gateway.payments.service import PaymentService, Recorded
from gateway.reconciliation.errors import (
    AlreadyResolved,
    CannotMarkPaid,
    CannotWriteOff,
    NothingToResolve,
    NotRefundable,
    PaidByAnotherCharge,
)
from gateway.settings import Settings

log = structlog.get_logger()
PAID = PaymentStatus.SUCCEEDED.value


def write_off_entry(item: ReconciliationItem, provider: str, at: datetime, note: str) -> NewEntry | None:
    """A written-off discrepancy in the ledger: money the gateway's clearing counts that the provider does
    not hold leaves the clearing for write-offs; money the provider holds that the clearing does not count
    goes into the clearing from suspense, until someone claims it. A refund or a payment marked paid is
    posted by its own success, not here. A duplicate moved nothing the ledger does not show; a COD row is
    the carrier's remittance, kept in its COD accounts, not a provider's clearing: neither posts here."""
    if item.kind not in ("payment", "refund") or item.category == "duplicate":
        return None
    over = clearing_over(item)
    if over == 0:
        return None
    clearing = accounts.provider_clearing(provider)
    debit, credit = (accounts.write_offs(provider), clearing) if over > 0 else (clearing, accounts.suspense(provider))
    return discrepancy_resolved(f"recon-item-{item.id}", debit, credit, abs(over), at, note[:200])


def clearing_over(item: ReconciliationItem) -> int:
    """How much more the gateway's clearing counts than the provider holds, by this row. A payment the
    gateway counts adds to the clearing; a refund it counts takes from it, so a refund's difference has
    the opposite sign of a payment's."""
    file_amount, gateway_amount = item.amount or 0, item.gateway_amount or 0
    if item.category == "missing_in_provider":
        over = gateway_amount
    elif item.category == "missing_in_gateway":
        over = -file_amount
    elif item.category == "amount_mismatch":
        over = gateway_amount - file_amount
    elif item.category == "status_mismatch":
        counted = gateway_amount if item.gateway_status == "succeeded" else 0
        shown = file_amount if item.file_status == "succeeded" else 0
        over = counted - shown
    else:
        return 0
    return over if item.kind == "payment" else -over


def paid_by_row(item: ReconciliationItem, payment: Payment, source: str) -> ProviderResult:
    """What a settlement file's row says of `payment`: paid, by the row's transaction, amount and time.
    `source` says who took it from the file (the import, a resolution), for the payment's audit."""
    return ProviderResult(
        reference=payment.provider_ref,
        outcome=ProviderOutcome.SUCCEEDED,
        amount=item.amount,
        transaction_id=item.provider_txn_id,
        paid_at=item.occurred_at,
        message=f"{source} line {item.line_no}",
    )


def refuse_unsafe_write_off(item: ReconciliationItem) -> None:
    """A payment the provider's file shows paid while the gateway counts it failed, expired or cancelled
    cannot be written off: the payment may still succeed late (a notification, a query), and its own entry
    would then count the money a second time beside the write-off's. It is settled (mark_paid) or given back
    (refund) instead, each of which posts through the payment."""
    if (
        item.category == "status_mismatch"
        and item.kind == "payment"
        and item.file_status == "succeeded"
        and item.gateway_status != "succeeded"
    ):
        raise CannotWriteOff(
            f"The provider's file shows this payment paid and the gateway counts it {item.gateway_status}: "
            "resolve it with mark_paid (the money is the agency's) or refund (it goes back to the citizen). "
            "A write-off would be counted again if the payment succeeded late.",
            reason="may_still_succeed",
        )


class Resolutions:
    def __init__(self, session: AsyncSession, clock: Clock, providers: Providers, settings: Settings) -> None:
        self.session = session
        self.clock = clock
        self.providers = providers
        self.settings = settings

    async def resolve(
        self, item_id: int, action: str, note: str, reference: str | None, actor: str
    ) -> tuple[ReconciliationItem, ReconciliationResolution]:
        try:
            item, resolution, refund = await self._resolve(item_id, action, note, reference, actor)
        except Exception:
            await self.session.rollback()  # nothing of a refused resolution stays in the caller's session
            raise
        if refund is not None:
            await self._send(refund.id, actor)
            await self.session.refresh(item)
            await self.session.refresh(resolution)
        log.info("reconciliation_resolved", item_id=item.id, action=action, category=item.category)
        return item, resolution

    async def _send(self, refund_id: str, actor: str) -> None:
        """After the commit, as every refund is sent: no transaction is held across the provider's call,
        and should this process die first, the resolver sends the pending refund."""
        await RefundService(self._payments()).send(refund_id, requested_by=actor)

    async def _resolve(
        self, item_id: int, action: str, note: str, reference: str | None, actor: str
    ) -> tuple[ReconciliationItem, ReconciliationResolution, Refund | None]:
        item = await self.session.get(ReconciliationItem, item_id, with_for_update=True, populate_existing=True)
        if item is None:
            raise NotFound(f"No reconciliation item {item_id}.")
        if item.category == "matched":
            raise NothingToResolve("A matched item needs no resolution.")
        if item.resolution is not None:
            raise AlreadyResolved(f"Item {item_id} was resolved ({item.resolution}); a resolution is final.")
        if action == "mark_paid" and not reference:
            raise Unprocessable("mark_paid needs the id of the payment (pay_…) the file's row pays.", field="reference")
        run = await self.session.get_one(ReconciliationRun, item.run_id)
        now = self.clock.now()
        payment: Payment | None = None
        refund: Refund | None = None
        if action == "write_off":
            refuse_unsafe_write_off(item)
            await self._refuse_write_off_of_a_known_payment(item, run)
            if (entry := write_off_entry(item, run.provider, now, note)) is not None:
                await post_once(self.session, entry)
        elif action == "mark_paid":
            payment = await self._mark_paid(item, run, str(reference), actor)
        elif action == "refund":
            payment, refund = await self._refund(item, run, actor)
        resolution = ReconciliationResolution(
            item_id=item.id,
            action=action,
            note=note,
            reference=reference,
            category=item.category or "",
            amount=item.amount if item.amount is not None else item.gateway_amount or 0,
            actor=actor[:200],
            resolved_at=now,
            payment_id=payment.id if payment else None,
            refund_id=refund.id if refund else None,
        )
        item.resolution = action
        item.resolved_at = now
        if payment is not None and item.payment_id is None:
            item.payment_id = payment.id
        self.session.add(resolution)
        await self.session.commit()
        return item, resolution, refund

    # -- mark_paid -------------------------------------------------------------------------------------

    async def _mark_paid(self, item: ReconciliationItem, run: ReconciliationRun, reference: str, actor: str) -> Payment:
        """The payment named by `reference` (the gateway's payment id) becomes succeeded by the file's row.

        The reference is the gateway's id, not the provider's transaction id: the row already carries that,
        and what finance adds is which of the gateway's payments the money pays."""
        if item.kind != "payment" or item.category not in ("status_mismatch", "missing_in_gateway"):
            raise CannotMarkPaid(
                "mark_paid settles a payment the provider's file shows paid and the gateway does not "
                f"(status_mismatch or missing_in_gateway); this is a {item.kind} row, {item.category}.",
                reason="not_an_unpaid_payment",
            )
        self._file_shows_paid(item, CannotMarkPaid)
        payment = await self.session.get(Payment, reference, with_for_update=True, populate_existing=True)
        if payment is None or payment.provider != run.provider:
            raise CannotMarkPaid(
                f"No {run.provider} payment '{reference}': the reference is the gateway's payment id (pay_…).",
                reason="unknown_payment",
                field="reference",
            )
        if item.payment_id is not None and item.payment_id != payment.id:
            raise CannotMarkPaid(
                f"The file's row is payment {item.payment_id}'s, not {payment.id}'s.",
                reason="other_payment",
                field="reference",
            )
        self._same_amount(item, payment, CannotMarkPaid)
        if payment.status == PAID:
            self._same_charge(item, payment)
            return payment  # settled meanwhile (a late notification): the resolution records that
        await self._settle(item, run, payment, "mark_paid", actor)
        return payment

    # -- refund ----------------------------------------------------------------------------------------

    async def _refund(self, item: ReconciliationItem, run: ReconciliationRun, actor: str) -> tuple[Payment, Refund]:
        """The money the file shows the provider took for a payment, given back in full through the provider.
        The refund's reason goes to the provider and the portal: it names the item, never finance's note."""
        if item.kind != "payment":
            raise NotRefundable(
                f"Only money a provider took for a payment can be refunded; this is a {item.kind} row.",
                reason="not_a_payment",
            )
        if item.category == "duplicate":
            raise NotRefundable(
                f"The row repeats transaction {item.provider_txn_id}, which the provider charged once: a refund "
                "would give back the payment itself. Write the item off, or refund the payment through the "
                "payments API if that is meant.",
                reason="repeated_transaction",
            )
        if item.category == "amount_mismatch":
            raise NotRefundable(
                f"The provider's amount ({item.amount} VND) is not the payment's ({item.gateway_amount} VND): "
                "a refund through the provider gives back a whole payment or a part of it, not a difference "
                "nobody has explained. Ask the provider, then write the difference off.",
                reason="amounts_differ",
            )
        self._file_shows_paid(item, NotRefundable)
        payment = await self._payment_of(item, run)
        if payment is None:
            raise NotRefundable(
                f"No payment of the gateway's is transaction {item.provider_txn_id} (order {item.order_ref}): "
                "the provider refunds through its API only a payment the gateway made. Refund it from the "
                "provider's merchant portal, then write the item off.",
                reason="unknown_payment",
            )
        self._same_amount(item, payment, NotRefundable)
        if payment.status == PAID:
            self._same_charge(item, payment)
        provider = self.providers.get(payment.provider)
        # Before anything changes: a provider with no refund API (payOS), a closed window, … refuse here.
        check_provider_rules(provider, payment, payment.amount - payment.refunded_amount, self.clock.now())
        if payment.status != PAID:
            await self._settle(item, run, payment, "refund", actor)
            await self.session.flush()  # the refund's lock re-reads the payment: it must see it succeeded
        payments = self._payments()
        refund = await RefundService(payments).reserve_for(
            payment.id,
            RefundCreate(reason=f"Hoàn tiền theo đối soát, khoản {item.id}"),
            requested_by=actor,
        )
        return payment, refund

    # -- shared ----------------------------------------------------------------------------------------

    @staticmethod
    def _file_shows_paid(item: ReconciliationItem, error: type[Unprocessable]) -> None:
        if item.file_status != "succeeded" or not item.amount:
            raise error(
                "The provider's file does not show this paid: the provider holds nothing for it.",
                reason="not_paid_at_provider",
            )

    @staticmethod
    def _same_amount(item: ReconciliationItem, payment: Payment, error: type[Unprocessable]) -> None:
        if payment.amount != item.amount:
            raise error(
                f"The file's row is {item.amount} VND and payment {payment.id} is {payment.amount} VND.",
                reason="amounts_differ",
            )

    @staticmethod
    def _same_charge(item: ReconciliationItem, payment: Payment) -> None:
        """A succeeded payment's own transaction, not a second charge for it."""
        known = payment.provider_transaction_id
        if known is not None and item.provider_txn_id is not None and known != item.provider_txn_id:
            raise PaidByAnotherCharge(
                f"Payment {payment.id} succeeded by transaction {known}; the row is transaction "
                f"{item.provider_txn_id}, another charge. Write it off, or refund it from the provider's portal.",
                payment_id=payment.id,
            )

    async def _refuse_write_off_of_a_known_payment(self, item: ReconciliationItem, run: ReconciliationRun) -> None:
        """A row the import found no payment for may name one now (created or paid since): written off, its
        money would sit in suspense beside the payment's own entry, counted twice."""
        if item.kind != "payment" or item.category != "missing_in_gateway":
            return
        payment = await self._payment_of(item, run)
        if payment is not None:
            raise CannotWriteOff(
                f"Payment {payment.id} ({payment.status}) is this row's transaction or order now: resolve it "
                "with mark_paid, or refund. A write-off would count the money a second time beside the "
                "payment's own.",
                reason="payment_known",
                payment_id=payment.id,
            )

    async def _payment_of(self, item: ReconciliationItem, run: ReconciliationRun) -> Payment | None:
        """The item's payment, locked; for a row the import found nothing for, the payment its transaction
        id or order reference names now."""
        if item.payment_id is not None:
            return await self.session.get(Payment, item.payment_id, with_for_update=True, populate_existing=True)
        names = [Payment.provider_ref == item.order_ref] if item.order_ref else []
        if item.provider_txn_id:
            names.append(Payment.provider_transaction_id == item.provider_txn_id)
        if not names:
            return None
        return await self.session.scalar(
            select(Payment)
            .where(Payment.provider == run.provider, or_(*names))
            .order_by(Payment.created_at)
            .limit(1)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def _settle(
        self, item: ReconciliationItem, run: ReconciliationRun, payment: Payment, action: str, actor: str
    ) -> None:
        """The payment becomes succeeded by the file's row, through the same path as a notification: a
        late success of a failed, cancelled or expired payment is accepted (money was received)."""
        # The charge that paid it is the row's: a failed attempt's id kept before would send its refund
        # for the wrong transaction (`record` keeps an id it already has).
        payment.provider_transaction_id = item.provider_txn_id or payment.provider_transaction_id
        result = paid_by_row(item, payment, f"{action} by {actor[:100]}: settlement file, run {run.id}")
        recorded = self._payments().record(payment, result, "reconciliation")
        if recorded is not Recorded.CHANGED:  # the checks above make this unreachable; never settle silently
            raise CannotMarkPaid(f"Payment {payment.id} could not be settled ({recorded.value}).", reason="not_settled")

    def _payments(self) -> PaymentService:
        return PaymentService(self.session, self.providers, self.settings, self.clock)
