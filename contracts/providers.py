"""The port every payment provider adapter fills, and the values that cross it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
    return_url: str  # where the provider sends the citizen's browser back (the gateway's /callbacks/{name}/return)
    client_ip: str
    locale: str = "vn"
    # Where the provider sends its notification (the gateway's /callbacks/{name}/ipn), for providers that
    # take it with each order; VNPay's is registered with VNPay instead.
    notify_url: str = ""


@dataclass(frozen=True, slots=True)
class Checkout:
    """Where the citizen pays: a page, and where the provider gives them, a QR payload and an app link."""

    url: str
    qr_code: str | None = None
    deeplink: str | None = None
    provider_order_id: str | None = None  # the provider's own id of the order, when it makes one


class Verdict(StrEnum):
    """What the gateway made of a notification; each adapter says it in its provider's terms."""

    RECORDED = "recorded"
    ALREADY_FINAL = "already_final"
    UNKNOWN_ORDER = "unknown_order"
    AMOUNT_MISMATCH = "amount_mismatch"
    INVALID_SIGNATURE = "invalid_signature"
    RETRY = "retry"  # a failure of ours: the provider should send it again


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The exact HTTP answer a provider expects for a verdict, and its code in the provider's terms (kept
    with the notification)."""

    code: str
    status_code: int
    body: bytes
    media_type: str = "application/json"


class Capability(StrEnum):
    REFUND = "refund"
    PARTIAL_REFUND = "partial_refund"
    CANCEL = "cancel"
    REFUND_STATUS = "refund_status"
    QR = "qr"  # the checkout carries a QR payload to show


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
class Inbound:
    """A provider's request to the gateway exactly as it arrived: signatures are over these bytes."""

    method: str
    query: str  # the raw query string, still percent-encoded
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case
    body: bytes = b""


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
    """A provider the citizen pays through: a checkout (page, QR or app), an outcome that comes back
    signed, queries, and whatever of refunds and cancelling it declares in `capabilities`."""

    name: str
    display_name: str  # as a citizen knows it
    capabilities: frozenset[Capability]
    max_amount: int  # the most one payment may be, in VND
    # How long after a payment is paid the provider still takes a refund of it; None: no refunds through its
    # API (see capabilities), or no limit it states. The gateway refuses a refund past it with a problem that
    # gives the deadline, instead of sending one the provider must refuse.
    refund_window: timedelta | None
    min_refund_amount: int  # the least one refund may be, in VND (a partial one too)

    def reference_for(self, payment_id: str, created_at: datetime) -> str:
        """The provider-facing order id of a new payment (vnp_TxnRef, orderId, app_trans_id), in the form
        the provider requires; unique for the provider."""
        ...

    async def create_checkout(self, order: CheckoutOrder) -> Checkout:
        """Raise ProviderUnavailable when the outcome of the call is unknown, ProviderRejected when refused."""
        ...

    def parse_notification(self, inbound: Inbound) -> ProviderResult:
        """Verify and read a notification (or a browser return); raise InvalidSignature when anything
        about it is not vouched for by the provider's signature. Every value returned comes from what
        the signature covers."""
        ...

    def unsigned_return_reference(self, inbound: Inbound) -> str | None:
        """For a provider that sends the citizen's browser back with an unsigned query (payOS): the order
        reference that query names, read strictly, as a hint only. The gateway never trusts the query: it
        asks the provider (query) about that order and settles from the verified answer. None for a provider
        whose return is signed (parse_notification reads it), and for a query that names no order."""
        ...

    def acknowledge(self, verdict: Verdict) -> Acknowledgement: ...

    async def query(self, ref: TransactionRef) -> ProviderResult: ...

    async def refund(self, order: RefundOrder) -> RefundResult: ...

    async def query_refund(self, ref: TransactionRef, request_id: str, sent_at: datetime) -> RefundResult | None:
        """What the provider says of the refund it was sent as `request_id` (RefundOrder.request_id) at
        `sent_at` (RefundOrder.requested_at): a result with that request_id, or NOT_FOUND if it has no such
        refund. A provider that can only report
        the transaction's latest refund (VNPay) answers that with request_id "" (None: it made none), and
        the resolver works out whose it is."""
        ...
