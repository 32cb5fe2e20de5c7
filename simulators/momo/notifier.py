"""IPN delivery: a POST of the signed result as JSON to the order's ipnUrl.

MoMo counts an IPN as delivered only when the merchant answers HTTP 204 within 15 s; anything else, a
timeout or a failed connection, and it delivers again on its schedule (config.ipn_retry_intervals).
Faults a test switches on make it misbehave the way a real provider sometimes does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import structlog
from pydantic import Field

from simulators.kit.courier import Courier
from simulators.kit.faults import ApiFaults

from . import signing
from .codes import PENDING, message
from .config import SimulatorConfig
from .store import Delivery, Order

log = structlog.get_logger("simulators.momo.notifier")


class Faults(ApiFaults):
    """The API's faults (create, query, refund), and the IPN's."""

    ipn_drop: bool = False
    ipn_duplicate: int = Field(default=0, ge=0, le=20)
    ipn_out_of_order: bool = False  # a stale "still pending" IPN follows the result
    ipn_delay_ms: int = Field(default=0, ge=0, le=600_000)


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
        # A notification on its way at shutdown is let finish, as MoMo's own request would be.
        self._courier = Courier(config.ipn_timeout, transport, grace=2)

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
            self._courier.spawn(self._redeliver(order))
        return first

    def notify_in_background(self, order: Order) -> None:
        self._courier.spawn_quietly(self.notify(order), log, "ipn.notify_failed", order_id=order.order_id)

    async def resend(self, order: Order) -> Delivery:
        return await self._send(order, "manual", notification(order))

    async def drain(self) -> None:
        """Wait for every delivery in flight and every re-delivery scheduled."""
        await self._courier.drain()

    async def aclose(self) -> None:
        await self._courier.aclose()

    async def _redeliver(self, order: Order) -> None:
        await self._courier.redeliver(
            self._config.ipn_retry_intervals,
            lambda: order.acknowledged or self._faults().ipn_drop,
            lambda: self._send(order, "retry", notification(order)),
        )

    async def _send(self, order: Order, kind: str, body: dict[str, Any]) -> Delivery:
        delivery = Delivery(number=len(order.deliveries) + 1, kind=kind, result_code=body["resultCode"])
        order.deliveries.append(delivery)
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json; charset=UTF-8"}
        response, delivery.error = await self._courier.send("POST", order.ipn_url, content=content, headers=headers)
        if response is not None:
            delivery.http_status = response.status_code
        if delivery.acknowledged and kind != "stale":
            order.acknowledged = True
        return delivery
