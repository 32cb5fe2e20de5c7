"""Writing events into the outbox, inside the caller's transaction, so state and event commit together."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.webhooks import EventType, WebhookEventStatus
from gateway.db.models import WebhookEvent
from gateway.ids import new_id


def enqueue(session: AsyncSession, client_id: str, event_type: EventType, data: str, now: datetime) -> None:
    """Queue the event; `data` is its JSON (from the API's own model, so the portal reads the same fields)."""
    payload = msgspec.json.encode(
        {"type": event_type.value, "timestamp": now.isoformat(), "data": msgspec.Raw(data)}
    ).decode()
    session.add(
        WebhookEvent(
            id=new_id("msg"),
            client_id=client_id,
            type=event_type.value,
            payload=payload,
            status=WebhookEventStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
