"""Reconciliation's own domain errors; gateway/problems.py maps every DomainError to HTTP."""

from __future__ import annotations

from gateway.errors import Conflict, DomainError, Unprocessable


class BadSettlementFile(Unprocessable):
    """The file is not the provider's layout, is not in its encoding, or a row does not parse: nothing is
    imported. `line` is the file's line (CSV) or sheet row (XLSX), counting the header as 1."""

    type_slug = "bad-settlement-file"
    title = "The settlement file cannot be read"

    def __init__(self, line: int, detail: str) -> None:
        super().__init__(f"line {line}: {detail}", line=line)
        self.line = line


class NotFinance(DomainError):
    status = 403
    type_slug = "forbidden"
    title = "This key may not use the finance API"


class AlreadyResolved(Conflict):
    type_slug = "already-resolved"
    title = "This item is already resolved"


class NothingToResolve(Conflict):
    type_slug = "nothing-to-resolve"
    title = "A matched item is not a discrepancy"


class NotRefundable(Unprocessable):
    """`reason` says why: not a payment row, a repeated transaction, amounts that differ, nothing paid at
    the provider, no payment of the gateway's. The provider's own refund rules answer their own problems
    (refund-not-offered for payOS, …)."""

    type_slug = "not-refundable"
    title = "This discrepancy cannot be resolved by a refund"


class CannotMarkPaid(Unprocessable):
    type_slug = "cannot-mark-paid"
    title = "This discrepancy cannot be resolved by marking a payment paid"


class CannotWriteOff(Unprocessable):
    type_slug = "cannot-write-off"
    title = "This discrepancy cannot be written off"


class PaidByAnotherCharge(Conflict):
    """The payment already succeeded by another of the provider's transactions: the row is a second charge."""

    type_slug = "paid-by-another-charge"
    title = "The payment was paid by another transaction"
