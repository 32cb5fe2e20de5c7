"""payOS's codes and statuses, and what they mean for the port."""

from __future__ import annotations

from contracts.providers import ProviderOutcome, Verdict

SUCCESS = "00"  # `code` of every answer that did what was asked, and of a paid webhook's data
# UNVERIFIED: payOS publishes no table of its codes, and neither its SDKs (payos-lib-python, -node: they
# raise on any code but "00" and carry code and desc through) nor the reference name 101. No independent
# integration seen uses it either. If real payOS answers an unknown link otherwise, a query of a link it
# never made is refused (ProviderRejected) instead of read as NOT_FOUND, and the resolver keeps asking.
NOT_FOUND = "101"  # a payment link payOS does not know (GET /v2/payment-requests/{id})
# Seen in independent integrations, not in payOS's own documents: "231" with desc "Đơn thanh toán đã tồn
# tại" (an orderCode already used, on create), "20" "Thông tin truyền lên không đúng" (invalid request) and
# "201" "Mã kiểm tra(signature) không hợp lệ". The adapter reads none of them: every code but "00" on a
# create is a refusal, with payOS's code and desc kept.

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
