"""payOS's codes and statuses, and what they mean for the port."""

from __future__ import annotations

from contracts.providers import ProviderOutcome, Verdict

SUCCESS = "00"  # `code` of every answer that did what was asked, and of a paid webhook's data
NOT_FOUND = "101"  # a payment link payOS does not know (GET /v2/payment-requests/{id})

# PaymentLink.status (payos 1.1.0, types/v2/payment_requests: PaymentLinkStatus).
STATUS_OUTCOMES: dict[str, ProviderOutcome] = {
    "PAID": ProviderOutcome.SUCCEEDED,
    "PENDING": ProviderOutcome.PENDING,
    "PROCESSING": ProviderOutcome.PENDING,
    # Part of the amount arrived: the link stays open for the rest, nothing is settled yet.
    "UNDERPAID": ProviderOutcome.PENDING,
    "CANCELLED": ProviderOutcome.FAILED,
    "EXPIRED": ProviderOutcome.FAILED,
    "FAILED": ProviderOutcome.FAILED,
}

# payOS retries a webhook until it gets a 2xx; it reads nothing of the body. These codes are the gateway's
# own, kept with each notification to say what was made of it. A failure of ours answers 500 so payOS
# sends the webhook again; everything else is settled, a forgery included (nobody should resend it).
ACK: dict[Verdict, tuple[str, int, str]] = {
    Verdict.RECORDED: ("00", 200, "recorded"),
    Verdict.ALREADY_FINAL: ("02", 200, "already recorded"),
    Verdict.UNKNOWN_ORDER: ("01", 200, "order not found"),  # also payOS's confirm-webhook test delivery
    Verdict.AMOUNT_MISMATCH: ("04", 200, "amount does not match the order"),
    Verdict.INVALID_SIGNATURE: ("97", 200, "invalid signature"),
    Verdict.RETRY: ("99", 500, "not recorded, send again"),
}
