"""The VNPost adapter as the gateway sees it: the Carrier port (contracts/shipping.py)."""

from __future__ import annotations

import json

import httpx

from adapters.vnpost import codes, requests, responses, signing
from adapters.vnpost.client import VNPostClient
from adapters.vnpost.config import VNPostConfig
from contracts.errors import ProviderRejected
from contracts.providers import Acknowledgement, Inbound
from contracts.shipping import (
    Booking,
    BookingOrder,
    CancelResult,
    CarrierEvent,
    Quote,
    QuoteRequest,
    ShipmentKind,
)

# VNPost counts a push as delivered on HTTP 200 and sends it again otherwise (§2.2: "Reply HTTP 200").
ACCEPTED = Acknowledgement("accepted", 200, json.dumps({"status": "OK"}).encode(), "application/json")
SEND_AGAIN = Acknowledgement("retry", 503, json.dumps({"status": "RETRY"}).encode(), "application/json")
# Refusals of a cancel that say the order is past cancelling, not that the call went wrong.
REFUSED_STATUSES = frozenset({"400", "404", "409", "422"})
# CreateOrder's refusal of a saleOrderCode it already has ("Mã đơn hàng … đã tồn tại"). UNVERIFIED: the
# wording is the simulator's; MyVNPost publishes no error table for it.
ALREADY_MADE = "đã tồn tại"


def _already_made(exc: ProviderRejected) -> bool:
    return exc.codes.get("http_status") == "400" and ALREADY_MADE in exc.message


class VNPostProvider:
    name = "vnpost"
    display_name = "Bưu điện Việt Nam (VNPost)"
    services = codes.SERVICES
    failure_reasons = codes.FAILURE_REASONS

    def __init__(self, config: VNPostConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        # Loaded once, so a bad key stops the gateway at start rather than at the first push.
        self._push_key = signing.load_public_key(config.push_public_key_pem)
        self._client = VNPostClient(config, transport)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def quote(self, request: QuoteRequest) -> Quote:
        body = requests.quote_body(self.config, request)
        answer = await self._client.call("POST", requests.QUOTE_PATH, body, idempotent=True)
        return responses.parse_quote(answer, request.service)

    async def book(self, order: BookingOrder) -> Booking:
        body = requests.create_body(order)
        office = "orgCodeCollect" if order.kind is ShipmentKind.DOSSIER_PICKUP else "orgCodeDelivery"
        try:
            # Sent again only if it never left: a second CreateOrder would be a second order.
            answer = await self._client.call("POST", requests.CREATE_PATH, body, idempotent=False)
        except ProviderRejected as exc:
            if not _already_made(exc):
                raise
            # A booking tried again after its answer was lost (a timeout, a gateway that died): the first
            # CreateOrder made the order, so it is found by our code instead of the shipment being refused.
            return await self._booked_before(order.reference, office)
        return responses.parse_create(answer, office_field=office)

    async def _booked_before(self, reference: str, office: str) -> Booking:
        params = requests.tracking_by_reference(reference)
        found = await self._client.call("GET", requests.TRACKING_PATH, params=params, idempotent=True)
        if isinstance(found, dict):  # read as CreateOrder's answer, whose order id is spelt originalID
            found = {"originalID": found.get("originalId")} | {
                k: found.get(k) for k in ("status", "totalFee", "itemCode", office)
            }
        return responses.parse_create(found, office_field=office)

    async def cancel(self, carrier_order_id: str) -> CancelResult:
        body = requests.cancel_body(carrier_order_id)
        try:
            # Cancelling twice is cancelling once, so a lost answer is asked again.
            answer = await self._client.call("POST", requests.CANCEL_PATH, body, idempotent=True)
        except ProviderRejected as exc:
            if exc.codes.get("http_status") in REFUSED_STATUSES:
                return CancelResult(accepted=False, message=exc.message)
            raise
        return responses.parse_cancel(answer)

    async def track(self, carrier_order_id: str, item_number: str | None) -> list[CarrierEvent]:
        params = requests.tracking_params(carrier_order_id, item_number)
        answer = await self._client.call("GET", requests.TRACKING_PATH, params=params, idempotent=True)
        return responses.parse_tracking(answer, carrier_order_id)

    def parse_push(self, inbound: Inbound) -> list[CarrierEvent]:
        return responses.parse_push(self._push_key, inbound.body)

    def acknowledge_push(self, accepted: bool) -> Acknowledgement:
        return ACCEPTED if accepted else SEND_AGAIN
