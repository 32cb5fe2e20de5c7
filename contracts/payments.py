"""What the portal sends and receives on /v1/payments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from contracts.email_address import EmailAddress
from contracts.limits import HttpUrl, IPAddress
from contracts.money import MAX_VND, VND


def _no_nul(value: str) -> str:
    # PostgreSQL's text cannot hold U+0000 and SQLite's can: refused alike, before anything is stored.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


def _text_only(value: Any) -> Any:
    # pydantic takes a number (or false) as an IP address: 0 would be "0.0.0.0".
    if not isinstance(value, str):
        raise ValueError("must be an IP address written as a string")
    return value


# What pydantic strips (Unicode's White_Space), as the body of a regular expression's class. Codes, texts and
# names are stripped before their limits apply: their OpenAPI schemas say so by a pattern, with any space
# around what counts.
_SPACE = r"\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def _stripped(inner: str, max_length: int) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "type": "string",
            "pattern": rf"^[{_SPACE}]*{inner}[{_SPACE}]*$",
            "description": f"1 to {max_length} characters once the space around them is removed",
        }
    )


def _text(max_length: int) -> WithJsonSchema:
    # Neither end a space; nothing a NUL (what _no_nul refuses).
    end = rf"[^{_SPACE}\u0000]"
    return _stripped(rf"{end}(?:[^\u0000]{{0,{max_length - 2}}}{end})?", max_length)


Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w.\-/]+$"),
    _stripped(r"[\w.\-/]{1,64}", 64),
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), AfterValidator(_no_nul), _text(500)
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_no_nul), _text(200)
]
VNPhone = Annotated[str, StringConstraints(pattern=r"^(\+84|0)\d{9}$")]


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class RefundStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class FeeKind(StrEnum):
    FEE = "fee"  # phí
    CHARGE = "charge"  # lệ phí
    POSTAGE = "postage"  # cước bưu chính


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Payer(_In):
    name: Name
    phone: VNPhone | None = None
    email: EmailAddress | None = None


class FeeLineIn(_In):
    kind: FeeKind
    code: Code
    description: Text
    amount: VND


class PaymentCreate(_In):
    dossier_code: Code = Field(description="Mã hồ sơ on the portal")
    agency_code: Code
    procedure_code: Code = Field(description="Mã thủ tục hành chính")
    payer: Payer
    fee_lines: list[FeeLineIn] = Field(
        min_length=1, max_length=50, description=f"Their amounts add up to at most {MAX_VND} VND"
    )
    provider: str = Field(
        min_length=1, max_length=20, pattern=r"^[a-z0-9_]+$", description="An enabled provider, e.g. vnpay"
    )
    return_url: HttpUrl = Field(description="Where the citizen's browser goes back to after paying")
    expires_in_seconds: int | None = Field(default=None, ge=60)
    citizen_ip: Annotated[IPAddress, BeforeValidator(_text_only)] | None = Field(
        default=None,
        description="The citizen's IP address as the portal saw it (VNPay's vnp_IpAddr); defaults to the caller's",
    )

    @model_validator(mode="after")
    def _total_fits(self) -> PaymentCreate:
        if sum(line.amount for line in self.fee_lines) > MAX_VND:
            raise ValueError(f"the fee lines add up to more than {MAX_VND} VND, the most one payment can carry")
        return self

    @field_validator("return_url")
    @classmethod
    def _http_only(cls, value: HttpUrl) -> HttpUrl:
        if value.scheme not in {"http", "https"}:
            raise ValueError("return_url must be http or https")
        return value


class FeeLineOut(BaseModel):
    kind: FeeKind
    code: str
    description: str
    amount: int


class PaymentOut(BaseModel):
    id: str
    status: PaymentStatus
    provider: str
    amount: int
    refunded_amount: int
    currency: Literal["VND"] = "VND"
    dossier_code: str
    agency_code: str
    procedure_code: str
    checkout_url: str | None = Field(description="The provider's payment page; null if the provider failed")
    qr_code: str | None = Field(default=None, description="A QR payload to show, where the provider gives one")
    deeplink: str | None = Field(default=None, description="A link that opens the provider's app, where given")
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None
    lines: list[FeeLineOut]


class PaymentPage(BaseModel):
    items: list[PaymentOut]
    next_cursor: str | None = None


class PaymentEventOut(BaseModel):
    from_status: str | None
    to_status: str
    cause: str
    refund_id: str | None
    provider_codes: dict[str, str]
    detail: str
    occurred_at: datetime


class RefundCreate(_In):
    amount: VND | None = Field(default=None, description="Omit for the whole remaining amount")
    reason: Text


class RefundOut(BaseModel):
    id: str
    payment_id: str
    amount: int
    status: RefundStatus
    reason: str
    created_at: datetime
    updated_at: datetime


class ProviderOut(BaseModel):
    """A payment provider this gateway takes payments through, and whether it takes them now."""

    name: str = Field(description="The value of `provider` in a payment")
    display_name: str
    max_amount: int = Field(description="The most one payment through it may be, in VND")
    refund: bool = Field(description="Payments through it can be refunded through this API")
    partial_refund: bool
    refund_window_days: int | None = Field(
        description="How many days after a payment is paid a refund of it is still taken; null: no limit stated"
    )
    min_refund_amount: int = Field(description="The least one refund may be, in VND")
    qr: bool = Field(description="Its payments carry a QR payload (`qr_code`) to show")
    health: Literal["up", "down", "recovering"] = Field(
        description="down: recent calls failed and new payments are refused for a while (503)"
    )
