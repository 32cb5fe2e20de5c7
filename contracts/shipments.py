"""What the portal sends and receives on /v1/shipments, and what anyone may read on /v1/tracking."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from contracts.addresses import AddressIn
from contracts.money import MAX_VND
from contracts.payments import Code, Name, Text, _In
from contracts.shipping import ShipmentKind, ShipmentStatus

MAX_WEIGHT_GRAMS = 50_000
MAX_SIDE_CM = 200
MAX_DOCUMENTS = 50

ServiceCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,20}$")]
Grams = Annotated[int, Field(ge=1, le=MAX_WEIGHT_GRAMS, strict=True)]
Side = Annotated[int, Field(ge=1, le=MAX_SIDE_CM, strict=True)]
Count = Annotated[int, Field(ge=0, le=1000, strict=True)]


class PostageMode(StrEnum):
    FEE_LINE = "fee_line"  # postage is a fee line of the level-4 payment (payment_id)
    COD = "cod"  # the carrier collects the postage from the recipient on delivery (MyVNPost GTG071)


class EventSource(StrEnum):
    CARRIER = "carrier"
    STAFF = "staff"
    PORTAL = "portal"
    SYSTEM = "system"


class ParcelIn(_In):
    weight_grams: Grams
    length_cm: Side | None = None
    width_cm: Side | None = None
    height_cm: Side | None = None
    declared_value: Annotated[int, Field(ge=0, le=MAX_VND, strict=True)] = Field(
        default=0, description="VND; the insured value where insurance is bought"
    )


class DocumentIn(_In):
    """One document of the dossier or of the result, as printed on the slip."""

    title: Text
    original: bool = Field(default=False, description="An original (bản chính) rather than a copy (bản sao)")
    copies: Annotated[int, Field(ge=1, le=100, strict=True)] = 1


class QuoteCreate(_In):
    kind: ShipmentKind
    sender: AddressIn
    recipient: AddressIn
    parcel: ParcelIn
    service: ServiceCode | None = Field(default=None, description="The carrier's service code; its default if left out")
    postage_mode: PostageMode = PostageMode.FEE_LINE
    cod_amount: Annotated[int, Field(ge=0, le=MAX_VND, strict=True)] = 0


class ShipmentCreate(QuoteCreate):
    dossier_code: Code = Field(description="Mã hồ sơ on the portal")
    procedure: Text = Field(description="The administrative procedure, as printed on the slip")
    documents: list[DocumentIn] = Field(default_factory=list, max_length=MAX_DOCUMENTS)
    payment_id: Annotated[str, StringConstraints(pattern=r"^pay_[a-z0-9]{1,36}$")] | None = Field(
        default=None,
        description="Required with postage_mode fee_line, refused with cod: the payment whose postage fee line pays it",
    )
    note: Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\u0000]*$")] = ""


class QuoteOut(BaseModel):
    carrier: str
    service: str
    main_fee: int
    addon_fee: int
    total: int = Field(description="VND, what the carrier charges for this shipment")
    estimated_days: int | None


class AddressOut(BaseModel):
    name: str
    phone: str
    email: str | None
    line: str
    province_code: str
    province_name: str
    ward_code: str
    ward_name: str
    district: str | None


class ParcelOut(BaseModel):
    weight_grams: int
    length_cm: int | None
    width_cm: int | None
    height_cm: int | None
    declared_value: int


class DocumentOut(BaseModel):
    title: str
    original: bool
    copies: int


class ShipmentOut(BaseModel):
    id: str
    kind: ShipmentKind
    status: ShipmentStatus
    booking: Literal["requested", "booked", "refused"] = Field(
        description="requested: the carrier has not confirmed the booking yet (the gateway keeps trying)"
    )
    dossier_code: str
    procedure: str
    carrier: str
    service: str
    carrier_order_id: str | None
    item_number: str | None = Field(description="UPU S10, once the carrier has assigned it")
    office_code: str | None = Field(description="The post office that collects or delivers it")
    postage_mode: PostageMode
    payment_id: str | None
    postage: int | None = Field(description="VND, the carrier's total for this shipment")
    cod_amount: int = Field(description="VND the carrier collects besides and must remit")
    cod_collected: int | None = Field(description="VND the carrier reports collected")
    failed_attempts: int
    sender: AddressOut
    recipient: AddressOut
    parcel: ParcelOut
    documents: list[DocumentOut]
    created_at: datetime
    updated_at: datetime
    last_polled_at: datetime | None
    delivered_at: datetime | None


class ShipmentPage(BaseModel):
    items: list[ShipmentOut]
    next_cursor: str | None = None


class ShipmentEventOut(BaseModel):
    id: int
    source: EventSource
    code: str | None = Field(description="The carrier's raw status code")
    status_before: ShipmentStatus | None
    status_after: ShipmentStatus
    applied: bool = Field(description="false: recorded only (a duplicate's older twin, or a late older event)")
    description: str
    location: str | None = Field(description="Post office code")
    reason_code: str | None
    reason: str | None
    actor: str | None
    occurred_at: datetime
    recorded_at: datetime
    correction: bool
    correction_reason: str | None
    proof_id: str | None


class ReportedStatus(StrEnum):
    """What the carrier's own systems (or the portal) may report through POST /v1/shipments/{id}/events."""

    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    ON_HOLD = "on_hold"
    RETURN_TO_SENDER = "return_to_sender"
    RETURNED_TO_AGENCY = "returned_to_agency"
    EXCEPTION = "exception"


class ShipmentEventIn(_In):
    """A report of what happened, now (the time it is received is the time it is recorded)."""

    status: ReportedStatus
    location: Code | None = Field(default=None, description="Post office code")
    reason_code: Code | None = Field(default=None, description="For delivery_failed: a code of the carrier's list")
    note: Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\u0000]*$")] = ""
    recipient_name: Name | None = Field(default=None, description="For delivered: who received it")
    id_document_checked: bool = False
    document_count: Count | None = Field(default=None, description="For picked_up: the documents counted")
    fees_collected: Annotated[int, Field(ge=0, le=MAX_VND, strict=True)] | None = Field(
        default=None, description="VND collected from the citizen"
    )


class TrackingEventOut(BaseModel):
    status: ShipmentStatus
    location: str | None
    occurred_at: datetime


class TrackingOut(BaseModel):
    """What anyone holding the item number may see: status, places and times, nothing about a person."""

    item_number: str
    kind: ShipmentKind
    status: ShipmentStatus
    events: list[TrackingEventOut]
