"""The ZaloPay adapter as the gateway sees it: the PaymentProvider port."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from adapters.zalopay import requests, responses
from adapters.zalopay.client import ZaloPayClient
from adapters.zalopay.codes import CALLBACK_ACKS
from adapters.zalopay.config import ZaloPayConfig
from adapters.zalopay.wire import MAX_AMOUNT, MAX_TRANS_ID, day_prefix
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


class ZaloPayProvider:
    name = "zalopay"
    display_name = "ZaloPay"
    # /v2/refund refunds whole or in part, /v2/query_refund reports one refund by its m_refund_id. An order
    # cannot be withdrawn: it lapses after expire_duration_seconds.
    capabilities = frozenset({Capability.REFUND, Capability.PARTIAL_REFUND, Capability.REFUND_STATUS, Capability.QR})
    max_amount = MAX_AMOUNT
    # UNVERIFIED: ZaloPay's refund spec (docs.zalopay.vn/docs/specs/order-refund) states no time limit and no
    # least amount; 30 days is the term commonly quoted for wallet refunds, to be set from the contract.
    refund_window: timedelta | None = timedelta(days=30)
    min_refund_amount = 1

    def __init__(
        self,
        config: ZaloPayConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._client = ZaloPayClient(config.api_url, config.timeout_seconds, transport)
        self._now = now

    async def aclose(self) -> None:
        await self._client.aclose()

    def reference_for(self, payment_id: str, created_at: datetime) -> str:
        # app_trans_id must start with today's yymmdd in GMT+7 and be unique for ever: the random part of
        # the payment's id is.
        unique = payment_id.split("_", 1)[-1]
        return f"{day_prefix(created_at)}_{unique}"[:MAX_TRANS_ID]

    async def create_checkout(self, order: CheckoutOrder) -> Checkout:
        body = requests.create_body(self.config, order)
        # A create sent twice is refused as a repeated app_trans_id (-68): send it again only if it never left.
        answer = await self._client.call("/v2/create", body, idempotent=False)
        return responses.parse_create_response(answer)

    def parse_notification(self, inbound: Inbound) -> ProviderResult:
        # The callback is a POST; a GET is the citizen's browser back from ZaloPay's page.
        if inbound.method == "GET":
            return responses.parse_redirect(self.config, inbound.query)
        return responses.parse_callback(self.config, inbound.body)

    def unsigned_return_reference(self, inbound: Inbound) -> str | None:
        return None  # its browser return is signed: parse_notification reads it

    def acknowledge(self, verdict: Verdict) -> Acknowledgement:
        code, message = CALLBACK_ACKS[verdict]
        body = json.dumps({"return_code": code, "return_message": message}, separators=(",", ":")).encode()
        return Acknowledgement(str(code), 200, body)

    async def query(self, ref: TransactionRef) -> ProviderResult:
        answer = await self._client.call("/v2/query", requests.query_body(self.config, ref), idempotent=True)
        return responses.parse_query_response(answer, ref.reference)

    async def refund(self, order: RefundOrder) -> RefundResult:
        try:
            body = requests.refund_body(self.config, order, self._now())
        except ValueError as exc:
            raise ProviderRejected(self.name, str(exc)) from None
        answer = await self._client.call("/v2/refund", body, idempotent=False)
        return responses.parse_refund_response(answer, order.request_id)

    async def query_refund(self, ref: TransactionRef, request_id: str, sent_at: datetime) -> RefundResult | None:
        try:
            body = requests.query_refund_body(self.config, request_id, sent_at, self._now())
        except ValueError as exc:
            raise ProviderRejected(self.name, str(exc)) from None
        answer = await self._client.call("/v2/query_refund", body, idempotent=True)
        return responses.parse_refund_response(answer, request_id)
