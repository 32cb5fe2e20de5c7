"""The port every postal carrier adapter fills, and the values that cross it.

The gateway resolves addresses against the official list of administrative units before it calls a
carrier, so a carrier adapter gets codes and names it can send as they are; it never validates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from contracts.providers import Acknowledgement, Inbound


class ShipmentStatus(StrEnum):
    """karrio's tracking statuses plus the public postal service's own end, `returned_to_agency`."""

    PENDING = "pending"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    ON_HOLD = "on_hold"
    RETURN_TO_SENDER = "return_to_sender"
    RETURNED_TO_AGENCY = "returned_to_agency"
    CANCELLED = "cancelled"
    EXCEPTION = "exception"


FINAL_STATUSES = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_AGENCY, ShipmentStatus.CANCELLED})


class ShipmentKind(StrEnum):
    DOSSIER_PICKUP = "dossier_pickup"  # the post collects the dossier at the citizen's address for the agency
    RESULT_DELIVERY = "result_delivery"  # the post carries the agency's result to the citizen


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """An address on the administrative units in force since 1 July 2025 (province + ward), resolved."""

    name: str
    phone: str
    line: str  # house number and street, as the citizen wrote it
    province_code: str
    province_name: str
    ward_code: str
    ward_name: str
    district_name: str | None = None  # kept for a carrier that still asks for one
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Parcel:
    weight_grams: int
    length_cm: int | None = None
    width_cm: int | None = None
    height_cm: int | None = None
    declared_value: int = 0  # VND; insured value where the service is bought


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    sender: PostalAddress
    recipient: PostalAddress
    parcel: Parcel
    service: str  # the carrier's service code (MyVNPost: CTN001, ETN011, ...)
    pickup_at_address: bool = False
    cod_amount: int = 0  # VND the carrier collects from the recipient and remits
    postage_from_recipient: bool = False


@dataclass(frozen=True, slots=True)
class Quote:
    service: str
    main_fee: int  # VND
    addon_fee: int  # VND
    total: int  # VND, what the carrier charges for this shipment
    estimated_days: int | None = None


@dataclass(frozen=True, slots=True)
class BookingOrder:
    reference: str  # the gateway's shipment id, sent as the carrier's order code (saleOrderCode)
    kind: ShipmentKind
    sender: PostalAddress
    recipient: PostalAddress
    parcel: Parcel
    service: str
    contents: str  # what is inside, as printed on the slip (dossier code and document list)
    pickup_at_address: bool = False  # MyVNPost GTG026
    cod_amount: int = 0  # MyVNPost GTG021 with PROP0018
    postage_from_recipient: bool = False  # MyVNPost GTG071
    proof_of_delivery: bool = True
    note: str = ""


@dataclass(frozen=True, slots=True)
class Booking:
    carrier_order_id: str  # MyVNPost originalID
    status_code: str  # the carrier's raw status code at booking
    total_fee: int  # VND
    item_number: str | None = None  # UPU S10, once the carrier has assigned it
    office_code: str | None = None  # the post office that collects (pickup) or delivers (delivery) it


@dataclass(frozen=True, slots=True)
class CarrierEvent:
    """One thing that happened to a shipment, as the carrier reports it; deduplicated by
    (carrier_order_id, code, occurred_at)."""

    carrier_order_id: str
    code: str  # the carrier's raw status code
    status: ShipmentStatus  # `code` through the adapter's status map
    occurred_at: datetime  # aware
    description: str = ""
    item_number: str | None = None
    location: str | None = None  # post office code
    reason_code: str | None = None
    reason: str | None = None
    actor: str | None = None  # the postman or office that recorded it, as the carrier names them
    cod_amount: int | None = None  # VND collected, on a COD event
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CancelResult:
    accepted: bool
    case_id: str | None = None
    message: str = ""


class Carrier(Protocol):
    """A postal carrier: quotes, bookings, cancellations, tracking, and status pushes it signs."""

    name: str
    display_name: str
    services: dict[str, str]  # service code -> its name, for the portal to choose from
    failure_reasons: dict[str, str]  # reason code -> text, for a failed delivery attempt

    async def quote(self, request: QuoteRequest) -> Quote:
        """Raise contracts.errors.ProviderUnavailable when the outcome is unknown, ProviderRejected when
        refused (the same errors payment providers raise, with provider = the carrier's name)."""
        ...

    async def book(self, order: BookingOrder) -> Booking: ...

    async def cancel(self, carrier_order_id: str) -> CancelResult: ...

    async def track(self, carrier_order_id: str, item_number: str | None) -> list[CarrierEvent]:
        """Every event the carrier knows for the shipment, oldest first."""
        ...

    def parse_push(self, inbound: Inbound) -> list[CarrierEvent]:
        """Verify and read a status push; raise InvalidSignature unless the carrier's signature covers
        every value returned."""
        ...

    def acknowledge_push(self, accepted: bool) -> Acknowledgement:
        """The answer the carrier expects: accepted, or to be sent again."""
        ...
