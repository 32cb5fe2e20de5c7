"""Delivers the outbox to each portal's endpoint, retrying on a schedule, then marking events dead.

Rows are claimed with FOR UPDATE SKIP LOCKED plus a lease, so several gateway processes on one
PostgreSQL never deliver the same event at the same time. Delivery is at least once: a process that
dies after the portal answered but before recording it will deliver again, and the portal dedupes on
webhook-id, as Standard Webhooks asks receivers to.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from datetime import timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from contracts.webhooks import WebhookEventStatus
from gateway.clock import Clock
from gateway.db.claims import claim
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
        # One portal's events of a batch go one after another: the lease covers all of them timing out.
        self.lease = timedelta(
            seconds=settings.worker_lease_seconds + settings.worker_batch_size * settings.webhook_timeout_seconds
        )
        self.http = httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds, transport=transport, follow_redirects=False
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def run_once(self) -> int:
        ids = await self._claim()
        if not ids:
            return 0
        # Portals in parallel; each portal's events one after another, oldest first. A failed event
        # does not hold back the next one, so order is best effort and receivers still use timestamps.
        async with self.sessionmaker() as session:
            rows = await session.execute(
                select(WebhookEvent.id, WebhookEvent.client_id)
                .where(WebhookEvent.id.in_(ids))
                .order_by(WebhookEvent.created_at, WebhookEvent.id)
            )
            per_client: dict[str, list[str]] = defaultdict(list)
            for event_id, client_id in rows:
                per_client[client_id].append(event_id)
        await asyncio.gather(*(self._deliver_in_order(events) for events in per_client.values()))
        return len(ids)

    async def _deliver_in_order(self, event_ids: list[str]) -> None:
        for event_id in event_ids:
            await self._deliver(event_id)

    async def _claim(self) -> list[str]:
        now = self.clock.now()
        return await claim(
            self.sessionmaker,
            WebhookEvent,
            where=[
                WebhookEvent.status == PENDING,
                WebhookEvent.next_attempt_at <= now,
                or_(WebhookEvent.locked_until.is_(None), WebhookEvent.locked_until < now),
            ],
            order_by=WebhookEvent.created_at,
            limit=self.settings.worker_batch_size,
            values={"locked_until": now + self.lease},
        )

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
                        headers=signing.headers(client.webhook_secret, event.id, self.clock.now(), event.payload),
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
            log.info("webhook_attempt", event_id=event.id, type=event.type, status_code=status_code, error=error)
