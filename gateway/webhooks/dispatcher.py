"""Delivers the outbox to each portal's endpoint, retrying on a schedule, then marking events dead.

Rows are claimed with FOR UPDATE SKIP LOCKED plus a lease, so several gateway processes on one
PostgreSQL never deliver the same event at the same time. Delivery is at least once: a process that
dies after the portal answered but before recording it will deliver again, and the portal dedupes on
webhook-id, as Standard Webhooks asks receivers to.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from contracts.webhooks import WebhookEventStatus
from gateway.clock import Clock
from gateway.db.models import Client, WebhookAttempt, WebhookEvent
from gateway.settings import Settings
from gateway.webhooks import signing

log = structlog.get_logger()
PENDING = WebhookEventStatus.PENDING.value


class Dispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[Any],
        settings: Settings,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.clock = clock
        self.http = httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds, transport=transport, follow_redirects=False
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def run_once(self) -> int:
        ids = await self._claim()
        await asyncio.gather(*(self._deliver(event_id) for event_id in ids))
        return len(ids)

    async def _claim(self) -> list[str]:
        now = self.clock.now()
        due = (
            select(WebhookEvent.id)
            .where(
                WebhookEvent.status == PENDING,
                WebhookEvent.next_attempt_at <= now,
                or_(WebhookEvent.locked_until.is_(None), WebhookEvent.locked_until < now),
            )
            .order_by(WebhookEvent.created_at)
            .limit(self.settings.worker_batch_size)
            .with_for_update(skip_locked=True)
        )
        # One statement, so the claim is atomic on SQLite too (where FOR UPDATE is not rendered).
        claim = (
            update(WebhookEvent)
            .where(WebhookEvent.id.in_(due))
            .values(locked_until=now + timedelta(seconds=self.settings.worker_lease_seconds))
            .returning(WebhookEvent.id)
        )
        async with self.sessionmaker() as session:
            ids = list((await session.execute(claim)).scalars())
            await session.commit()
        return ids

    async def _deliver(self, event_id: str) -> None:
        async with self.sessionmaker() as session:
            event = await session.get_one(WebhookEvent, event_id)
            client = await session.get_one(Client, event.client_id)
            url = client.webhook_url
            started = time.perf_counter()
            status_code: int | None = None
            error: str | None = None
            if not url:
                error = "the client has no webhook endpoint registered"
            else:
                try:
                    response = await self.http.post(
                        url,
                        content=event.payload.encode(),
                        headers=signing.headers(
                            client.webhook_secret, event.id, self.clock.now(), event.payload
                        ),
                    )
                    status_code = response.status_code
                    if not response.is_success:
                        error = f"endpoint answered HTTP {status_code}"
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"[:500]
            now = self.clock.now()
            session.add(
                WebhookAttempt(
                    event_id=event.id,
                    url=url or "",
                    status_code=status_code,
                    error=error,
                    duration_ms=int((time.perf_counter() - started) * 1000),
                    attempted_at=now,
                )
            )
            event.attempts += 1
            event.locked_until = None
            event.last_status_code = status_code
            event.last_error = error
            schedule = self.settings.webhook_retry_schedule_seconds
            if error is None:
                event.status = WebhookEventStatus.DELIVERED.value
                event.delivered_at = now
                event.next_attempt_at = None
            elif event.attempts > len(schedule):
                event.status = WebhookEventStatus.DEAD.value
                event.next_attempt_at = None
                log.warning("webhook_dead", event_id=event.id, client_id=client.id, attempts=event.attempts)
            else:
                event.next_attempt_at = now + timedelta(seconds=schedule[event.attempts - 1])
            await session.commit()
            log.info(
                "webhook_attempt", event_id=event.id, type=event.type, status_code=status_code, error=error
            )
