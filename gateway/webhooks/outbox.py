"""Writing events into the outbox, inside the caller's transaction, so state and event commit together."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from contracts.webhooks import EventType, WebhookEventStatus
from gateway.db.appends import Writes
from gateway.db.models import WebhookEvent
from gateway.ids import new_id


def enqueue(writes: Writes, client_id: str, event_type: EventType, data: dict[str, Any], now: datetime) -> None:
    msg_id = new_id("msg")
    payload = json.dumps(
        {"type": event_type.value, "timestamp": now.isoformat(), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    writes.append(
        WebhookEvent,
        {
            "id": msg_id,
            "client_id": client_id,
            "type": event_type.value,
            "payload": payload,
            "status": WebhookEventStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
