"""Pure parsers of what MyVNPost sends back: the login, fee, order, cancel and tracking answers, and the
status push, verified before any value of it is read.

The API answers come back on the TLS connection the adapter opened with its token and are not signed;
the push comes to the gateway and is believed only for what its SignData covers: the Data string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.http import strict_json as shared_strict_json
from adapters.vnpost import codes, signing
from adapters.vnpost.wire import Number, money, parse_time
from contracts.errors import InvalidSignature, ProviderRejected, ProviderUnavailable
from contracts.shipping import Booking, CancelResult, CarrierEvent, Quote

PROVIDER = "vnpost"
MAX_PUSH_BYTES = 512 * 1024
MAX_PUSH_EVENTS = 200
MAX_TRACKED_EVENTS = 1000
MAX_FIELD_CHARS = 500  # any one text of an event: names, notes, office codes


def strict_json(raw: bytes | str) -> Any:
    """JSON read strictly (no key twice, no NaN), numbers kept as written so money never is a float."""
    return shared_strict_json(raw, number=Number)


def _text(value: object, name: str, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise ValueError(f"{name} is missing")
        return None
    if isinstance(value, Number):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"{name} is not text")
    if len(value) > MAX_FIELD_CHARS:
        raise ValueError(f"{name} is longer than {MAX_FIELD_CHARS} characters")
    return value


def _code(value: object, name: str = "status") -> int:
    text = str(value) if isinstance(value, Number | str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 4:
        raise ValueError(f"{name} {value!r} is not a status code")
    return int(text)


def parse_token(body: Any) -> str:
    if not isinstance(body, Mapping):
        raise ProviderUnavailable(PROVIDER, "GetAccessToken answered with something that is not an object")
    token = body.get("token")
    if isinstance(token, str) and 0 < len(token) <= 4096:
        return token
    # A refused login comes back HTTP 200 without a token and with errorMessage (§2.1.1).
    raise ProviderRejected(PROVIDER, f"login refused: {body.get('errorMessage') or 'no token'}")


def parse_quote(body: Any, service: str) -> Quote:
    if not isinstance(body, list) or not body or not isinstance(body[0], Mapping):
        raise ProviderUnavailable(PROVIDER, "ServicesCharge answered with no fee row")
    row = body[0]
    try:
        main_fee = money(row.get("mainFee"))
        addon_fee = money(row.get("vasfee", Number("0")))
    except ValueError as exc:
        raise ProviderUnavailable(PROVIDER, f"ServicesCharge: {exc}") from None
    return Quote(service=service, main_fee=main_fee, addon_fee=addon_fee, total=main_fee + addon_fee)


def parse_create(body: Any, *, office_field: str) -> Booking:
    if not isinstance(body, Mapping):
        raise ProviderUnavailable(PROVIDER, "CreateOrder answered with something that is not an object")
    try:
        original_id = _text(body.get("originalID"), "originalID", required=True)
        status = _code(body.get("status"))
        total_fee = money(body.get("totalFee"))
        item_number = _text(body.get("itemCode"), "itemCode")
        # UNVERIFIED: the office fields are the simulator's; a real answer without them leaves it unknown.
        office = _text(body.get(office_field), office_field)
    except ValueError as exc:
        raise ProviderUnavailable(PROVIDER, f"CreateOrder: {exc}") from None
    assert original_id is not None
    if status not in codes.STATUS_NAMES:
        raise ProviderUnavailable(PROVIDER, f"CreateOrder answered status {status}, which is not MyVNPost's")
    return Booking(
        carrier_order_id=original_id,
        status_code=str(status),
        total_fee=total_fee,
        item_number=item_number,
        office_code=office,
    )


def parse_cancel(body: Any) -> CancelResult:
    if not isinstance(body, list) or not body or not isinstance(body[0], Mapping):
        raise ProviderUnavailable(PROVIDER, "orderCancel answered with no case")
    case_id = body[0].get("caseId")
    try:
        case = _text(case_id, "caseId", required=True)
    except ValueError as exc:
        raise ProviderUnavailable(PROVIDER, f"orderCancel: {exc}") from None
    return CancelResult(accepted=True, case_id=case, message=str(_text(body[0].get("message"), "message") or ""))


def parse_event(row: object) -> CarrierEvent:
    """One event as MyVNPost writes it, in a push's Data or a tracking answer."""
    if not isinstance(row, Mapping):
        raise ValueError("an event is not an object")
    code = _code(row.get("status"))
    original_id = _text(row.get("originalId"), "originalId", required=True)
    assert original_id is not None
    cod = row.get("codAmount")
    raw = {
        key: text
        for key in ("statusName", "postOfficeCode", "causeCode", "orderCode")
        if (text := _text(row.get(key), key)) is not None
    }
    reason_code = _text(row.get("causeCode"), "causeCode")
    return CarrierEvent(
        carrier_order_id=original_id,
        code=str(code),
        status=codes.status_of(code),
        occurred_at=parse_time(row.get("eventTime")),
        description=_text(row.get("statusName"), "statusName") or codes.status_name(code),
        item_number=_text(row.get("itemCode"), "itemCode"),
        location=_text(row.get("postOfficeCode"), "postOfficeCode"),
        reason_code=reason_code,
        reason=_text(row.get("causeName"), "causeName") or codes.FAILURE_REASONS.get(reason_code or ""),
        actor=_text(row.get("postman"), "postman"),
        cod_amount=None if cod is None else money(cod),
        raw=raw,
    )


