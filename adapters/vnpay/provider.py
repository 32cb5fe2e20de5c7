"""The VNPay adapter as the gateway sees it: the PaymentProvider port."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from adapters.vnpay import requests, responses
from adapters.vnpay.client import VNPayClient
from adapters.vnpay.codes import IPN_ACK_CODES, IPN_ACK_MESSAGES
from adapters.vnpay.config import VNPayConfig
from adapters.vnpay.wire import MAX_AMOUNT
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


def new_request_id() -> str:
    """vnp_RequestId: unique per merchant per day; 32 hex characters are unique for far longer."""
    return secrets.token_hex(16)


class VNPayProvider:
    name = "vnpay"
    display_name = "VNPay"
    # VNPay's merchant API refunds whole (02) or in part (03); querydr reports a refund's state. A payment
    # URL cannot be withdrawn: it lapses at vnp_ExpireDate.
    capabilities = frozenset({Capability.REFUND, Capability.PARTIAL_REFUND, Capability.REFUND_STATUS})
    max_amount = MAX_AMOUNT
    # UNVERIFIED: VNPay's API v2.1.0 (payments.md 2.1) states no time limit for vnp_Command=refund and no
    # least refund; 30 days is a placeholder to be set from the merchant contract.
    refund_window: timedelta | None = timedelta(days=30)
    min_refund_amount = 1

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

    def reference_for(self, payment_id: str, created_at: datetime) -> str:
        # vnp_TxnRef must be unique per merchant per day (alphanumeric, at most 100): the random part of
        # the payment's id is unique for ever.
        return payment_id.split("_", 1)[-1].upper()

    async def create_checkout(self, order: CheckoutOrder) -> Checkout:
        # VNPay's checkout is a URL the merchant signs itself: no call is made.
        return Checkout(url=requests.payment_url(self.config, order))

    def parse_notification(self, inbound: Inbound) -> ProviderResult:
        return responses.parse_notification(self.config, inbound.query)

    def unsigned_return_reference(self, inbound: Inbound) -> str | None:
        return None  # its browser return is signed: parse_notification reads it

    def acknowledge(self, verdict: Verdict) -> Acknowledgement:
        code = IPN_ACK_CODES[verdict]
        body = json.dumps({"RspCode": code, "Message": IPN_ACK_MESSAGES[code]}, separators=(",", ":")).encode()
        return Acknowledgement(code, 200, body)

    async def query(self, ref: TransactionRef) -> ProviderResult:
        body = requests.querydr_body(self.config, ref, new_request_id(), self._now())
        answer = await self._client.call(body, idempotent=True)
        return responses.parse_querydr_response(self.config, answer, ref.reference)

    async def refund(self, order: RefundOrder) -> RefundResult:
        body = requests.refund_body(self.config, order)
        answer = await self._client.call(body, idempotent=False)
        return responses.parse_refund_response(self.config, answer, order.request_id)

    async def query_refund(self, ref: TransactionRef, request_id: str, sent_at: datetime) -> RefundResult | None:
        # querydr reports only the transaction's latest refund, not one by its vnp_RequestId.
        body = requests.querydr_body(self.config, ref, new_request_id(), self._now())
        answer = await self._client.call(body, idempotent=True)
        return responses.parse_refund_query(self.config, answer, ref.reference)
