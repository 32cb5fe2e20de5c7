"""Shipment requests as a provincial portal sends them (shared with tests/gateway/test_api_edges.py)."""

from __future__ import annotations

from typing import Any


def address(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Nguyễn Văn An",
        "phone": "0912345678",
        "line": "12 Tràng Tiền",
        "province_code": "01",
        "ward_code": "00070",  # Phường Hoàn Kiếm, Hà Nội
    }
    return body | overrides


AGENCY = {
    "name": "Bộ phận một cửa UBND phường Hoàn Kiếm",
    "phone": "02439260000",
    "line": "126 Hàng Trống",
    "province_code": "01",
    "ward_code": "00070",
}


def shipment_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "result_delivery",
        "dossier_code": "000.00.12.H29-241123-0001",
        "procedure": "Cấp bản sao trích lục hộ tịch",
        "sender": dict(AGENCY),
        "recipient": address(line="5 Lý Thường Kiệt"),
        "parcel": {"weight_grams": 300},
        "documents": [{"title": "Trích lục khai sinh (bản sao)", "copies": 2}],
        "postage_mode": "cod",
    }
    return body | overrides
