"""Journal entries before they are written, and the builders for each thing that moves money.

Each builder answers a balanced `NewEntry` for one cause; `gateway/ledger/posting.py` writes it. The
cause and its id identify the entry: at most one entry exists per (cause, cause id).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from contracts.money import MAX_VND
from gateway.ledger import accounts
from gateway.ledger.accounts import Account

MAX_POSTINGS = 60  # a payment has at most 50 fee lines, and they collapse onto two accounts
MAX_CAUSE_ID = 64
MAX_DESCRIPTION = 500
# Money in one posting: ten times a payment's limit leaves room for a settlement's daily total.
MAX_POSTING = 1000 * MAX_VND


class Cause(StrEnum):
    PAYMENT_SUCCEEDED = "payment_succeeded"  # cause id: the payment's id
    REFUND_SUCCEEDED = "refund_succeeded"  # the refund's id
    COD_COLLECTED = "cod_collected"  # the shipment's id
    SETTLEMENT_RECEIVED = "settlement_received"  # the settlement (reconciliation run or file line) id
    DISCREPANCY_RESOLVED = "discrepancy_resolved"  # the discrepancy's id
    CORRECTION = "correction"  # the correction's own id; `corrects` names the entry it corrects


class UnbalancedEntry(ValueError):
    """An entry whose postings do not sum to zero, or that is otherwise not one the ledger takes."""


@dataclass(frozen=True)
class NewEntry:
    cause: Cause
    cause_id: str
    description: str
    occurred_at: datetime
    postings: tuple[tuple[Account, int], ...]
    corrects: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def check(self) -> None:
        """Refuse what must never be written: an unbalanced entry, a zero or non-integer amount, a naive
        time, an identity too long to store."""
        if self.occurred_at.tzinfo is None:
            raise UnbalancedEntry("an entry's time must be timezone-aware")
        if not self.cause_id or len(self.cause_id) > MAX_CAUSE_ID:
            raise UnbalancedEntry(f"an entry's cause id is 1 to {MAX_CAUSE_ID} characters")
        if len(self.description) > MAX_DESCRIPTION:
            raise UnbalancedEntry(f"an entry's description is at most {MAX_DESCRIPTION} characters")
        if not 2 <= len(self.postings) <= MAX_POSTINGS:
            raise UnbalancedEntry(f"an entry has 2 to {MAX_POSTINGS} postings")
        for account, amount in self.postings:
            if not isinstance(account, Account):
                raise UnbalancedEntry("a posting names an Account")
            if type(amount) is not int or amount == 0 or abs(amount) > MAX_POSTING:
                raise UnbalancedEntry(f"a posting is a non-zero whole number of VND, got {amount!r} on {account}")
        total = sum(amount for _, amount in self.postings)
        if total != 0:
            raise UnbalancedEntry(f"entry {self.cause.value}:{self.cause_id} is off by {total} VND")
        if (self.cause is Cause.CORRECTION) != (self.corrects is not None):
            raise UnbalancedEntry("a correction, and only a correction, names the entry it corrects")


def _entry(
    cause: Cause,
    cause_id: str,
    description: str,
    at: datetime,
    lines: Iterable[tuple[Account, int]],
    corrects: str | None = None,
) -> NewEntry:
    """Postings on the same account are added up and zero ones left out, in a stable order."""
    totals: dict[Account, int] = defaultdict(int)
    for account, amount in lines:
        totals[account] += amount
    postings = tuple(sorted((a, v) for a, v in totals.items() if v != 0))
    entry = NewEntry(cause, cause_id, description[:MAX_DESCRIPTION], at, postings, corrects)
    entry.check()
    return entry


# -- what a payment's fee lines credit --------------------------------------------------------------


def credited_accounts(agency_code: str, lines: Iterable[Mapping[str, Any]]) -> dict[Account, int]:
    """Where a payment's money belongs: fees and charges (phí, lệ phí) to the agency, postage to the
    postal service."""
    credits: dict[Account, int] = defaultdict(int)
    for line in lines:
        account = accounts.postage_payable() if line["kind"] == "postage" else accounts.fees_receivable(agency_code)
        credits[account] += int(line["amount"])
    return dict(credits)


def refund_allocation(credited: Mapping[Account, int], refunded_before: int, amount: int) -> dict[Account, int]:
    """Which of a payment's credited accounts a refund of `amount` gives back from, after `refunded_before`
    was already given back: postage first, then the agency's fees. A fixed order makes the split of any
    total refunded the same however it was reached in parts, so no account is given back more than it got."""

    def taken(total: int) -> dict[Account, int]:
        out: dict[Account, int] = {}
        order = sorted(credited, key=lambda a: (a.kind is not accounts.AccountKind.POSTAGE_PAYABLE, a))
        for account in order:
            share = min(credited[account], total)
            out[account] = share
            total -= share
        if total > 0:
            raise UnbalancedEntry("refunds exceed what the payment credited")
        return out

    before, after = taken(refunded_before), taken(refunded_before + amount)
    return {a: after[a] - before[a] for a in credited if after[a] != before[a]}


# -- the builders -------------------------------------------------------------------------------------


def payment_succeeded(
    payment_id: str, provider: str, agency_code: str, amount: int, lines: Iterable[Mapping[str, Any]], at: datetime
) -> NewEntry:
    """The provider owes us what the citizen paid; the agency and the postal service are owed their parts."""
    credited = credited_accounts(agency_code, lines)
    if sum(credited.values()) != amount:
        raise UnbalancedEntry(f"payment {payment_id}: fee lines add up to {sum(credited.values())}, not {amount}")
    postings = [(accounts.provider_clearing(provider), amount), *((a, -v) for a, v in credited.items())]
    return _entry(Cause.PAYMENT_SUCCEEDED, payment_id, f"payment {payment_id} succeeded", at, postings)


def refund_succeeded(
    refund_id: str,
    payment_id: str,
    provider: str,
    agency_code: str,
    lines: Iterable[Mapping[str, Any]],
    refunded_before: int,
    amount: int,
    at: datetime,
) -> NewEntry:
    """The provider gives money back (it owes us that much less); the agency's refunds account and the
    postal service carry what is given back of their parts."""
    given_back = refund_allocation(credited_accounts(agency_code, lines), refunded_before, amount)
    postings: list[tuple[Account, int]] = [(accounts.provider_clearing(provider), -amount)]
    for account, value in given_back.items():
        postings.append(
            (accounts.refunds(agency_code) if account.kind is accounts.AccountKind.FEES_RECEIVABLE else account, value)
        )
    return _entry(Cause.REFUND_SUCCEEDED, refund_id, f"refund {refund_id} of payment {payment_id}", at, postings)


def cod_collected(shipment_id: str, carrier: str, owner: str, amount: int, at: datetime) -> NewEntry:
    """The carrier collected cash on delivery: it owes us that, and we owe it to the shipment's sender
    (`owner`, the portal client on whose behalf it was sent)."""
    postings = [(accounts.cod_receivable(carrier), amount), (accounts.cod_payable(owner), -amount)]
    return _entry(Cause.COD_COLLECTED, shipment_id, f"COD collected for shipment {shipment_id}", at, postings)


def settlement_received(
    settlement_id: str, source: Account, gross: int, charges: int, at: datetime, into: Account | None = None
) -> NewEntry:
    """A provider (or the carrier, `source` = its COD receivable) paid out `gross` less its `charges`:
    the bank has the net, the charges are an expense, and the source owes `gross` less."""
    if gross < 0 or charges < 0 or charges > gross:
        raise UnbalancedEntry("a settlement's gross and charges are non-negative, the charges at most the gross")
    charge_account = accounts.provider_charges(source.key)
    postings = [(into or accounts.bank(), gross - charges), (charge_account, charges), (source, -gross)]
    return _entry(Cause.SETTLEMENT_RECEIVED, settlement_id, f"settlement {settlement_id} from {source}", at, postings)


def discrepancy_resolved(
    discrepancy_id: str, debit: Account, credit: Account, amount: int, at: datetime, note: str = ""
) -> NewEntry:
    """Finance resolved a discrepancy: `amount` moves from `credit` to `debit` (e.g. a shortfall written
    off: debit write_offs, credit the provider's clearing; money nobody claimed: debit clearing, credit
    suspense)."""
    if amount <= 0:
        raise UnbalancedEntry("a resolution moves a positive amount")
    postings = [(debit, amount), (credit, -amount)]
    return _entry(
        Cause.DISCREPANCY_RESOLVED, discrepancy_id, note or f"discrepancy {discrepancy_id} resolved", at, postings
    )


def correction(
    correction_id: str, corrects: str, postings: Iterable[tuple[Account, int]], at: datetime, note: str
) -> NewEntry:
    """A correcting entry: how a mistake is fixed, since no entry is ever changed or removed."""
    return _entry(Cause.CORRECTION, correction_id, note, at, postings, corrects=corrects)
