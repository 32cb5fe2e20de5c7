"""Delivers the outbox to each portal's endpoint, retrying on a schedule, then marking events dead.

Rows are claimed with FOR UPDATE SKIP LOCKED plus a short lease that the claiming process renews while
it delivers, so several gateway processes on one PostgreSQL never deliver the same event at the same
time, and the events of a process that died go to another within a lease. Delivery is at least once: a
process that dies after the portal answered but before recording it will deliver again, and the portal
dedupes on webhook-id, as Standard Webhooks asks receivers to.
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
from gateway.db.claims import Claimed, Lease, Sleep
from gateway.db.models import Client, WebhookAttempt, WebhookEvent
from gateway.ids import new_id
from gateway.settings import Settings
from gateway.webhooks import signing
from gateway.webhooks.targets import NameResolver, TargetRefused, Targets

log = structlog.get_logger()
PENDING = WebhookEventStatus.PENDING.value

# What a portal is told about a failed attempt (last_error): a category, never the network's own words,
# which would tell whoever set the URL what answers where.
NO_ENDPOINT = "no endpoint registered"
NOT_ALLOWED = "target not allowed"
TIMED_OUT = "timed out"
CONNECTION_FAILED = "connection failed"
REQUEST_FAILED = "request failed"


class Dispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[Any],
        settings: Settings,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: NameResolver | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.clock = clock
        self.targets = Targets(settings, resolver)
        self.sleep = sleep  # paces lease renewals; tests drive it by hand
        self.token = new_id("dsp")  # whose claim a row is
        self.lease = Lease(
            sessionmaker,
            WebhookEvent,
            WebhookEvent.locked_until,
            timedelta(seconds=settings.webhook_lease_seconds),
            clock.now,
            # A row another process took over after this one stalled past its lease is not renewed.
            held=[WebhookEvent.locked_by == self.token],
        )
        self.http = httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds,
            transport=transport,
            follow_redirects=False,
            # Each delivery connects to the address just checked for its name. A kept-alive connection is
            # found again by address alone, so it could carry another name's request past that name's TLS
            # certificate check.
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def run_once(self) -> int:
        claimed = await self._claim()
        ids = list(claimed.ids)
        if not ids:
            return 0
        async with self.lease.holding(claimed, self.sleep):
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

    async def _claim(self) -> Claimed:
        now = self.clock.now()
        # Events already delivered or rescheduled have locked_until cleared: renewals leave them alone.
        return await self.lease.claim(
            where=[
                WebhookEvent.status == PENDING,
                WebhookEvent.next_attempt_at <= now,
                or_(WebhookEvent.locked_until.is_(None), WebhookEvent.locked_until < now),
            ],
            order_by=WebhookEvent.created_at,
            limit=self.settings.worker_batch_size,
            values={"locked_by": self.token},
        )

    async def _deliver(self, event_id: str) -> None:
        # No transaction stays open while the portal is called.
        async with self.sessionmaker() as session:
            event = await session.get_one(WebhookEvent, event_id)
            if event.locked_by != self.token or event.status != PENDING:
                log.warning("webhook_claim_lost", event_id=event_id)  # this process stalled past its lease
                return
            client = await session.get_one(Client, event.client_id)
            url, secret, payload, event_type = client.webhook_url, client.webhook_secret, event.payload, event.type
        started = time.perf_counter()
        status_code, error = await self._send(event_id, url, secret, payload)
        async with self.sessionmaker() as session:
            event = await session.get_one(WebhookEvent, event_id)
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
            event.locked_by = None
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
                log.warning("webhook_dead", event_id=event.id, client_id=event.client_id, attempts=event.attempts)
            else:
                event.next_attempt_at = now + timedelta(seconds=schedule[event.attempts - 1])
            await session.commit()
        log.info("webhook_attempt", event_id=event_id, type=event_type, status_code=status_code, error=error)

    async def _send(self, event_id: str, url: str | None, secret: str, payload: str) -> tuple[int | None, str | None]:
        """The portal's status code and, for a failure, its category."""
        if not url:
            return None, NO_ENDPOINT
        try:
            # One deadline for the whole attempt: httpx's timeout bounds each read, not a slow trickle.
            async with asyncio.timeout(self.settings.webhook_timeout_seconds):
                target = await self.targets.check(url)
                headers = signing.headers(secret, event_id, self.clock.now(), payload) | target.headers
                request = self.http.build_request(
                    "POST", target.url, content=payload.encode(), headers=headers, extensions=target.extensions
                )
                # The answer's body is never read: only its status counts.
                response = await self.http.send(request, stream=True)
                await response.aclose()
        except TargetRefused as refused:
            log.warning("webhook_target_refused", event_id=event_id, reason=refused.reason)
            return None, CONNECTION_FAILED if refused.reason == "unresolved" else NOT_ALLOWED
        except (TimeoutError, httpx.TimeoutException):
            return None, TIMED_OUT
        except httpx.HTTPError as exc:
            log.info("webhook_request_failed", event_id=event_id, error=f"{type(exc).__name__}: {exc}"[:300])
            return None, CONNECTION_FAILED if isinstance(exc, httpx.ConnectError) else REQUEST_FAILED
        if not response.is_success:
            return response.status_code, f"HTTP {response.status_code}"
        return response.status_code, None
