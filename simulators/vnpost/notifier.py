"""Status pushes: a POST of `{"Data": "<JSON array of events>", "SendDate", "SignData"}` to the partner's
callback URL, SignData an RSA signature of the Data text.

VNPost counts a push as delivered when the partner answers HTTP 200 (postal.md §2.2); anything else, a
timeout or a failed connection, and it is sent again (config.push_retry_intervals).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import structlog

from .config import SimulatorConfig
from .faults import Faults
from .signing import sign_data
from .store import Attempt, Event, Order, Push, vietnam_now, wire_time

log = structlog.get_logger("simulators.vnpost.notifier")


def envelope(config: SimulatorConfig, data: str) -> dict[str, str]:
    return {"Data": data, "SendDate": wire_time(vietnam_now()), "SignData": sign_data(config.private_key_pem, data)}


class PushDispatcher:
    def __init__(
        self, config: SimulatorConfig, faults: Callable[[], Faults], transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._config = config
        self._faults = faults
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: list[tuple[Order, Push]] = []

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport, follow_redirects=False, timeout=self._config.push_timeout
            )
        return self._client

    def new_push(self, order: Order, number: int, events: list[Event]) -> Push:
        data = json.dumps([e.wire() for e in events], ensure_ascii=False, separators=(",", ":"))
        push = Push(number=number, original_id=order.original_id, data=data, statuses=[e.status for e in events])
        order.pushes.append(push)
        return push

    async def send(self, order: Order, push: Push) -> Attempt | None:
        """Send a push now (after the faults in force) and schedule re-deliveries; the first attempt, None
        when dropped or held back."""
        faults = self._faults()
        if faults.push_drop:
            log.info("push.dropped", original_id=order.original_id, push=push.number)
            return None
        if faults.push_out_of_order and not self._held:
            self._held.append((order, push))  # goes out after the next push
            return None
        first = await self._deliver(order, push, "push", faults)
        held, self._held = self._held, []
        for late_order, late in held:
            await self._deliver(late_order, late, "push", faults)
            self._schedule_retries(late_order, late)
        self._schedule_retries(order, push)
        return first

    async def resend(self, order: Order, push: Push) -> Attempt:
        return await self._post(order, push, "manual")

    async def drain(self) -> None:
        """Wait for every push in flight and every re-delivery scheduled (tests settle with this)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=2)  # a push on its way is let finish, as VNPost's would
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _schedule_retries(self, order: Order, push: Push) -> None:
        if not push.acknowledged and self._config.push_retry_intervals:
            self._spawn(self._retry(order, push))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _retry(self, order: Order, push: Push) -> None:
        for wait in self._config.push_retry_intervals:
            await asyncio.sleep(wait)
            if push.acknowledged or self._faults().push_drop:
                return
            await self._post(order, push, "retry")
        if not push.acknowledged:
            log.warning("push.gave_up", original_id=order.original_id, push=push.number)

    async def _deliver(self, order: Order, push: Push, kind: str, faults: Faults) -> Attempt:
        if faults.push_delay_ms:
            await asyncio.sleep(faults.push_delay_ms / 1000)
        attempt = await self._post(order, push, kind)
        for _ in range(faults.push_duplicate):
            await self._post(order, push, "duplicate")
        return attempt

    async def _post(self, order: Order, push: Push, kind: str) -> Attempt:
        attempt = Attempt(number=len(push.attempts) + 1, kind=kind)
        push.attempts.append(attempt)
        body = envelope(self._config, push.data)
        push.last_envelope = body
        try:
            # ASGI transports ignore httpx timeouts, so the deadline is kept here for every transport.
            async with asyncio.timeout(self._config.push_timeout):
                response = await self._http().post(
                    self._config.callback_url,
                    content=json.dumps(body, ensure_ascii=False).encode(),
                    headers={"Content-Type": "application/json; charset=utf-8"},
                )
        except TimeoutError:
            attempt.error = f"no answer within {self._config.push_timeout:g}s"
        except httpx.HTTPError as exc:
            attempt.error = type(exc).__name__
        else:
            attempt.http_status = response.status_code
        if attempt.acknowledged:
            push.acknowledged = True
        log.info(
            "push.attempt",
            original_id=order.original_id,
            push=push.number,
            attempt=attempt.number,
            kind=kind,
            http_status=attempt.http_status,
            error=attempt.error,
        )
        return attempt
