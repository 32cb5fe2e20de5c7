"""ORM rows to the API's pydantic models; also the data of the portal events."""

from __future__ import annotations

from typing import Any

from contracts.shipments import ShipmentEventOut, ShipmentOut, TrackingEventOut, TrackingOut
from gateway.db.models import Shipment, ShipmentEvent


def _address(stored: dict[str, Any]) -> dict[str, Any]:
    return {**stored, "district": stored.get("district_name")}


def shipment_out(s: Shipment) -> ShipmentOut:
    return ShipmentOut.model_validate(
        {
            "id": s.id,
            "kind": s.kind,
            "status": s.status,
            "booking": s.booking,
            "dossier_code": s.dossier_code,
            "procedure": s.procedure,
            "carrier": s.carrier,
            "service": s.service,
            "carrier_order_id": s.carrier_order_id,
            "item_number": s.item_number,
            "office_code": s.office_code,
            "postage_mode": s.postage_mode,
            "payment_id": s.payment_id,
            "postage": s.postage,
            "cod_amount": s.cod_amount,
            "cod_collected": s.cod_collected,
            "failed_attempts": s.failed_attempts,
            "sender": _address(s.sender),
            "recipient": _address(s.recipient),
            "parcel": s.parcel,
            "documents": s.documents,
            "created_at": s.created_at,
            "updated_at": s.updated_at,
            "last_polled_at": s.last_polled_at,
            "delivered_at": s.delivered_at,
        }
    )


def event_out(e: ShipmentEvent) -> ShipmentEventOut:
    return ShipmentEventOut.model_validate(
        {
            "id": e.id,
            "source": e.source,
            "code": e.code,
            "status_before": e.status_before,
            "status_after": e.status_after,
            "applied": e.applied,
            "description": e.description,
            "location": e.location,
            "reason_code": e.reason_code,
            "reason": e.reason,
            "actor": e.actor,
            "occurred_at": e.occurred_at,
            "recorded_at": e.recorded_at,
            "correction": e.correction,
            "correction_reason": e.correction_reason,
            "proof_id": e.proof_id,
        }
    )


def tracking_out(s: Shipment, events: list[ShipmentEvent]) -> TrackingOut:
    """Status, places and times only: no name, address, phone, note, reason text or actor."""
    assert s.item_number is not None
    return TrackingOut(
        item_number=s.item_number,
        kind=s.kind,
        status=s.status,
        events=[
            TrackingEventOut(
                status=e.status_after,
                location=e.location,
                occurred_at=e.occurred_at,
            )
            for e in events
            if e.applied
        ],
    )


def shipment_event_data(s: Shipment) -> str:
    return shipment_out(s).model_dump_json()
