"""The slip that travels with a shipment, as a PDF to print at A6 (label) or A5: the dossier handover slip
(phiếu gửi hồ sơ, QĐ 45/2016 Điều 6: what the citizen hands the postal worker, signed by both) for a
dossier pickup, and the result delivery slip for a result delivery (signed by the recipient).

A Code 128 barcode of the S10 item number for the postal worker's scanner (of the carrier's order id
until the item number is assigned), both addresses, the procedure and the documents. The text is set in
DejaVu Sans, embedded, which covers every Vietnamese letter; it is NFC-normalized first, so a name typed
with combining marks prints as the same letters.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from barcode import Code128
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from contracts.shipping import PostalAddress, ShipmentKind

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVu"
VIETNAM = timezone(timedelta(hours=7), "GMT+7")

PAGE_MM: dict[str, tuple[float, float]] = {"A6": (105.0, 148.0), "A5": (148.0, 210.0)}
# What one slip may hold: a dossier's document list is a few lines, never hundreds.
MAX_DOCUMENTS = 40
MAX_TEXT = 300
MAX_CODE = 64

TITLES = {
    ShipmentKind.DOSSIER_PICKUP: ("PHIẾU GỬI HỒ SƠ", "Người gửi (ký, ghi rõ họ tên)"),
    ShipmentKind.RESULT_DELIVERY: ("PHIẾU PHÁT KẾT QUẢ", "Người nhận (ký, ghi rõ họ tên)"),
}


@dataclass(frozen=True)
class Slip:
    kind: ShipmentKind
    item_number: str | None  # UPU S10, once the carrier has assigned it
    carrier_order_id: str
    dossier_code: str
    procedure: str
    sender: PostalAddress
    recipient: PostalAddress
    documents: list[str]
    weight_grams: int
    service: str
    created_at: datetime  # aware

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")
        if len(self.documents) > MAX_DOCUMENTS:
            raise ValueError(f"a slip lists at most {MAX_DOCUMENTS} documents")
        for text in [self.procedure, *self.documents, *_address_texts(self.sender), *_address_texts(self.recipient)]:
            if len(text) > MAX_TEXT:
                raise ValueError(f"a slip's texts are at most {MAX_TEXT} characters")
        for code in (self.item_number or "", self.carrier_order_id, self.dossier_code, self.service):
            if len(code) > MAX_CODE or not code.isprintable():
                raise ValueError(f"a slip's codes are at most {MAX_CODE} printable characters")
        if not self.carrier_order_id and not self.item_number:
            raise ValueError("a slip needs the carrier's order id or the item number")


def _address_texts(address: PostalAddress) -> list[str]:
    return [address.name, address.phone, address.line, address.ward_name, address.province_name]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


class _Layout:
    """Sizes for one page format: everything scales with the page's width."""

    def __init__(self, size: Literal["A5", "A6"]) -> None:
        self.width, self.height = PAGE_MM[size]
        scale = self.width / PAGE_MM["A6"][0]
        self.margin = 5.0 * scale
        self.title = 11.0 * scale
        self.body = 7.0 * scale
        self.small = 6.0 * scale
        self.line = 3.4 * scale
        self.bar_height = 12.0 * scale


def _barcode(pdf: FPDF, text: str, x: float, y: float, width: float, height: float) -> None:
    """Code 128 of `text` as filled bars, the narrowest bar width/modules wide, quiet zones left to the
    margins (10 modules each side fit in them)."""
    modules = Code128(text).build()[0]
    module = width / len(modules)
    start = None
    for i, bit in enumerate(modules + "0"):
        if bit == "1" and start is None:
            start = i
        elif bit == "0" and start is not None:
            pdf.rect(x + start * module, y, (i - start) * module, height, style="F")
            start = None


def _address_block(pdf: FPDF, layout: _Layout, label: str, address: PostalAddress) -> None:
    pdf.set_font(FONT, "B", layout.body)
    pdf.cell(0, layout.line, _nfc(label), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", layout.body)
    place = ", ".join(p for p in (address.line, address.ward_name, address.district_name, address.province_name) if p)
    for text in (f"{address.name} — ĐT: {address.phone}", place):
        pdf.multi_cell(0, layout.line, _nfc(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_slip(slip: Slip, size: Literal["A5", "A6"] = "A6") -> bytes:
    """The slip as a PDF, one page unless the documents need more."""
    if size not in PAGE_MM:
        raise ValueError("size is A5 or A6")
    layout = _Layout(size)
    title, signer = TITLES[slip.kind]
    pdf = FPDF(orientation="P", unit="mm", format=(layout.width, layout.height))
    pdf.set_creation_date(slip.created_at)  # the same slip renders to the same bytes
    pdf.set_title(f"{title} {slip.item_number or slip.carrier_order_id}")
    pdf.set_margins(layout.margin, layout.margin, layout.margin)
    pdf.set_auto_page_break(True, margin=layout.margin)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    inner = layout.width - 2 * layout.margin

    pdf.set_font(FONT, "", layout.small)
    pdf.cell(0, layout.line, "DỊCH VỤ BƯU CHÍNH CÔNG ÍCH", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", layout.title)
    pdf.cell(0, layout.title * 0.5, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    code = slip.item_number or slip.carrier_order_id
    top = pdf.get_y() + layout.line * 0.5
    _barcode(pdf, code, layout.margin + inner * 0.1, top, inner * 0.8, layout.bar_height)
    pdf.set_y(top + layout.bar_height + 0.5)
    pdf.set_font(FONT, "B", layout.body)
    label = f"Số hiệu bưu gửi: {slip.item_number}" if slip.item_number else f"Mã đơn: {slip.carrier_order_id}"
    pdf.cell(0, layout.line, label, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(layout.line * 0.5)

    pdf.set_font(FONT, "", layout.body)
    created = f"Ngày lập: {slip.created_at.astimezone(VIETNAM):%d/%m/%Y %H:%M}"
    facts = [
        f"Mã hồ sơ: {slip.dossier_code}",
        f"Thủ tục: {slip.procedure}",
        f"Dịch vụ: {slip.service} — Khối lượng: {slip.weight_grams:,} g".replace(",", "."),
        f"Mã đơn: {slip.carrier_order_id} — {created}" if slip.item_number else created,
    ]
    for text in facts:
        pdf.multi_cell(0, layout.line, _nfc(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(layout.line * 0.3)
    _address_block(pdf, layout, "Người gửi", slip.sender)
    pdf.ln(layout.line * 0.3)
    _address_block(pdf, layout, "Người nhận", slip.recipient)
    pdf.ln(layout.line * 0.3)

    pdf.set_font(FONT, "B", layout.body)
    pdf.cell(0, layout.line, f"Danh mục giấy tờ ({len(slip.documents)})", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", layout.body)
    for number, document in enumerate(slip.documents, start=1):
        pdf.multi_cell(0, layout.line, _nfc(f"{number}. {document}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.ln(layout.line)
    half = inner / 2
    pdf.set_font(FONT, "", layout.small)
    pdf.cell(half, layout.line, signer, align="C")
    pdf.cell(
        half, layout.line, "Nhân viên bưu chính (ký, ghi rõ họ tên)", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    return bytes(pdf.output())