def _events(rows: object, limit: int) -> list[CarrierEvent]:
    if not isinstance(rows, list):
        raise ValueError("events are not a list")
    if len(rows) > limit:
        raise ValueError(f"more than {limit} events")
    events = [parse_event(row) for row in rows]
    return sorted(events, key=lambda e: e.occurred_at)


def parse_tracking(body: Any, carrier_order_id: str) -> list[CarrierEvent]:
    if not isinstance(body, Mapping):
        raise ProviderUnavailable(PROVIDER, "orderTracking answered with something that is not an object")
    try:
        events = _events(body.get("events"), MAX_TRACKED_EVENTS)
    except ValueError as exc:
        raise ProviderUnavailable(PROVIDER, f"orderTracking: {exc}") from None
    if carrier_order_id and any(e.carrier_order_id != carrier_order_id for e in events):
        raise ProviderRejected(PROVIDER, "orderTracking answered with events of another order")
    return events


def parse_push(key: rsa.RSAPublicKey, body: bytes) -> list[CarrierEvent]:
    """Verify a push `{"Data": "<JSON text>", "SendDate", "SignData"}` over the exact Data string, then
    read its events. Nothing outside Data is used: SendDate is not signed."""
    if len(body) > MAX_PUSH_BYTES:
        raise InvalidSignature(PROVIDER, f"push larger than {MAX_PUSH_BYTES} bytes")
    try:
        envelope = strict_json(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidSignature(PROVIDER, f"push is not strict JSON: {exc}") from None
    if not isinstance(envelope, Mapping):
        raise InvalidSignature(PROVIDER, "push is not a JSON object")
    data, sign_data = envelope.get("Data"), envelope.get("SignData")
    if not isinstance(data, str) or not isinstance(sign_data, str):
        raise InvalidSignature(PROVIDER, "push has no Data or SignData text")
    if not signing.verify(key, data, sign_data):
        raise InvalidSignature(PROVIDER, "SignData does not verify over Data with VNPost's key")
    # Signed by VNPost from here on: what does not read is a carrier fault no re-delivery will mend.
    try:
        events = _events(strict_json(data), MAX_PUSH_EVENTS)
    except ValueError as exc:
        raise ProviderRejected(PROVIDER, f"signed push does not read: {exc}") from None
    if not events:
        raise ProviderRejected(PROVIDER, "signed push has no events")
    return events
