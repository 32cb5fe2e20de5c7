"""The finance page's inputs: filters, the resolve form, the upload form and the totals' period, each read,
bounded and checked here, with Vietnamese messages beside the field they concern. The rules (what may be
resolved, how a file is read) stay in gateway/reconciliation; this module only reads the forms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from gateway.reconciliation.layouts import LAYOUTS
from gateway.reconciliation.listing import DISCREPANCIES, ItemFilter, State

CATEGORY_LABELS = {
    "matched": "Khớp",
    "missing_in_provider": "Thiếu trong tệp đối soát",
    "missing_in_gateway": "Không có trên cổng",
    "amount_mismatch": "Lệch số tiền",
    "status_mismatch": "Lệch trạng thái",
    "duplicate": "Trùng lặp",
}
ACTION_LABELS = {"write_off": "Ghi giảm (xoá nợ)", "refund": "Hoàn tiền", "mark_paid": "Đã thanh toán"}
# A refund resolution's refund, as it stands: a failed one means the money is still at the provider.
REFUND_LABELS = {
    "pending": "chờ gửi",
    "processing": "đang xử lý",
    "succeeded": "đã hoàn",
    "failed": "nhà cung cấp từ chối: tiền chưa được hoàn",
}
STATE_LABELS = {"open": "Chưa xử lý", "resolved": "Đã xử lý", "all": "Tất cả"}
MAX_NOTE = 2000  # as the finance API's ResolveIn
MAX_REFERENCE = 100
MAX_RUN_ID = 64
MAX_ITEM_ID = 2_147_483_647  # the items table's INTEGER key
MAX_PAGE = 1000
MAX_DAYS = 31  # the totals' period: one query per day for the chart


def text(values: Mapping[str, object], name: str, limit: int) -> str:
    """A field's text, stripped, cut at `limit`, NUL removed (no column keeps one); "" if absent."""
    value = values.get(name)
    return value.strip()[:limit].replace("\x00", "") if isinstance(value, str) else ""


def _whole(values: Mapping[str, object], name: str, limit: int) -> int | None:
    raw = text(values, name, 12)
    return int(raw) if raw.isdigit() and int(raw) <= limit else None


@dataclass
class Filters:
    where: ItemFilter
    errors: dict[str, str] = field(default_factory=dict)


def read_filters(query: Mapping[str, object]) -> Filters:
    """The discrepancy list's filters; an unknown value is dropped and said so beside its field."""
    errors: dict[str, str] = {}
    run_id = text(query, "run", MAX_RUN_ID + 1)
    if len(run_id) > MAX_RUN_ID or (not run_id.replace("_", "").isalnum() and run_id):
        errors["run"] = "Mã lần đối soát không hợp lệ."
        run_id = ""
    provider = text(query, "provider", 20)
    if provider and provider not in LAYOUTS:
        errors["provider"] = "Chọn một nhà cung cấp trong danh sách."
        provider = ""
    category = text(query, "category", 30)
    if category and category not in DISCREPANCIES:
        errors["category"] = "Chọn một loại chênh lệch trong danh sách."
        category = ""
    state_text = text(query, "state", 10) or "open"
    state: State = "open"
    if state_text in ("resolved", "all"):
        state = "resolved" if state_text == "resolved" else "all"
    elif state_text != "open":
        errors["state"] = "Chọn một trạng thái trong danh sách."
    before = _whole(query, "before", MAX_ITEM_ID) if text(query, "before", 12) else 0
    if before is None:
        errors["before"] = "Trang không hợp lệ."
        before = 0
    return Filters(ItemFilter(run_id, provider, category, state, before), errors)


def read_page(query: Mapping[str, object]) -> int:
    return max(1, _whole(query, "page", MAX_PAGE) or 1)


@dataclass(frozen=True, slots=True)
class Resolve:
    action: str
    note: str
    reference: str | None


def read_resolve(form: Mapping[str, object]) -> tuple[Resolve | None, dict[str, str]]:
    """What the resolve form asks for, or the errors to show beside its fields. That mark_paid needs a
    reference, or that the item is still open, is the service's to say (Resolutions.resolve)."""
    errors: dict[str, str] = {}
    action = text(form, "action", 20)
    if action not in ACTION_LABELS:
        errors["action"] = "Chọn cách xử lý."
    note = text(form, "note", MAX_NOTE + 1)
    if not note:
        errors["note"] = "Nhập ghi chú: vì sao xử lý như vậy."
    elif len(note) > MAX_NOTE:
        errors["note"] = f"Ghi chú tối đa {MAX_NOTE} ký tự."
    reference = text(form, "reference", MAX_REFERENCE + 1)
    if len(reference) > MAX_REFERENCE:
        errors["reference"] = f"Mã tham chiếu tối đa {MAX_REFERENCE} ký tự."
    return (None if errors else Resolve(action, note, reference or None)), errors


def read_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


@dataclass
class Period:
    first: date
    last: date
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def months(self) -> list[str]:
        return sorted({d.strftime("%Y-%m") for d in self.days})


def read_period(query: Mapping[str, object], today: date) -> Period:
    """The totals' period: `from` and `to` (YYYY-MM-DD, Vietnam's days), the last seven days by default,
    at most MAX_DAYS days, never after today."""
    errors: dict[str, str] = {}
    # Read at 11 characters: cut at 10, "2026-11-200" would pass for a day.
    last = read_day(text(query, "to", 11)) if text(query, "to", 11) else today
    if last is None or last > today or last.year < 2000:
        errors["to"] = "Ngày kết thúc không hợp lệ (không sau hôm nay)."
        last = today
    first = read_day(text(query, "from", 11)) if text(query, "from", 11) else last - timedelta(days=6)
    if first is None or first > last or first.year < 2000:
        errors["from"] = "Ngày bắt đầu không hợp lệ (không sau ngày kết thúc)."
        first = last - timedelta(days=6)
    if (last - first).days >= MAX_DAYS:
        errors["from"] = f"Chọn tối đa {MAX_DAYS} ngày."
        first = last - timedelta(days=MAX_DAYS - 1)
    return Period(first, last, errors)


@dataclass
class Upload:
    provider: str
    business_date: date | None
    errors: dict[str, str] = field(default_factory=dict)


def read_upload(form: Mapping[str, object], has_file: bool) -> Upload:
    errors: dict[str, str] = {}
    provider = text(form, "provider", 20)
    if provider not in LAYOUTS:
        errors["provider"] = "Chọn nhà cung cấp."
    day = read_day(text(form, "business_date", 11))
    if day is None:
        errors["business_date"] = "Chọn ngày đối soát."
    if not has_file:
        errors["file"] = "Chọn tệp đối soát."
    return Upload(provider, day, errors)
