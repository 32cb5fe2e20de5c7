"""A realistic portal request, shared by the tests, the benchmarks and anyone reading the API."""

from __future__ import annotations

import copy
from typing import Any

_PAYMENT_CREATE: dict[str, Any] = {
    "dossier_code": "000.00.12.H29-241123-0001",
    "agency_code": "000.00.12.H29",
    "procedure_code": "1.001234",
    "payer": {"name": "Nguyễn Văn An", "phone": "0912345678", "email": "an.nguyen@example.vn"},
    "fee_lines": [
        {"kind": "charge", "code": "LP-HT", "description": "Lệ phí cấp bản sao trích lục hộ tịch", "amount": 8000},
        {"kind": "postage", "code": "BCCI", "description": "Cước bưu chính công ích trả kết quả", "amount": 27000},
    ],
    "provider": "vnpay",
    "return_url": "https://dichvucong.example.gov.vn/ho-so/ket-qua-thanh-toan?lang=vi",
}


def payment_create_body(**overrides: Any) -> dict[str, Any]:
    """POST /v1/payments as a provincial portal sends it: a civil-status copy fee plus postage."""
    body = copy.deepcopy(_PAYMENT_CREATE)
    body.update(overrides)
    return body
