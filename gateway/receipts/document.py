"""A receipt as a PDF (A5 portrait): the receipt form (mẫu số), series (ký hiệu) and number, the agency,
the payer, the dossier, the fee lines, the amount in figures and in words, the time in GMT+7, the
provider's reference, and a QR code of the public verification page.

Set in DejaVu Sans, embedded (gateway/documents/fonts), which covers every Vietnamese letter; text is
NFC-normalized first. The QR code is drawn as vector squares from segno's matrix, so it prints sharp.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from gateway.clock import VN_TZ
from gateway.documents.slips import FONTS
from gateway.receipts.words import vnd_in_figures, vnd_in_words

FONT = "DejaVu"
WIDTH, HEIGHT, MARGIN = 148.0, 210.0, 10.0
KIND_NAMES = {"fee": "Phí", "charge": "Lệ phí", "postage": "Cước bưu chính"}


@dataclass(frozen=True)
class ReceiptLine:
    kind: str
    description: str
    amount: int


@dataclass(frozen=True)
class ReceiptDocument:
    form: str
    series: str
    number: int
    adjustment_of: str | None  # "series number" of the original, for an adjustment receipt
    cancelled: bool
    agency_code: str
    payer_name: str
    dossier_code: str
    procedure_code: str
    lines: list[ReceiptLine]
    amount: int
    issued_at: datetime  # aware
    provider: str
    provider_reference: str
    verify_url: str

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None:
            raise ValueError("issued_at must be timezone-aware")
        if not 1 <= len(self.lines) <= 50:
            raise ValueError("a receipt has 1 to 50 lines")


def number_text(number: int) -> str:
    return f"{number:07d}"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _qr(pdf: FPDF, data: str, x: float, y: float, size: float) -> None:
    matrix = segno.make_qr(data, error="m").matrix
    module = size / len(matrix)
    for row, bits in enumerate(matrix):
        for col, bit in enumerate(bits):
            if bit:
                pdf.rect(x + col * module, y + row * module, module, module, style="F")


def render_receipt(doc: ReceiptDocument) -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format=(WIDTH, HEIGHT))
    pdf.set_creation_date(doc.issued_at)  # the same receipt renders to the same bytes
    pdf.set_title(f"Biên lai {doc.series} số {number_text(doc.number)}")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    inner = WIDTH - 2 * MARGIN
    line = 5.0

    pdf.set_font(FONT, "", 8)
    pdf.cell(inner * 0.55, line, _nfc(f"Đơn vị thu: {doc.agency_code}"))
    pdf.cell(0, line, _nfc(f"Mẫu số: {doc.form}"), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(inner * 0.55, line, "")
    pdf.cell(0, line, _nfc(f"Ký hiệu: {doc.series}"), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(inner * 0.55, line, "")
    pdf.cell(0, line, f"Số: {number_text(doc.number)}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.ln(2)
    pdf.set_font(FONT, "B", 13)
    title = "BIÊN LAI ĐIỀU CHỈNH GIẢM" if doc.adjustment_of else "BIÊN LAI THU PHÍ, LỆ PHÍ"
    pdf.cell(0, 7, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)
    pdf.cell(0, line, "(Biên lai điện tử)", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if doc.adjustment_of:
        pdf.cell(
            0,
            line,
            _nfc(f"Điều chỉnh cho biên lai {doc.adjustment_of}"),
            align="C",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    if doc.cancelled:
        pdf.set_font(FONT, "B", 11)
        pdf.cell(0, 6, "ĐÃ HỦY", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)

    pdf.set_font(FONT, "", 9)
    for text in (
        f"Người nộp: {doc.payer_name}",
        f"Mã hồ sơ: {doc.dossier_code}",
        f"Mã thủ tục: {doc.procedure_code}",
    ):
        pdf.multi_cell(0, line, _nfc(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)

    widths = (10.0, inner - 10.0 - 28.0 - 30.0, 28.0, 30.0)
    pdf.set_font(FONT, "B", 8)
    for width, head in zip(widths, ("STT", "Nội dung", "Loại", "Số tiền (đồng)"), strict=True):
        pdf.cell(width, line + 1, head, border=1, align="C")
    pdf.ln()
    pdf.set_font(FONT, "", 8)
    for index, item in enumerate(doc.lines, start=1):
        pdf.cell(widths[0], line, str(index), border=1, align="C")
        pdf.cell(widths[1], line, _nfc(item.description)[:60], border=1)
        pdf.cell(widths[2], line, KIND_NAMES.get(item.kind, item.kind), border=1)
        pdf.cell(widths[3], line, vnd_in_figures(item.amount), border=1, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 9)
    pdf.cell(sum(widths[:3]), line + 1, "Tổng cộng", border=1, align="R")
    pdf.cell(widths[3], line + 1, vnd_in_figures(doc.amount), border=1, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(0, line, _nfc(f"Số tiền bằng chữ: {vnd_in_words(doc.amount)}."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)

    when = doc.issued_at.astimezone(VN_TZ)
    for text in (
        f"Hình thức thanh toán: {doc.provider}",
        f"Mã giao dịch: {doc.provider_reference}",
        f"Thời điểm lập: {when:%H:%M:%S ngày %d/%m/%Y} (GMT+7)",
    ):
        pdf.multi_cell(0, line, _nfc(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.ln(3)
    size = 32.0
    top = pdf.get_y()
    _qr(pdf, doc.verify_url, MARGIN, top, size)
    pdf.set_xy(MARGIN + size + 4, top + 4)
    pdf.set_font(FONT, "", 7)
    pdf.multi_cell(
        inner - size - 4, 4, "Quét mã QR hoặc mở địa chỉ sau để kiểm tra biên lai:", new_x=XPos.LEFT, new_y=YPos.NEXT
    )
    pdf.multi_cell(inner - size - 4, 4, doc.verify_url, new_x=XPos.LEFT, new_y=YPos.NEXT)
    return bytes(pdf.output())
