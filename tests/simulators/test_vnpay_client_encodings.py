"""Payment URLs as other VNPay clients build them: each signs its own URL encoding, and VNPay accepts it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import quote, quote_plus

import pytest

from adapters.vnpay.signing import hmac_sha512
from simulators.vnpay.wire import format_vnp_date, now_vn
from tests.simulators.vnpay_sandbox import HASH_SECRET, RETURN_URL, TMN_CODE, Sandbox

pytestmark = pytest.mark.anyio


def php_urlencode(text: str) -> str:  # PHP urlencode: RFC 1738 style, '~' encoded, space '+'
    return quote_plus(text, safe="").replace("~", "%7E")


def js_url_search_params(text: str) -> str:  # URLSearchParams: '*' kept, '~' encoded, space '+'
    return quote_plus(text, safe="*").replace("~", "%7E")


def dotnet_webutility(text: str) -> str:  # WebUtility.UrlEncode: '()!*' kept, space '+'
    return quote_plus(text, safe="()!*")


def node_encode_uri_component(text: str) -> str:  # encodeURIComponent then %20 → '+', as VNPay's Node demo
    return quote(text, safe="-_.!~*'()").replace("%20", "+")


def signed_url(encode: Callable[[str], str], *, include_empty: bool = False, **overrides: str) -> str:
    params = {
        "vnp_Version": "2.1.0",
        "vnp_Command": "pay",
        "vnp_TmnCode": TMN_CODE,
        "vnp_Amount": "3500000",
        "vnp_CurrCode": "VND",
        "vnp_TxnRef": "HS0001",
        "vnp_OrderInfo": "Thanh toan (ma 123) * HS0001 ~ok!",
        "vnp_OrderType": "other",
        "vnp_Locale": "vn",
        "vnp_ReturnUrl": RETURN_URL + "?from=~portal*",
        "vnp_IpAddr": "203.0.113.7",
        "vnp_CreateDate": format_vnp_date(now_vn()),
        "vnp_ExpireDate": format_vnp_date(now_vn() + timedelta(minutes=15)),
        **overrides,
    }
    if include_empty:  # VNPay's PHP sample signs and sends its empty vnp_Bill_* fields
        params |= {"vnp_Bill_Mobile": "", "vnp_Bill_Email": ""}
    query = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params.items()))
    return f"/paymentv2/vpcpay.html?{query}&vnp_SecureHash={hmac_sha512(HASH_SECRET, query)}"


@pytest.mark.parametrize("encode", [php_urlencode, js_url_search_params, dotnet_webutility, node_encode_uri_component])
async def test_each_clients_encoding_is_accepted(sandbox: Sandbox, encode: Callable[[str], str]) -> None:
    r = await sandbox.client.get(signed_url(encode))
    assert r.status_code == 302
    assert "Error.html" not in r.headers["location"], r.headers["location"]


async def test_php_sample_with_signed_empty_fields_is_accepted(sandbox: Sandbox) -> None:
    r = await sandbox.client.get(signed_url(php_urlencode, include_empty=True))
    assert "Error.html" not in r.headers["location"]


async def test_a_tampered_value_still_fails_whatever_the_encoding(sandbox: Sandbox) -> None:
    url = signed_url(dotnet_webutility).replace("vnp_Amount=3500000", "vnp_Amount=100")
    r = await sandbox.client.get(url)
    assert r.headers["location"].endswith("Error.html?code=70")
