"""The payOS adapter as the gateway sees it: the PaymentProvider port (bank transfer by VietQR)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from adapters.payos import requests, responses
from adapters.payos.client import PayOSClient
from adapters.payos.codes import ACK
from adapters.payos.config import PayOSConfig
from adapters.payos.wire import MAX_AMOUNT, MAX_ORDER_CODE, order_code
from contracts.errors import ProviderRejected
from contracts.providers import (
    Acknowledgement,
    Capability,
    Checkout,
    CheckoutOrder,
    Inbound,
    ProviderResult,
    RefundOrder,
    RefundResult,
    TransactionRef,
    Verdict,
)

PROVIDER = "payos"


def order_code_for(payment_id: str) -> int:
    """A positive integer of at most 2**53 - 1 from the payment id's random part (base32 of 120 random
    bits): its first 53 bits, which collide between two payments once in 2**53."""
    token = payment_id.split("_", 1)[-1].upper()
    raw = base64.b32decode(token + "=" * (-len(token) % 8))
    return int.from_bytes(raw, "big") % MAX_ORDER_CODE + 1


class PayOSProvider:
    name = "payos"
    display_name = "payOS (chuyển khoản VietQR)"
    # payOS has no refund API (money goes bank to bank straight into the merchant's account); an open
    # payment link can be cancelled.
    capabilities = frozenset({Capability.CANCEL, Capability.QR})
    max_amount = MAX_AMOUNT
    refund_window: timedelta | None = None  # no refunds at all
    min_refund_amount = 0

    def __init__(
        self,
        config: PayOSConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._client = PayOSClient(config, transport)
        self._now = now

    async def aclose(self) -> None:
        await self._client.aclose()

    def reference_for(self, payment_id: str, created_at: datetime) -> str:
        return str(order_code_for(payment_id))

    async def create_checkout(self, order: CheckoutOrder) -> Checkout:
        body = requests.create_body(self.config, order)
        answer = await self._client.call("POST", "/v2/payment-requests", body, idempotent=False)
        return responses.parse_create_answer(self.config, answer, body["orderCode"], order.amount)

    def parse_notification(self, inbound: Inbound) -> ProviderResult:
        return responses.parse_webhook(self.config, inbound.body)

    def unsigned_return_reference(self, inbound: Inbound) -> str | None:
        # payOS sends the browser to returnUrl/cancelUrl with code, id, cancel, status and orderCode, none of
        # them signed: only orderCode is read, to know which link to ask payOS about.
        return responses.return_order_code(inbound.query) if inbound.method == "GET" else None

    def acknowledge(self, verdict: Verdict) -> Acknowledgement:
        code, status, desc = ACK[verdict]
        body = json.dumps({"code": code, "desc": desc}, separators=(",", ":")).encode()
        return Acknowledgement(code, status, body)

    async def query(self, ref: TransactionRef) -> ProviderResult:
        answer = await self._client.call("GET", f"/v2/payment-requests/{order_code(ref.reference)}", idempotent=True)
        return responses.parse_payment_link(self.config, answer, ref.reference)

    async def cancel(self, ref: TransactionRef, reason: str) -> ProviderResult:
        path = f"/v2/payment-requests/{order_code(ref.reference)}/cancel"
        # Cancelling twice is harmless: a query-like retry is safe.
        answer = await self._client.call("POST", path, requests.cancel_body(self.config, reason), idempotent=True)
        return responses.parse_payment_link(self.config, answer, ref.reference)

    async def refund(self, order: RefundOrder) -> RefundResult:
        raise ProviderRejected(PROVIDER, "payOS has no refund API: refund the citizen by bank transfer")

    async def query_refund(self, ref: TransactionRef, request_id: str, sent_at: datetime) -> RefundResult | None:
        return None  # payOS makes no refunds, so it has none to report
