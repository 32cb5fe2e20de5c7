"""Which status may follow which, and the portal event each final status emits.

Provider evidence of money received outranks every local decision: a payment the portal cancelled or
the gateway expired still becomes `succeeded` when VNPay proves the citizen paid, because the money
exists and must be accounted for (refunded or used). Nothing ever leaves `succeeded`.
"""

from __future__ import annotations

from contracts.payments import PaymentStatus as S
from contracts.webhooks import EventType

ALLOWED: dict[S, frozenset[S]] = {
    S.PENDING: frozenset({S.PROCESSING, S.SUCCEEDED, S.FAILED, S.CANCELLED, S.EXPIRED}),
    S.PROCESSING: frozenset({S.SUCCEEDED, S.FAILED, S.EXPIRED}),
    S.FAILED: frozenset({S.SUCCEEDED}),
    S.CANCELLED: frozenset({S.SUCCEEDED}),
    S.EXPIRED: frozenset({S.SUCCEEDED}),
    S.SUCCEEDED: frozenset(),
}

OPEN = frozenset({S.PENDING, S.PROCESSING})

EVENTS: dict[S, EventType] = {
    S.SUCCEEDED: EventType.PAYMENT_SUCCEEDED,
    S.FAILED: EventType.PAYMENT_FAILED,
    S.CANCELLED: EventType.PAYMENT_CANCELLED,
    S.EXPIRED: EventType.PAYMENT_EXPIRED,
}


def can_move(current: S, target: S) -> bool:
    return target in ALLOWED[current]
