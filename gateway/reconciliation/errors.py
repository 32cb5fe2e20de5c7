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
