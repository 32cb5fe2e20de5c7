"""Notifications that fail verification: counted per provider and hour, and only a few kept as samples.

Anyone can send them, so storing each whole would let a flood fill the database. The count says how
many came; the first SAMPLES_PER_HOUR of each hour are kept, cut to a bounded size, as evidence.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.counters import count_one
from gateway.db.models import NotificationRejection, ProviderNotification
from gateway.request_text import storable

SAMPLES_PER_HOUR = 10
_MAX_FIELDS = 40
_MAX_NAME = 64
_MAX_VALUE = 256


def sample_of(fields: dict[str, str]) -> dict[str, str]:
    """At most _MAX_FIELDS fields, names and values cut short and NULs replaced (request_text.storable);
    marked when anything was left out."""
    fields = storable(fields)
    kept = {name[:_MAX_NAME]: value[:_MAX_VALUE] for name, value in list(fields.items())[:_MAX_FIELDS]}
    cut = len(fields) > _MAX_FIELDS or any(len(n) > _MAX_NAME or len(v) > _MAX_VALUE for n, v in fields.items())
    if cut:
        kept["_truncated"] = "true"
    return kept


async def record_rejection(
    session: AsyncSession, provider: str, fields: dict[str, str], ack_code: str, now: datetime
) -> None:
    """Count one more rejected notification and keep it as a sample if the hour has room; the caller commits."""
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if await count_one(session, {"provider": provider, "hour": hour}, NotificationRejection.count) <= SAMPLES_PER_HOUR:
        session.add(
            ProviderNotification(
                provider=provider,
                reference=None,
                payload=sample_of(fields),
                signature_valid=False,
                ack_code=ack_code,
                received_at=now,
            )
        )
