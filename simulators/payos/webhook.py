"""Webhook delivery: a signed POST to the merchant's registered URL, re-delivered until it answers 2xx."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import structlog

from .config import Merchant, SimulatorConfig
from .faults import Faults
from .signing import sign
from .store import Link, WebhookAttempt

log = structlog.get_logger("simulators.payos.webhook")


def envelope(data: dict[str, Any], merchant: Merchant) -> dict[str, Any]:
    return {
        "code": "00",
        "desc": "success",
        "success": True,
        "data": data,
        "signature": sign(data, merchant.checksum_key),
    }


class WebhookSender:
    def __init__(
        self, config: SimulatorConfig, faults: Callable[[], Faults], transport: httpx.AsyncBaseTransport | None
    ) -> None:
        self._config = config
        self._faults = faults
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: list[tuple[Link, dict[str, Any]]] = []

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport, follow_redirects=False, timeout=self._config.webhook_timeout
            )
        return self._client

    async def post(self, url: str, body: dict[str, Any]) -> tuple[int | None, str | None]:
        """One POST: the status it was answered with, or what went wrong."""
        try:
            # ASGI transports ignore httpx timeouts: the deadline is kept here for every transport.
            async with asyncio.timeout(self._config.webhook_timeout):
                response = await self._http().post(url, json=body)
        except TimeoutError:
            return None, f"timeout after {self._config.webhook_timeout:g}s"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None

    async def deliver(self, link: Link, body: dict[str, Any]) -> WebhookAttempt | None:
        """Send now, with the copies and delays faults ask for; schedule re-deliveries until a 2xx."""
        faults = self._faults()
        if faults.webhook_drop:
            link.webhook_dropped = True
            return None
        if faults.webhook_out_of_order and not self._held:
            self._held.append((link, body))  # goes out after the next link's webhook
            return None
        if faults.webhook_delay_ms:
            await asyncio.sleep(faults.webhook_delay_ms / 1000)
        first = await self._send(link, body, "notify")
        for _ in range(faults.webhook_duplicate):
            await self._send(link, body, "duplicate")
        held, self._held = self._held, []
        for late_link, late_body in held:
            await self._send(late_link, late_body, "notify")
            self._schedule_redelivery(late_link, late_body)
        self._schedule_redelivery(link, body)
        return first

    def _schedule_redelivery(self, link: Link, body: dict[str, Any]) -> None:
        if not link.webhook_acknowledged and self._config.webhook_retry_intervals:
            self._spawn(self._redeliver(link, body))

    async def _redeliver(self, link: Link, body: dict[str, Any]) -> None:
        for wait in self._config.webhook_retry_intervals:
            await asyncio.sleep(wait)
            if link.webhook_acknowledged:
                return
            await self._send(link, body, "retry")
        if not link.webhook_acknowledged:
            log.warning("webhook.gave_up", order_code=link.order_code, attempts=len(link.webhook_attempts))

    async def _send(self, link: Link, body: dict[str, Any], kind: str) -> WebhookAttempt:
        url = link.merchant.webhook_url
        attempt = WebhookAttempt(number=len(link.webhook_attempts) + 1, kind=kind, url=url)
        link.webhook_attempts.append(attempt)
        attempt.http_status, attempt.error = await self.post(url, body)
        if attempt.acknowledged:
            link.webhook_acknowledged = True
        log.info(
            "webhook.attempt",
            order_code=link.order_code,
            attempt=attempt.number,
            kind=kind,
            http_status=attempt.http_status,
            error=attempt.error,
        )
        return attempt

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None
