"""The demo's form: a sample dossier, reading what the person typed, and turning it into a PaymentCreate.

Validation is PaymentCreate's own, so the demo accepts exactly what the API accepts; this module only
translates pydantic's errors into Vietnamese messages next to the field they concern.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar.datastructures import FormMultiDict
from pydantic import ValidationError

from contracts.payments import PaymentCreate
from gateway.clock import VN_TZ

AGENCY_CODE = "000.00.12.H29"
PROCEDURE_CODE = "1.001234"
PROCEDURE_NAME = "Cấp bản sao trích lục hộ tịch"
LINE_ROWS = 3  # rows in the form; a row left blank is ignored

KIND_LABELS = {"charge": "Lệ phí", "fee": "Phí", "postage": "Cước bưu chính"}
STATUS_LABELS = {
    "pending": "Chờ thanh toán",
    "processing": "Đang xử lý",
    "succeeded": "Đã thanh toán",
    "failed": "Thất bại",
    "cancelled": "Đã huỷ",
    "expired": "Hết hạn",
}
_SAMPLE_NAMES = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Châu", "Phạm Thu Hà", "Hoàng Đức Dũng")

_FIELD_LABELS = {
    "dossier_code": "Mã hồ sơ",
    "agency_code": "Mã cơ quan",
    "procedure_code": "Mã thủ tục",
    "payer.name": "Họ tên người nộp",
    "payer.phone": "Số điện thoại",
    "fee_lines": "Các khoản phí",
    "return_url": "Địa chỉ quay lại",
}
_LINE_FIELD_LABELS = {"kind": "loại", "code": "mã", "description": "nội dung", "amount": "số tiền"}
_MESSAGES = {
    "missing": "Bắt buộc nhập.",
    "string_too_short": "Không được để trống.",
    "string_too_long": "Quá dài.",
    "string_pattern_mismatch": "Sai định dạng.",
    "int_type": "Phải là số nguyên đồng, không có phần lẻ (ví dụ 35000).",
    "greater_than_equal": "Phải lớn hơn 0.",
    "less_than_equal": "Vượt quá mức cho phép.",
    "too_short": "Cần ít nhất một khoản phí.",
    "enum": "Loại phí không hợp lệ.",
}
_PHONE_MESSAGE = "Dạng 0xxxxxxxxx (10 chữ số) hoặc +84xxxxxxxxx."


@dataclass
class Line:
    kind: str = "charge"
    code: str = ""
    description: str = ""
    amount: str = ""

    @property
    def blank(self) -> bool:
        return not (self.code.strip() or self.description.strip() or self.amount.strip())


@dataclass
class DemoForm:
    dossier_code: str
    agency_code: str = AGENCY_CODE
    procedure_code: str = PROCEDURE_CODE
    payer_name: str = ""
    payer_phone: str = ""
    lines: list[Line] = field(default_factory=list)
    provider: str = ""


@dataclass
class Errors:
    by_field: dict[str, str] = field(default_factory=dict)  # "payer.name", "lines.1.amount", ...
    summary: list[tuple[str, str]] = field(default_factory=list)  # (label, message) for the top of the form


def sample_form(now: datetime) -> DemoForm:
    day = now.astimezone(VN_TZ).strftime("%y%m%d")
    return DemoForm(
        dossier_code=f"{AGENCY_CODE}-{day}-{random.randint(0, 9999):04d}",
        payer_name=random.choice(_SAMPLE_NAMES),
        payer_phone="0912345678",
        lines=_padded(
            [
                Line("charge", "LP-HT", "Lệ phí cấp bản sao trích lục hộ tịch", "8000"),
                Line("postage", "BCCI", "Cước bưu chính công ích trả kết quả", "27000"),
            ]
        ),
    )


def read_form(data: FormMultiDict) -> DemoForm:
    def one(key: str) -> str:
        value = data.get(key, "")
        return value if isinstance(value, str) else ""

    def many(key: str) -> list[str]:
        return [v if isinstance(v, str) else "" for v in data.getall(key, [])]

    kinds, codes, descriptions, amounts = many("kind"), many("code"), many("description"), many("amount")
    rows = max(len(kinds), len(codes), len(descriptions), len(amounts))

    def at(values: list[str], i: int, default: str = "") -> str:
        return values[i] if i < len(values) else default

    lines = [
        Line(at(kinds, i, "charge"), at(codes, i), at(descriptions, i), at(amounts, i)) for i in range(min(rows, 50))
    ]
    return DemoForm(
        dossier_code=one("dossier_code"),
        agency_code=one("agency_code"),
        procedure_code=one("procedure_code"),
        payer_name=one("payer_name"),
        payer_phone=one("payer_phone"),
        lines=_padded(lines),
        provider=one("provider"),
    )


def validate(form: DemoForm, return_url: str) -> tuple[PaymentCreate | None, Errors]:
    rows = [i for i, line in enumerate(form.lines) if not line.blank]
    phone = re.sub(r"[\s.\-]", "", form.payer_phone)
    payer: dict[str, Any] = {"name": form.payer_name}
    if phone:
        payer["phone"] = phone
    body = {
        "dossier_code": form.dossier_code,
        "agency_code": form.agency_code,
        "procedure_code": form.procedure_code,
        "payer": payer,
        "fee_lines": [
            {
                "kind": form.lines[i].kind,
                "code": form.lines[i].code,
                "description": form.lines[i].description,
                "amount": _amount(form.lines[i].amount),
            }
            for i in rows
        ],
        "provider": form.provider,
        "return_url": return_url,
    }
    try:
        return PaymentCreate.model_validate(body), Errors()
    except ValidationError as exc:
        return None, _errors(exc, rows)


def _amount(text: str) -> int | str:
    """Digits only become an integer; anything else ("12.5", "1e3", "") stays text for StrictInt to refuse."""
    compact = text.strip().replace(" ", "")
    return int(compact) if compact.isascii() and compact.isdigit() else compact


def _errors(exc: ValidationError, rows: list[int]) -> Errors:
    errors = Errors()
    for error in exc.errors(include_input=False, include_url=False):
        loc = error["loc"]
        if len(loc) >= 3 and loc[0] == "fee_lines" and isinstance(loc[1], int):
            row = rows[loc[1]]
            key = f"lines.{row}.{loc[2]}"
            label = f"Khoản phí {row + 1} – {_LINE_FIELD_LABELS.get(str(loc[2]), str(loc[2]))}"
        else:
            key = ".".join(str(part) for part in loc)
            label = _FIELD_LABELS.get(key, key)
        message = _message(key, error["type"], error["msg"])
        if key not in errors.by_field:
            errors.by_field[key] = message
            errors.summary.append((label, message))
    return errors


def _message(key: str, error_type: str, default: str) -> str:
    if key == "payer.phone":
        return _PHONE_MESSAGE
    if key.endswith(".amount") and error_type not in {"greater_than_equal", "less_than_equal"}:
        return _MESSAGES["int_type"]  # whatever the type check is called, the fix is the same
    return _MESSAGES.get(error_type, default)


def _padded(lines: list[Line]) -> list[Line]:
    return lines + [Line() for _ in range(LINE_ROWS - len(lines))]


# -- formatting, shared by the templates and the JSON the page polls -----------------------------------


def vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " ₫"


def vn_time(value: datetime | None, fmt: str = "%H:%M:%S %d/%m/%Y") -> str:
    return value.astimezone(VN_TZ).strftime(fmt) if value else ""
