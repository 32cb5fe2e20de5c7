"""Which way a shipment's status may move, and which portal event each move sends.

Statuses only move forward through the phases below; within the delivery phase they move freely (out for
delivery, failed, held, out again). A final status never moves except by an audited correction.
"""

from __future__ import annotations

from contracts.shipping import FINAL_STATUSES, ShipmentStatus
from contracts.webhooks import EventType

S = ShipmentStatus

PHASE = {
    S.PENDING: 0,
    S.PICKED_UP: 1,
    S.IN_TRANSIT: 2,
    S.OUT_FOR_DELIVERY: 2,
    S.DELIVERY_FAILED: 2,
    S.ON_HOLD: 2,
    S.EXCEPTION: 2,
    S.RETURN_TO_SENDER: 3,
    S.DELIVERED: 4,
    S.RETURNED_TO_AGENCY: 4,
    S.CANCELLED: 4,
}


def can_move(current: S, target: S) -> bool:
    if current in FINAL_STATUSES or current == target:
        return False
    if current is S.RETURN_TO_SENDER and target is S.DELIVERED:
        return False  # on its way back, it can only come back (or be lost)
    return PHASE[target] >= PHASE[current]


def event_type(target: S) -> EventType:
    return {
        S.DELIVERED: EventType.SHIPMENT_DELIVERED,
        S.DELIVERY_FAILED: EventType.SHIPMENT_DELIVERY_FAILED,
        S.RETURNED_TO_AGENCY: EventType.SHIPMENT_RETURNED,
    }.get(target, EventType.SHIPMENT_STATUS_CHANGED)
