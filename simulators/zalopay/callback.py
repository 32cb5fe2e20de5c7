"""Callbacks: ZaloPay POSTs `{"data", "mac", "type": 1}` to the order's callback URL once it is paid.

The merchant answers `{"return_code": 1 | 2, ...}` when done, -1 for a bad mac (not sent again), 0 to be
called again; an answer of 0 or none at all is re-delivered at most 3 times (config.callback_retry_intervals).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import structlog

from . import signing
from .config import SimulatorConfig
from .faults import Faults
from .store import CallbackAttempt, Order

log = structlog.get_logger("simulators.zalopay.callback")

DONE = frozenset({1, 2})  # success, and already processed
CALL_AGAIN = 0


class CallbackDispatcher:
    def __init__(
        self, config: SimulatorConfig, faults: Callable[[], Faults], transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._config = config
        self._faults = faults
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: list[Order] = []

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport, follow_redirects=False, timeout=self._config.callback_timeout
            )
        return self._client

    async def notify(self, order: Order) -> CallbackAttempt | None:
        """Send the callback now and schedule re-deliveries; the first attempt, None when dropped or held."""
        faults = self._faults()
        if faults.callback_drop:
            log.info("callback.dropped", app_trans_id=order.app_trans_id)
            return None
        if faults.callback_out_of_order and not self._held:
            self._held.append(order)  # goes out after the next order's callback
            return None
        first = await self._deliver(order, "notify", faults)
        held, self._held = self._held, []
        for late in held:
            await self._deliver(late, "notify", faults)
            self._schedule_retries(late)
        self._schedule_retries(order)
        return first

    def notify_in_background(self, order: Order) -> None:
        self._spawn(self._notify_quietly(order))

    async def resend(self, order: Order) -> CallbackAttempt:
        return await self._send(order, "manual")

    async def drain(self) -> None:
        """Wait for every callback in flight and every re-delivery scheduled (tests settle with this)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        if tasks:
            # A callback on its way is let finish, as ZaloPay's own request would: cut off, it could leave
            # the merchant half way through handling it.
            await asyncio.wait(tasks, timeout=2)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _schedule_retries(self, order: Order) -> None:
        if not order.delivered and self._config.callback_retry_intervals and not order.refused:
            self._spawn(self._retry(order))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify_quietly(self, order: Order) -> None:
        try:
            await self.notify(order)
        except Exception:  # a background task has no caller to report to
            log.exception("callback.notify_failed", app_trans_id=order.app_trans_id)

    async def _retry(self, order: Order) -> None:
        for wait in self._config.callback_retry_intervals:
            await asyncio.sleep(wait)
            if order.delivered or order.refused or self._faults().callback_drop:
                return
            await self._deliver(order, "retry", self._faults())
        if not order.delivered:
            log.warning("callback.gave_up", app_trans_id=order.app_trans_id, attempts=len(order.callbacks))

    async def _deliver(self, order: Order, kind: str, faults: Faults) -> CallbackAttempt:
        if faults.callback_delay_ms:
            await asyncio.sleep(faults.callback_delay_ms / 1000)
        attempt = await self._send(order, kind)
        for _ in range(faults.callback_duplicate):
            await self._send(order, "duplicate")
        return attempt

    async def _send(self, order: Order, kind: str) -> CallbackAttempt:
        attempt = CallbackAttempt(number=len(order.callbacks) + 1, kind=kind)
        order.callbacks.append(attempt)
        data = order.callback_data()
        body = {"data": data, "mac": signing.mac(order.app.key2, data), "type": 1}
        try:
            # ASGI transports ignore httpx timeouts, so the deadline is enforced here for every transport.
            async with asyncio.timeout(self._config.callback_timeout):
                response = await self._http().post(order.callback_url, json=body)
        except TimeoutError:
            attempt.error = f"timeout after {self._config.callback_timeout:g}s"
        except httpx.HTTPError as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"
        else:
            attempt.http_status = response.status_code
            _read_answer(attempt, response)
        if attempt.return_code in DONE:
            order.delivered = True
        elif attempt.return_code is not None and attempt.return_code != CALL_AGAIN:
            order.refused = True  # -1 and the like: ZaloPay stops calling
        log.info(
            "callback.attempt",
            app_trans_id=order.app_trans_id,
            attempt=attempt.number,
            kind=kind,
            http_status=attempt.http_status,
            return_code=attempt.return_code,
            error=attempt.error,
        )
        return attempt


def _read_answer(attempt: CallbackAttempt, response: httpx.Response) -> None:
    try:
        body = json.loads(response.content)
    except ValueError:
        attempt.error = "answer is not JSON"
        return
    code = body.get("return_code") if isinstance(body, dict) else None
    if not response.is_success or isinstance(code, bool) or not isinstance(code, int):
        attempt.error = "answer has no integer return_code"
        return
    attempt.return_code = code
    message = body.get("return_message")
    attempt.return_message = None if message is None else str(message)
