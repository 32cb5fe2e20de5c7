"""The postal staff's action form: what a person typed and attached, read into the shipments service's
StaffEvent, with Vietnamese messages beside the field they concern. The rules (which status may follow,
what a delivery needs) are the service's; this module only reads and bounds the form."""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar.datastructures import FormMultiDict, UploadFile

from contracts.shipping import ShipmentStatus
from gateway.shipments.service import StaffEvent

S = ShipmentStatus

# The actions the page offers, in the order a shipment usually meets them.
ACTIONS = (S.PICKED_UP, S.OUT_FOR_DELIVERY, S.DELIVERED, S.DELIVERY_FAILED, S.ON_HOLD, S.RETURNED_TO_AGENCY)
ACTION_LABELS = {
    S.PICKED_UP: "Đã nhận hồ sơ",
    S.OUT_FOR_DELIVERY: "Đang đi phát",
    S.DELIVERED: "Đã phát thành công",
    S.DELIVERY_FAILED: "Phát không thành công",
    S.ON_HOLD: "Lưu tại bưu cục",
    S.RETURNED_TO_AGENCY: "Đã trả về cơ quan",
}
STATUS_LABELS = {
    S.PENDING: "Chờ xử lý",
    S.PICKED_UP: "Đã nhận",
    S.IN_TRANSIT: "Đang vận chuyển",
    S.OUT_FOR_DELIVERY: "Đang đi phát",
    S.DELIVERED: "Đã phát",
    S.DELIVERY_FAILED: "Phát không thành công",
    S.ON_HOLD: "Lưu tại bưu cục",
    S.RETURN_TO_SENDER: "Đang chuyển hoàn",
    S.RETURNED_TO_AGENCY: "Đã trả về cơ quan",
    S.CANCELLED: "Đã huỷ",
    S.EXCEPTION: "Có sự cố",
}
MAX_NOTE = 500
MAX_NAME = 200
MAX_COUNT = 1000
MAX_VND = 1_000_000_000


@dataclass
class ActionForm:
    event: StaffEvent | None = None
    proof: UploadFile | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _text(form: FormMultiDict, name: str, limit: int) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _whole(form: FormMultiDict, name: str, limit: int, errors: dict[str, str]) -> int | None:
    text = _text(form, name, 20).replace(".", "").replace(",", "").replace(" ", "")
    if not text:
        return None
    if not text.isdigit() or int(text) > limit:
        errors[name] = f"Nhập số nguyên từ 0 đến {limit:,}.".replace(",", ".")
        return None
    return int(text)


def read_action(form: FormMultiDict, failure_reasons: dict[str, str]) -> ActionForm:
    """The StaffEvent the form asks for, or the errors to show beside its fields."""
    errors: dict[str, str] = {}
    action = _text(form, "status", 30)
    if action not in {a.value for a in ACTIONS}:
        return ActionForm(errors={"status": "Chọn một thao tác."})
    status = S(action)
    upload = form.get("proof")
    proof = upload if isinstance(upload, UploadFile) and upload.filename else None
    reason_code = _text(form, "reason_code", 64) or None
    if status is S.DELIVERY_FAILED and reason_code not in failure_reasons:
        errors["reason_code"] = "Chọn lý do phát không thành công."
    recipient = _text(form, "recipient_name", MAX_NAME) or None
    if status is S.DELIVERED:
        if not recipient:
            errors["recipient_name"] = "Nhập họ tên người nhận."
        if proof is None:
            errors["proof"] = "Chụp ảnh hoặc tải lên chữ ký người nhận."
    event = StaffEvent(
        status=status,
        reason_code=reason_code if status is S.DELIVERY_FAILED else None,
        note=_text(form, "note", MAX_NOTE),
        recipient_name=recipient if status is S.DELIVERED else None,
        id_document_checked=status is S.DELIVERED and form.get("id_document_checked") == "on",
        document_count=_whole(form, "document_count", MAX_COUNT, errors) if status is S.PICKED_UP else None,
        fees_collected=_whole(form, "fees_collected", MAX_VND, errors) if status is S.PICKED_UP else None,
    )
    return ActionForm(None if errors else event, proof, errors)
