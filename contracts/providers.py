"""The port every payment provider adapter fills, and the values that cross it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class ProviderOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"  # the provider knows the transaction and the citizen has not finished it
    UNDER_REVIEW = "under_review"  # money may have moved but the provider holds it for a check
    NOT_FOUND = "not_found"  # the provider has no such transaction (the citizen never reached it)


@dataclass(frozen=True, slots=True)
class CheckoutOrder:
    reference: str  # the provider-facing order id (vnp_TxnRef, orderId, app_trans_id)
    amount: int
    description: str
    created_at: datetime
    expires_at: datetime
    return_url: str
    client_ip: str
    locale: str = "vn"


@dataclass(frozen=True, slots=True)
class ProviderResult:
    """What a provider says about one transaction, from a notification or a query."""

    reference: str
    outcome: ProviderOutcome
    amount: int | None = None
    transaction_id: str | None = None
    paid_at: datetime | None = None
    message: str = ""
    codes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TransactionRef:
    reference: str
    created_at: datetime
    transaction_id: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class RefundOrder:
    request_id: str
    payment: TransactionRef
    amount: int
    full: bool
    requested_by: str
    reason: str
    requested_at: datetime


@dataclass(frozen=True, slots=True)
class RefundResult:
    request_id: str
    outcome: ProviderOutcome
    transaction_id: str | None = None
    message: str = ""
    codes: dict[str, str] = field(default_factory=dict)


class PaymentProvider(Protocol):
    """A redirect-style provider: the citizen pays on the provider's page; the outcome comes back signed."""

    name: str

    def checkout_url(self, order: CheckoutOrder) -> str: ...

    def parse_notification(self, params: dict[str, str], raw: str | None = None) -> ProviderResult:
        """Verify and read a notification; raise InvalidSignature when it is forged.

        `raw` is the notification exactly as received (query string or body): signatures are over bytes.
        """
        ...

    async def query(self, ref: TransactionRef) -> ProviderResult: ...

    async def refund(self, order: RefundOrder) -> RefundResult: ...

    async def query_refund(self, ref: TransactionRef) -> RefundResult | None:
        """The provider's latest refund of the transaction (its request_id empty), None if it made none."""
        ...
