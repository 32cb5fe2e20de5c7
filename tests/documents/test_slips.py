"""The postal slips as PDF: the text read back out (Vietnamese letters intact), the page sizes, the
embedded font, and the Code 128 barcode decoded from a rendering of the page."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from contracts.shipping import ShipmentKind
from gateway.documents.slips import MAX_DOCUMENTS, Slip, render_slip
from tests.postal_examples import AGENCY, CITIZEN

DOCUMENTS = [
    "Giấy đề nghị đăng ký hộ kinh doanh (bản chính)",
    "Bản sao Căn cước của chủ hộ kinh doanh",
    "Biên bản họp thành viên hộ gia đình — ủy quyền (bản sao)",
]
SLIP = Slip(
    kind=ShipmentKind.DOSSIER_PICKUP,
    item_number="EB123456785VN",
    carrier_order_id="2612050000123",
    dossier_code="000.00.12.H29-241123-0001",
    procedure="Đăng ký thành lập hộ kinh doanh",
    sender=CITIZEN,
    recipient=AGENCY,
    documents=DOCUMENTS,
    weight_grams=1350,
    service="ETN011",
    created_at=datetime(2026, 12, 5, 3, 0, tzinfo=UTC),
)
RESULT = replace(
    SLIP,
    kind=ShipmentKind.RESULT_DELIVERY,
    sender=AGENCY,
    recipient=CITIZEN,
    documents=["Giấy chứng nhận đăng ký hộ kinh doanh"],
)


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _barcodes(pdf: bytes) -> list[tuple[str, str]]:
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=300 / 72).to_pil()
    return [(result.format.name, result.text) for result in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("size", ["A6", "A5"])
def test_the_dossier_slip_reads_back_with_every_vietnamese_letter(size: str) -> None:
    text = _text(render_slip(SLIP, size))  # type: ignore[arg-type]
    for expected in [
        "PHIẾU GỬI HỒ SƠ",
        "DỊCH VỤ BƯU CHÍNH CÔNG ÍCH",
        "Số hiệu bưu gửi: EB123456785VN",
        "Mã hồ sơ: 000.00.12.H29-241123-0001",
        "Thủ tục: Đăng ký thành lập hộ kinh doanh",
        "Khối lượng: 1.350 g",
        "Ngày lập: 05/12/2026 10:00",  # 03:00 UTC is 10:00 in Vietnam
        "Nguyễn Thị Hằng — ĐT: 0912345678",
        "12 Nguyễn Huệ, Phường Sài Gòn, Thành phố Hồ Chí Minh",
        "Bộ phận một cửa UBND phường Hoàn Kiếm",
        "Danh mục giấy tờ (3)",
        "Người gửi (ký, ghi rõ họ tên)",
        *(f"{i}. {d}" for i, d in enumerate(DOCUMENTS, start=1)),
    ]:
        assert expected in text


def test_the_result_slip_has_its_own_title_and_signer() -> None:
    text = _text(render_slip(RESULT))
    assert "PHIẾU PHÁT KẾT QUẢ" in text and "Người nhận (ký, ghi rõ họ tên)" in text
    assert "PHIẾU GỬI HỒ SƠ" not in text
    assert text.index("Bộ phận một cửa") < text.index("Nguyễn Thị Hằng")  # the agency sends, the citizen receives


def test_letters_typed_with_combining_marks_print_as_the_same_letters() -> None:
    decomposed = replace(SLIP, procedure=unicodedata.normalize("NFD", "Cấp đổi giấy phép lái xe"))
    assert "Thủ tục: Cấp đổi giấy phép lái xe" in _text(render_slip(decomposed))


@pytest.mark.parametrize(("size", "points"), [("A6", (297.64, 419.53)), ("A5", (419.53, 595.28))])
def test_the_page_is_the_size_asked_for(size: str, points: tuple[float, float]) -> None:
    page = PdfReader(io.BytesIO(render_slip(SLIP, size))).pages[0]  # type: ignore[arg-type]
    assert (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) == points


def test_the_font_is_embedded() -> None:
    page = PdfReader(io.BytesIO(render_slip(SLIP))).pages[0]
    fonts = [font.get_object() for font in page["/Resources"]["/Font"].values()]
    assert fonts and all("DejaVu" in str(f["/BaseFont"]) for f in fonts)
    for font in fonts:
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor  # the TrueType program itself, not a reference to a system font


@pytest.mark.parametrize("size", ["A6", "A5"])
def test_the_barcode_is_code_128_of_the_item_number(size: str) -> None:
    assert _barcodes(render_slip(SLIP, size)) == [("Code128", "EB123456785VN")]  # type: ignore[arg-type]


def test_before_the_item_number_exists_the_barcode_is_the_carriers_order_id() -> None:
    pdf = render_slip(replace(SLIP, item_number=None))
    assert _barcodes(pdf) == [("Code128", "2612050000123")]
    text = _text(pdf)
    assert "Mã đơn: 2612050000123" in text and "Số hiệu bưu gửi" not in text


def test_the_same_slip_renders_to_the_same_bytes() -> None:
    assert render_slip(SLIP) == render_slip(SLIP)


def test_a_long_document_list_goes_on_to_another_page() -> None:
    many = [
        f"Tài liệu số {i}: bản sao có chứng thực giấy tờ chứng minh quyền sử dụng đất" for i in range(MAX_DOCUMENTS)
    ]
    pdf = render_slip(replace(SLIP, documents=many))
    assert len(PdfReader(io.BytesIO(pdf)).pages) > 1
    assert f"{MAX_DOCUMENTS}. Tài liệu số {MAX_DOCUMENTS - 1}:" in _text(pdf)


@pytest.mark.parametrize(
    "changes",
    [
        {"documents": ["x"] * (MAX_DOCUMENTS + 1)},
        {"procedure": "x" * 301},
        {"created_at": datetime(2026, 12, 5, 10, 0)},
        {"item_number": "EB123\n456785VN"},
        {"item_number": None, "carrier_order_id": ""},
        {"sender": replace(CITIZEN, line="x" * 301)},
    ],
)
def test_a_slip_out_of_bounds_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        replace(SLIP, **changes)  # type: ignore[arg-type]


def test_only_a5_and_a6() -> None:
    with pytest.raises(ValueError):
        render_slip(SLIP, "A4")  # type: ignore[arg-type]
