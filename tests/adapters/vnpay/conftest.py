from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.vnpay import signing
from adapters.vnpay.config import VNPayConfig

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "DVCGWSANDBOXSECRETVNPAY000000001"
API_URL = "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction"


@pytest.fixture
def config() -> VNPayConfig:
    return VNPayConfig(
        tmn_code="DVCGW001",
        hash_secret=SECRET,
        payment_url="https://sandbox.vnpayment.vn/paymentv2/vpcpay.html",
        api_url=API_URL,
        server_ip="10.1.2.3",
        timeout_seconds=5,
    )


def fixture(name: str) -> dict[str, Any]:
    data = json.loads((FIXTURES / name).read_text())
    data.pop("_source", None)
    return data


def signed_query_fixture(name: str, **changes: str) -> dict[str, str]:
    params = {**fixture(name), **changes}
    params["vnp_SecureHash"] = signing.sign_query(params, SECRET)
    return params


def signed_api_fixture(name: str, fields: tuple[str, ...], **changes: str) -> dict[str, Any]:
    body = {**fixture(name), **changes}
    body["vnp_SecureHash"] = signing.pipe_checksum(body, fields, SECRET)
    return body
