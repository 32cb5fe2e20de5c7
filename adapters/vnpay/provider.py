"""The VNPay adapter as the gateway sees it: the PaymentProvider port."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from adapters.vnpay import requests, responses
from adapters.vnpay.client import VNPayClient
from adapters.vnpay.config import VNPayConfig
from contracts.providers import CheckoutOrder, ProviderResult, RefundOrder, RefundResult, TransactionRef


def new_request_id() -> str:
    """vnp_RequestId: unique per merchant per day; 32 hex characters are unique for far longer."""
    return secrets.token_hex(16)


class VNPayProvider:
    name = "vnpay"

    def __init__(
        self,
        config: VNPayConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._client = VNPayClient(config.api_url, config.timeout_seconds, transport)
        self._now = now

    async def aclose(self) -> None:
        await self._client.aclose()

    def checkout_url(self, order: CheckoutOrder) -> str:
        return requests.payment_url(self.config, order)

    def parse_notification(self, params: dict[str, str], raw: str | None = None) -> ProviderResult:
        return responses.parse_notification(self.config, params, raw)

    async def query(self, ref: TransactionRef) -> ProviderResult:
        body = requests.querydr_body(self.config, ref, new_request_id(), self._now())
        answer = await self._client.call(body, idempotent=True)
        return responses.parse_querydr_response(self.config, answer, ref.reference)

    async def refund(self, order: RefundOrder) -> RefundResult:
        body = requests.refund_body(self.config, order)
        answer = await self._client.call(body, idempotent=False)
        return responses.parse_refund_response(self.config, answer, order.request_id)

    async def query_refund(self, ref: TransactionRef) -> RefundResult | None:
        body = requests.querydr_body(self.config, ref, new_request_id(), self._now())
        answer = await self._client.call(body, idempotent=True)
        return responses.parse_refund_query(self.config, answer, ref.reference)
