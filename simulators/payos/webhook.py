"""Webhook delivery: a signed POST to the merchant's registered URL, re-delivered until it answers 2xx."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import structlog

from simulators.kit.courier import Courier, HeldBack

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
        self._courier = Courier(config.webhook_timeout, transport)
        self._held: HeldBack[tuple[Link, dict[str, Any]]] = HeldBack()

    async def post(self, url: str, body: dict[str, Any]) -> tuple[int | None, str | None]:
        """One POST: the status it was answered with, or what went wrong."""
        response, error = await self._courier.send("POST", url, json=body)
        return (None if response is None else response.status_code), error

    async def deliver(self, link: Link, body: dict[str, Any]) -> WebhookAttempt | None:
        """Send now, with the copies and delays faults ask for; schedule re-deliveries until a 2xx."""
        faults = self._faults()
        if faults.webhook_drop:
            link.webhook_dropped = True
            return None
        if faults.webhook_out_of_order and self._held.hold((link, body)):
            return None  # goes out after the next link's webhook
        if faults.webhook_delay_ms:
            await asyncio.sleep(faults.webhook_delay_ms / 1000)
        first = await self._send(link, body, "notify")
        for _ in range(faults.webhook_duplicate):
            await self._send(link, body, "duplicate")
        for late_link, late_body in self._held.release():
            await self._send(late_link, late_body, "notify")
            self._schedule_redelivery(late_link, late_body)
        self._schedule_redelivery(link, body)
        return first

    async def resend(self, link: Link, body: dict[str, Any]) -> WebhookAttempt:
        """One more webhook as sent before, faults aside (a replay: payOS's dashboard can resend one)."""
        return await self._send(link, body, "resend")

    async def drain(self) -> None:
        """Wait for every webhook in flight and every re-delivery scheduled."""
        await self._courier.drain()

    def _schedule_redelivery(self, link: Link, body: dict[str, Any]) -> None:
        if not link.webhook_acknowledged and self._config.webhook_retry_intervals:
            self._courier.spawn(self._redeliver(link, body))

    async def _redeliver(self, link: Link, body: dict[str, Any]) -> None:
        settled = await self._courier.redeliver(
            self._config.webhook_retry_intervals,
            lambda: link.webhook_acknowledged,
            lambda: self._send(link, body, "retry"),
        )
        if not settled:
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

    async def aclose(self) -> None:
        await self._courier.aclose()
