"""Events the gateway sends a portal, signed by the Standard Webhooks spec."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from contracts.limits import HttpUrl


class EventType(StrEnum):
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_CANCELLED = "payment.cancelled"
    PAYMENT_EXPIRED = "payment.expired"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    SHIPMENT_BOOKED = "shipment.booked"
    SHIPMENT_STATUS_CHANGED = "shipment.status_changed"
    SHIPMENT_DELIVERED = "shipment.delivered"
    SHIPMENT_DELIVERY_FAILED = "shipment.delivery_failed"
    SHIPMENT_RETURNED = "shipment.returned"


class WebhookEventStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class WebhookEventOut(BaseModel):
    id: str
    type: EventType
    status: WebhookEventStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None = Field(
        description=(
            "Why the last attempt failed, as a category: 'HTTP <status>', 'timed out', 'connection failed',"
            " 'request failed', 'target not allowed' (the URL is not https or its host is not a public"
            " address) or 'no endpoint registered'."
        )
    )
    created_at: datetime
    delivered_at: datetime | None


class WebhookEndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: HttpUrl = Field(description="An https URL whose host resolves to public internet addresses only.")


class WebhookEndpointOut(BaseModel):
    url: str | None
    secret: str
