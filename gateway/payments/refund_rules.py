"""The rules a payment's provider puts on refunding it, checked before anything is reserved or sent, each
refused with a problem that names the rule and why.

The provider declares them on the port (contracts/providers.py): whether it refunds through its API at all,
whether a part of a payment, the least one refund may be, and how long after the payment it still takes one.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from contracts.providers import Capability, PaymentProvider
from gateway.db.models import Payment
from gateway.errors import PartialRefundNotOffered, RefundBelowMinimum, RefundNotOffered, RefundWindowClosed

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # the time a citizen and a provider's back office read a deadline in


def check_provider_rules(provider: PaymentProvider, payment: Payment, amount: int, now: datetime) -> None:
    """Raise the problem of the first of `provider`'s rules that a refund of `amount` VND of `payment`,
    asked for at `now`, breaks."""
    name = provider.display_name
    can = provider.capabilities
    if Capability.REFUND not in can:
        raise RefundNotOffered(
            f"{name} has no refund API: a payment through it cannot be refunded through this gateway. "
            "Return the money to the citizen another way (a bank transfer from the agency's account).",
            provider=payment.provider,
        )
    window = provider.refund_window
    if window is not None:
        paid_at = payment.paid_at or payment.created_at
        deadline = paid_at + window
        if now > deadline:
            raise RefundWindowClosed(
                f"{name} takes a refund up to {window.days} days after the payment; this one was paid at "
                f"{paid_at.astimezone(VN_TZ).isoformat()}, so the last moment was "
                f"{deadline.astimezone(VN_TZ).isoformat()}.",
                provider=payment.provider,
                window_days=window.days,
                deadline=deadline.isoformat(),
            )
    if 0 < amount < payment.amount and Capability.PARTIAL_REFUND not in can:
        raise PartialRefundNotOffered(
            f"{name} refunds only a whole payment ({payment.amount} VND); {amount} VND was asked.",
            provider=payment.provider,
            payment_amount=payment.amount,
        )
    if 0 < amount < provider.min_refund_amount:
        raise RefundBelowMinimum(
            f"{name} refunds at least {provider.min_refund_amount} VND at a time; {amount} VND was asked.",
            provider=payment.provider,
            min_refund_amount=provider.min_refund_amount,
        )
