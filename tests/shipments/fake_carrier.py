"""A carrier for the gateway's tests until the VNPost adapter lands: it keeps its orders in memory, signs its
pushes with an HMAC, and can fail or refuse on request. It fills contracts.shipping.Carrier and nothing more."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime

from contracts import s10
from contracts.errors import InvalidSignature, ProviderRejected, ProviderUnavailable
from contracts.providers import Acknowledgement, Inbound
from contracts.shipping import (
    Booking,
    BookingOrder,
    CancelResult,
    CarrierEvent,
    Quote,
    QuoteRequest,
    ShipmentStatus,
)

SECRET = b"fake-carrier-push-secret"
OFFICE = "100900"  # the post office every fake booking is assigned to


@dataclass
class FakeCarrier:
    name: str = "vnpost"
    display_name: str = "Fake VNPost"
    services: dict[str, str] = field(default_factory=lambda: {"CTN007": "Chuyển phát thường", "EMS": "EMS"})
    failure_reasons: dict[str, str] = field(
        default_factory=lambda: {"KVN": "Người nhận vắng nhà", "SDC": "Sai địa chỉ", "TCN": "Từ chối nhận"}
    )
    orders: dict[str, BookingOrder] = field(default_factory=dict)
    events: dict[str, list[CarrierEvent]] = field(default_factory=dict)
    unavailable: int = 0  # the next this many calls time out
    refuse: bool = False
    booked_but_lost: int = 0  # the next this many bookings are made, then the answer is lost
    item_number: str | None = None  # the next booking's item number, if set (a bad check digit, say)
    calls: list[str] = field(default_factory=list)
    _serial: int = 10_000_000

    def _call(self, what: str) -> None:
        self.calls.append(what)
        if self.unavailable:
            self.unavailable -= 1
            raise ProviderUnavailable(self.name, "timed out")
        if self.refuse:
            raise ProviderRejected(self.name, "refused", codes={"code": "E01"})

    async def quote(self, request: QuoteRequest) -> Quote:
        self._call("quote")
        same = request.sender.province_code == request.recipient.province_code
        main = (15_000 if same else 25_000) + 5_000 * (request.parcel.weight_grams // 500)
        addon = (10_000 if request.pickup_at_address else 0) + (5_000 if request.postage_from_recipient else 0)
        return Quote(request.service, main, addon, main + addon, 2 if same else 4)

    async def book(self, order: BookingOrder) -> Booking:
        self._call("book")
        existing = next((oid for oid, o in self.orders.items() if o.reference == order.reference), None)
        order_id = existing or f"VNP{len(self.orders) + 1:07d}"
        self.orders[order_id] = order
        self._serial += 1
        item = self.item_number or s10.make("EB", str(self._serial))
        self.item_number = None
        if self.booked_but_lost:
            self.booked_but_lost -= 1
            raise ProviderUnavailable(self.name, "connection reset")
        return Booking(order_id, "3", 32_000, item, OFFICE)

    async def cancel(self, carrier_order_id: str) -> CancelResult:
        self._call("cancel")
        picked = any(e.status is not ShipmentStatus.PENDING for e in self.events.get(carrier_order_id, []))
        return CancelResult(accepted=not picked, case_id="C1" if not picked else None, message="picked up already")

    async def track(self, carrier_order_id: str, item_number: str | None) -> list[CarrierEvent]:
        self._call("track")
        return sorted(self.events.get(carrier_order_id, []), key=lambda e: e.occurred_at)

    def happen(self, event: CarrierEvent) -> CarrierEvent:
        """Something happens to an order: track() will tell it."""
        self.events.setdefault(event.carrier_order_id, []).append(event)
        return event

    def push_body(self, events: list[CarrierEvent], *, forged: bool = False) -> bytes:
        data = json.dumps(
            [
                {
                    "order": e.carrier_order_id,
                    "code": e.code,
                    "status": e.status.value,
                    "at": e.occurred_at.isoformat(),
                    "location": e.location,
                    "reason_code": e.reason_code,
                    "item": e.item_number,
                    "description": e.description,
                }
                for e in events
            ]
        )
        key = b"not-the-secret" if forged else SECRET
        sign = hmac.new(key, data.encode(), hashlib.sha256).hexdigest()
        return json.dumps({"data": data, "sign": sign}).encode()

    def parse_push(self, inbound: Inbound) -> list[CarrierEvent]:
        body = json.loads(inbound.body)
        expected = hmac.new(SECRET, body["data"].encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, str(body.get("sign", ""))):
            raise InvalidSignature(self.name, "bad signature")
        return [
            CarrierEvent(
                carrier_order_id=e["order"],
                code=e["code"],
                status=ShipmentStatus(e["status"]),
                occurred_at=datetime.fromisoformat(e["at"]),
                location=e["location"],
                reason_code=e["reason_code"],
                item_number=e["item"],
                description=e["description"],
            )
            for e in json.loads(body["data"])
        ]

    def acknowledge_push(self, accepted: bool) -> Acknowledgement:
        body = json.dumps({"code": "00" if accepted else "99"}).encode()
        return Acknowledgement("00" if accepted else "99", 200 if accepted else 500, body)
