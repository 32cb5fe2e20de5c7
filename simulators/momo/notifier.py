"""IPN delivery: a POST of the signed result as JSON to the order's ipnUrl.

MoMo counts an IPN as delivered only when the merchant answers HTTP 204 within 15 s; anything else, a
timeout or a failed connection, and it delivers again on its schedule (config.ipn_retry_intervals).
Faults a test switches on make it misbehave the way a real provider sometimes does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from . import signing
from .codes import PENDING, message
from .config import SimulatorConfig
from .store import Delivery, Order


class Faults(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)

    # The API (create, query, refund).
    api_delay_ms: int = Field(default=0, ge=0, le=600_000)
    api_http_5xx: int = Field(default=0, ge=0, le=1000)  # the next N API calls answer 503
    # IPNs.
    ipn_drop: bool = False
    ipn_duplicate: int = Field(default=0, ge=0, le=20)
    ipn_out_of_order: bool = False  # a stale "still pending" IPN follows the result
    ipn_delay_ms: int = Field(default=0, ge=0, le=600_000)

    def take_http_5xx(self) -> bool:
        if self.api_http_5xx <= 0:
            return False
        self.api_http_5xx -= 1
        return True


def notification(order: Order, result_code: int | None = None) -> dict[str, Any]:
    """The IPN (and redirect) fields of an order, signed; numbers are JSON numbers."""
    code = order.result_code if result_code is None else result_code
    body: dict[str, Any] = {
        "partnerCode": order.merchant.partner_code,
        "orderId": order.order_id,
        "requestId": order.request_id,
        "amount": order.amount,
        "orderInfo": order.order_info,
        "orderType": "momo_wallet",
        "transId": order.trans_id if result_code is None else 0,
        "resultCode": code,
        "message": message(code),
        "payType": order.pay_type,
        "responseTime": order.response_time,
        "extraData": order.extra_data,
    }
    merchant = order.merchant
    body["signature"] = signing.signature(body, signing.NOTIFICATION, merchant.access_key, merchant.secret_key)
    return body


class Notifier:
    def __init__(
        self,
        config: SimulatorConfig,
        faults: Callable[[], Faults],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._faults = faults
        self._http = httpx.AsyncClient(transport=transport, follow_redirects=False, timeout=config.ipn_timeout)
        self._tasks: set[asyncio.Task[None]] = set()

    async def notify(self, order: Order) -> Delivery | None:
        """Send the result now, then schedule re-deliveries until a 204; None when the fault drops it."""
        faults = self._faults()
        if faults.ipn_drop:
            return None
        if faults.ipn_delay_ms:
            await asyncio.sleep(faults.ipn_delay_ms / 1000)
        first = await self._send(order, "notify", notification(order))
        for _ in range(faults.ipn_duplicate):
            await self._send(order, "duplicate", notification(order))
        if faults.ipn_out_of_order:
            await self._send(order, "stale", notification(order, PENDING))
        if not order.acknowledged and self._config.ipn_retry_intervals:
            self._spawn(self._redeliver(order))
        return first

    def notify_in_background(self, order: Order) -> None:
        self._spawn(self._quietly(order))

    async def resend(self, order: Order) -> Delivery:
        return await self._send(order, "manual", notification(order))

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        if tasks:
            # A notification on its way is let finish, as MoMo's own request would: cut off, it could leave
            # the merchant half way through handling it.
            await asyncio.wait(tasks, timeout=2)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._http.aclose()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _quietly(self, order: Order) -> None:
        with contextlib.suppress(Exception):  # a background task has no caller to report to
            await self.notify(order)

    async def _redeliver(self, order: Order) -> None:
        for wait in self._config.ipn_retry_intervals:
            await asyncio.sleep(wait)
            if order.acknowledged or self._faults().ipn_drop:
                return
            await self._send(order, "retry", notification(order))
            if order.acknowledged:
                return

    async def _send(self, order: Order, kind: str, body: dict[str, Any]) -> Delivery:
        delivery = Delivery(number=len(order.deliveries) + 1, kind=kind, result_code=body["resultCode"])
        order.deliveries.append(delivery)
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            # ASGI transports ignore httpx timeouts, so the deadline is kept here for every transport.
            async with asyncio.timeout(self._config.ipn_timeout):
                response = await self._http.post(
                    order.ipn_url, content=content, headers={"Content-Type": "application/json; charset=UTF-8"}
                )
        except TimeoutError:
            delivery.error = f"no answer within {self._config.ipn_timeout:g}s"
        except httpx.HTTPError as exc:
            delivery.error = type(exc).__name__
        else:
            delivery.http_status = response.status_code
        if delivery.acknowledged and kind != "stale":
            order.acknowledged = True
        return delivery
