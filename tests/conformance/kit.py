"""What the conformance suite needs from each payment adapter, in terms that hold for every provider.

A kit speaks the provider's side of the wire with its own code (never the adapter's): it signs
notifications and API answers the way the provider documents, reads what the adapter sends, and holds the
provider's published vectors, acknowledgements and code tables as data. The tests only compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx
import respx

from contracts.providers import (
    Checkout,
    CheckoutOrder,
    Inbound,
    PaymentProvider,
    ProviderOutcome,
    RefundOrder,
    TransactionRef,
    Verdict,
)

# Digits only: every provider takes it as an order reference, and payOS takes nothing else (orderCode).
REFERENCE = "4815162342108"
AMOUNT = 35000
ORDER = CheckoutOrder(
    reference=REFERENCE,
    amount=AMOUNT,
    description="Le phi ho so 000.00.12.H29-241123-0001",
    created_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
    expires_at=datetime(2026, 11, 23, 10, 15, tzinfo=UTC),
    return_url="https://gw.example.vn/callbacks/vnpay/return",
    client_ip="113.160.1.2",
)
TRANSACTION_ID = "14226112"
PAYMENT = TransactionRef(
    reference=REFERENCE, created_at=ORDER.created_at, transaction_id=TRANSACTION_ID, description=ORDER.description
)
REFUND = RefundOrder(
    request_id="c0ffee0123456789c0ffee0123456789",
    payment=PAYMENT,
    amount=12000,
    full=False,
    requested_by="ops",
    reason="Hoan phi nop thua",
    requested_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
)


@dataclass(frozen=True)
class Variant:
    name: str
    inbound: Inbound


@dataclass(frozen=True)
class SignatureVector:
    """An input and the signature the provider's documentation gives for it (or, where the documentation
    gives only the recipe, the signature computed by the kit from the documented string)."""

    name: str
    kind: str  # which of the provider's signing schemes; only the kit reads it
    message: Mapping[str, object]
    secret: str
    signature: str
    signed_text: str | None = None  # the exact text signed, where the documentation prints it


@dataclass(frozen=True)
class ExpectedAck:
    """The answer the provider documents for one verdict: `document` is the JSON it parses (None for an
    empty body), `resent` whether the provider sends the notification again after it."""

    code: str
    status_code: int
    media_type: str
    document: object
    resent: bool


Expected = ProviderOutcome | None | type[Exception]


@dataclass(frozen=True)
class OutcomeCase:
    """One row of a provider's code table: the codes as they come on the wire and what they must mean (an
    outcome, None where the port says "nothing to report", or the error the adapter must raise)."""

    name: str
    codes: Mapping[str, str]
    expected: Expected


class Kit(Protocol):
    name: str

    def provider(self) -> PaymentProvider: ...

    # Notifications

    def genuine(self, outcome: ProviderOutcome, **changes: str) -> Inbound:
        """A notification exactly as the provider sends it for ORDER."""
        ...

    def forgeries(self, genuine: Inbound) -> list[Variant]:
        """Changes to a genuine notification that must be refused: tampered, smuggled or duplicated fields."""
        ...

    def re_encodings(self, genuine: Inbound) -> list[Variant]:
        """The same notification as other senders may encode it: must read exactly as the genuine one."""
        ...

    def checkout_as_notification(self, provider: PaymentProvider) -> list[Variant]:
        """The adapter's own signed checkout request, sent back as if it were a notification."""
        ...

    def notification(self, codes: Mapping[str, str], wire_amount: str | None = None) -> Inbound:
        """A genuine notification for ORDER carrying `codes`, and `wire_amount` verbatim as its amount."""
        ...

    # Published vectors

    def signature_vectors(self) -> list[SignatureVector]: ...

    def adapter_signature(self, vector: SignatureVector) -> str:
        """The signature the adapter's signing code gives `vector.message`."""
        ...

    def adapter_signed_text(self, vector: SignatureVector) -> str:
        """The text the adapter's signing code signs for `vector.message`."""
        ...

    def request_is_signed(self, request: httpx.Request) -> bool:
        """Whether a request the adapter sent carries the signature the provider checks for."""
        ...

    # Acknowledgements and code tables

    acknowledgements: Mapping[Verdict, ExpectedAck]
    notification_outcomes: list[OutcomeCase]
    query_outcomes: list[OutcomeCase]
    refund_outcomes: list[OutcomeCase]
    refund_query_outcomes: list[OutcomeCase]

    # The provider's API, mocked

    def query_route(self, router: respx.MockRouter) -> respx.Route: ...

    def refund_route(self, router: respx.MockRouter) -> respx.Route: ...

    def query_answer(self, codes: Mapping[str, str], wire_amount: str | None = None) -> httpx.Response:
        """The provider's signed answer to a query of PAYMENT."""
        ...

    def refund_answer(self, codes: Mapping[str, str]) -> httpx.Response:
        """The provider's signed answer to REFUND."""
        ...

    # Amounts

    def wire_amount(self, vnd: int) -> str:
        """`vnd` as the provider writes an amount."""
        ...

    def malformed_wire_amounts(self) -> dict[str, str]:
        """Amounts the provider never sends, by what is wrong with them: each must be refused, never read."""
        ...

    largest_amount: int  # the largest amount in VND the provider carries

    def checkout_wire_amount(self, checkout: Checkout) -> str:
        """The amount the adapter put in a checkout, exactly as written."""
        ...

    def sent_wire_amount(self, request: httpx.Request) -> str:
        """The amount of a refund request the adapter sent, exactly as written."""
        ...

    # Retries

    query_attempts: int  # how often a query is sent in all when the provider cannot be reached
    refund_attempts_unreached: int  # how often a refund is sent in all when the connection is never made
