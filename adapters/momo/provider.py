"""The MoMo adapter as the gateway sees it: the PaymentProvider port."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from adapters.momo import requests, responses
from adapters.momo.client import MoMoClient
from adapters.momo.codes import ACK_STATUS
from adapters.momo.config import MoMoConfig
from adapters.momo.wire import MAX_AMOUNT
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
    """requestId of a query: unique per request, at most 50 characters."""
    return secrets.token_hex(16)


class MoMoProvider:
    name = "momo"
    display_name = "Ví MoMo"
    # MoMo refunds whole or in part, each refund an order of its own, and a query lists them (refundTrans).
    # A payment link cannot be withdrawn: it lapses.
    capabilities = frozenset({Capability.REFUND, Capability.PARTIAL_REFUND, Capability.REFUND_STATUS, Capability.QR})
    max_amount = MAX_AMOUNT
    # UNVERIFIED: MoMo's refund page (developers.momo.vn/v3/docs/payment/api/payment-api/refund) states no
    # time limit; 30 days is the term commonly quoted for MoMo merchant refunds, to be set from the contract.
    refund_window: timedelta | None = timedelta(days=30)

    def __init__(
        self,
        config: MoMoConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        request_ids: Callable[[], str] = new_request_id,
    ) -> None:
        self.config = config
        self._client = MoMoClient(config.api_url, config.timeout_seconds, transport)
        self._now = now
        self._request_id = request_ids

    @property
    def min_refund_amount(self) -> int:
        # MoMo's refund page: at least 1,000 VND, 10,000 VND for a payment by domestic ATM card.
        return 10_000 if self.config.request_type == "payWithATM" else 1_000

    async def aclose(self) -> None:
        await self._client.aclose()

    def reference_for(self, payment_id: str, created_at: datetime) -> str:
        # orderId must be unique per partner for ever (at most 50 of [0-9a-zA-Z_.:-]): the random part of
        # the payment's id is.
        return payment_id.split("_", 1)[-1].upper()

    async def create_checkout(self, order: CheckoutOrder) -> Checkout:
        body = requests.create_body(self.config, order)
        # Sent again only if it never left: a create MoMo did receive answers 41 (orderId taken) next time.
        answer = await self._client.call(requests.CREATE_PATH, body, idempotent=False)
        return responses.parse_create(self.config, answer, order.reference)

    def parse_notification(self, inbound: Inbound) -> ProviderResult:
        # The IPN is a POST of JSON; the browser comes back by GET with the same fields in its query.
        if inbound.method == "GET":
            return responses.parse_return(self.config, inbound.query)
        return responses.parse_notification(self.config, inbound.body)

    def unsigned_return_reference(self, inbound: Inbound) -> str | None:
        return None  # its browser return is signed: parse_notification reads it

    def acknowledge(self, verdict: Verdict) -> Acknowledgement:
        # codes.ACK_STATUS says why only RETRY is not a 204.
        status = ACK_STATUS[verdict]
        return Acknowledgement(str(status), status, b"", "text/plain")

    async def query(self, ref: TransactionRef) -> ProviderResult:
        body = requests.query_body(self.config, ref.reference, self._request_id())
        answer = await self._client.call(requests.QUERY_PATH, body, idempotent=True)
        return responses.parse_query(self.config, answer, ref.reference, body["requestId"])

    async def refund(self, order: RefundOrder) -> RefundResult:
        body = requests.refund_body(self.config, order)
        answer = await self._client.call(requests.REFUND_PATH, body, idempotent=False)
        return responses.parse_refund(self.config, answer, body["orderId"], order.request_id)

    async def query_refund(self, ref: TransactionRef, request_id: str, sent_at: datetime) -> RefundResult | None:
        body = requests.query_body(self.config, ref.reference, self._request_id())
        answer = await self._client.call(requests.QUERY_PATH, body, idempotent=True)
        order_id = requests.refund_order_id(request_id)
        return responses.parse_refund_query(self.config, answer, ref.reference, order_id, request_id, body["requestId"])
