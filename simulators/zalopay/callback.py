"""Callbacks: ZaloPay POSTs `{"data", "mac", "type": 1}` to the order's callback URL once it is paid.

The merchant answers `{"return_code": 1 | 2, ...}` when done, -1 for a bad mac (not sent again), 0 to be
called again; an answer of 0 or none at all is re-delivered at most 3 times (config.callback_retry_intervals).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import structlog

from simulators.kit.courier import Courier, HeldBack

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
        # A callback on its way at shutdown is let finish, as ZaloPay's own request would be.
        self._courier = Courier(config.callback_timeout, transport, grace=2)
        self._held: HeldBack[Order] = HeldBack()

    async def notify(self, order: Order) -> CallbackAttempt | None:
        """Send the callback now and schedule re-deliveries; the first attempt, None when dropped or held."""
        faults = self._faults()
        if faults.callback_drop:
            log.info("callback.dropped", app_trans_id=order.app_trans_id)
            return None
        if faults.callback_out_of_order and self._held.hold(order):
            return None  # goes out after the next order's callback
        first = await self._deliver(order, "notify", faults)
        for late in self._held.release():
            await self._deliver(late, "notify", faults)
            self._schedule_retries(late)
        self._schedule_retries(order)
        return first

    def notify_in_background(self, order: Order) -> None:
        self._courier.spawn_quietly(self.notify(order), log, "callback.notify_failed", app_trans_id=order.app_trans_id)

    async def resend(self, order: Order) -> CallbackAttempt:
        return await self._send(order, "manual")

    async def drain(self) -> None:
        """Wait for every callback in flight and every re-delivery scheduled (tests settle with this)."""
        await self._courier.drain()

    async def aclose(self) -> None:
        await self._courier.aclose()

    def _schedule_retries(self, order: Order) -> None:
        if not order.delivered and self._config.callback_retry_intervals and not order.refused:
            self._courier.spawn(self._retry(order))

    async def _retry(self, order: Order) -> None:
        settled = await self._courier.redeliver(
            self._config.callback_retry_intervals,
            lambda: order.delivered or order.refused or self._faults().callback_drop,
            lambda: self._deliver(order, "retry", self._faults()),
        )
        if not settled:
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
        response, attempt.error = await self._courier.send("POST", order.callback_url, json=body)
        if response is not None:
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
