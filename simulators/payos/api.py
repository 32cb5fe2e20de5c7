"""payOS's merchant API (v2 payment requests and webhook confirmation), served at the root as payOS does.

Every answer is `{code, desc, data, signature}`: code "00" with data signed over its sorted fields, or an
error code with data null. Requests carry the merchant's x-client-id and x-api-key.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from datetime import timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from . import vietqr
from .config import Merchant
from .signing import same, sign, sign_payment_request
from .state import SimulatorState, simulator_of
from .store import Link, new_link_id, now_vn
from .webhook import envelope

MAX_ORDER_CODE = 9_007_199_254_740_991
MAX_AMOUNT = 9_999_999_999_999
MAX_DESCRIPTION = 25  # an account not linked through payOS
MAX_BODY = 16_384
# payOS's codes: 00 success, 20 invalid request, 101 no such link (UNVERIFIED: no source names it), 231 the
# orderCode is taken (as independent integrations check it, with desc "Đơn thanh toán đã tồn tại").
INVALID, NOT_FOUND, EXISTS = "20", "101", "231"
TEST_ORDER_CODE = 123


def answer(code: str, desc: str, data: dict[str, Any] | None = None, key: str | None = None) -> Response[bytes]:
    body: dict[str, Any] = {"code": code, "desc": desc, "data": data}
    if data is not None and key is not None:
        body["signature"] = sign(data, key)
    return Response(json.dumps(body, ensure_ascii=False).encode(), media_type="application/json")


def error(code: str, desc: str, status: int = 200) -> Response[bytes]:
    response = answer(code, desc)
    response.status_code = status
    return response


async def _gate(request: Request[Any, Any, Any]) -> tuple[SimulatorState, Merchant | Response[bytes]]:
    sim = simulator_of(request.app.state)
    faults = sim.faults
    if faults.api_delay_ms:
        await asyncio.sleep(faults.api_delay_ms / 1000)
    if faults.take_http_5xx():
        return sim, error("503", "Service Unavailable (simulated)", 503)
    merchant = sim.config.merchant(request.headers.get("x-client-id"))
    api_key = request.headers.get("x-api-key", "")
    if merchant is None or not hmac.compare_digest(api_key.encode(), merchant.api_key.encode()):
        return sim, error("401", "Thông tin xác thực không hợp lệ (x-client-id, x-api-key)", 401)
    return sim, merchant


async def _json_object(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return None
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _is_int(value: object, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://")) and len(value) <= 2048


@post("/v2/payment-requests", status_code=200)
async def create_payment_request(request: Request[Any, Any, Any]) -> Response[bytes]:
    sim, merchant = await _gate(request)
    if isinstance(merchant, Response):
        return merchant
    body = await _json_object(request)
    if body is None:
        return error(INVALID, "Dữ liệu không hợp lệ: không phải một đối tượng JSON")
    problems = [
        name
        for name, ok in (
            ("orderCode", _is_int(body.get("orderCode"), 1, MAX_ORDER_CODE)),
            ("amount", _is_int(body.get("amount"), 1, MAX_AMOUNT)),
            (
                "description",
                isinstance(body.get("description"), str) and 0 < len(body["description"]) <= MAX_DESCRIPTION,
            ),
            ("returnUrl", _url(body.get("returnUrl"))),
            ("cancelUrl", _url(body.get("cancelUrl"))),
            ("expiredAt", body.get("expiredAt") is None or _is_int(body.get("expiredAt"), 1, 2**31 - 1)),
        )
        if not ok
    ]
    if problems:
        return error(INVALID, f"Thông tin truyền lên không đúng: {', '.join(problems)}")
    if not same(body.get("signature"), sign_payment_request(body, merchant.checksum_key)):
        return error(INVALID, "Chữ ký không hợp lệ (signature)")
    if sim.store.find(merchant, str(body["orderCode"])) is not None:
        return error(EXISTS, "Đơn thanh toán đã tồn tại")
    now = now_vn()
    link_id = new_link_id()
    expired_at = body.get("expiredAt") or int((now + timedelta(seconds=sim.config.link_lifetime_seconds)).timestamp())
    link = Link(
        merchant=merchant,
        id=link_id,
        order_code=body["orderCode"],
        amount=body["amount"],
        description=body["description"],
        return_url=body["returnUrl"],
        cancel_url=body["cancelUrl"],
        created_at=now,
        expired_at=expired_at,
        qr_code="",
    )
    link.qr_code = vietqr.payload(merchant.bin, merchant.account_number, link.amount, link.transfer_content)
    sim.store.add(link)
    data = {
        "bin": merchant.bin,
        "accountNumber": merchant.account_number,
        "accountName": merchant.account_name,
        "amount": link.amount,
        "description": link.description,
        "orderCode": link.order_code,
        "currency": "VND",
        "paymentLinkId": link.id,
        "status": link.status,
        "expiredAt": link.expired_at,
        "checkoutUrl": f"{sim.config.public_url.rstrip('/')}/web/{link.id}",
        "qrCode": link.qr_code,
    }
    return answer("00", "success", data, merchant.checksum_key)


@get("/v2/payment-requests/{key:str}")
async def get_payment_request(request: Request[Any, Any, Any], key: FromPath[str]) -> Response[bytes]:
    sim, merchant = await _gate(request)
    if isinstance(merchant, Response):
        return merchant
    link = sim.store.find(merchant, key)
    if link is None:
        return error(NOT_FOUND, "Không tìm thấy đơn thanh toán")
    link.refresh(now_vn())
    return answer("00", "success", link.as_link(), merchant.checksum_key)


@post("/v2/payment-requests/{key:str}/cancel", status_code=200)
async def cancel_payment_request(request: Request[Any, Any, Any], key: FromPath[str]) -> Response[bytes]:
    sim, merchant = await _gate(request)
    if isinstance(merchant, Response):
        return merchant
    body = await _json_object(request)
    if body is None:
        return error(INVALID, "Dữ liệu không hợp lệ: không phải một đối tượng JSON")
    reason = body.get("cancellationReason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 255):
        return error(INVALID, "cancellationReason không hợp lệ")
    if "signature" in body:
        signed = {k: v for k, v in body.items() if k != "signature"}
        if not same(body["signature"], sign(signed, merchant.checksum_key)):
            return error(INVALID, "Chữ ký không hợp lệ (signature)")
    link = sim.store.find(merchant, key)
    if link is None:
        return error(NOT_FOUND, "Không tìm thấy đơn thanh toán")
    link.refresh(now_vn())
    if link.status == "PENDING":
        link.status = "CANCELLED"
        link.canceled_at = now_vn()
        link.cancellation_reason = reason
    elif link.status != "CANCELLED":
        return error(INVALID, f"Đơn thanh toán ở trạng thái {link.status} không thể huỷ")
    return answer("00", "success", link.as_link(), merchant.checksum_key)


@post("/confirm-webhook", status_code=200)
async def confirm_webhook(request: Request[Any, Any, Any]) -> Response[bytes]:
    """payOS posts a test webhook to the URL and registers it only when it answers 2xx."""
    sim, merchant = await _gate(request)
    if isinstance(merchant, Response):
        return merchant
    body = await _json_object(request)
    url = None if body is None else body.get("webhookUrl")
    if not _url(url):
        return error(INVALID, "webhookUrl không hợp lệ")
    assert isinstance(url, str)
    data = {
        "orderCode": TEST_ORDER_CODE,
        "amount": 3000,
        "description": "VQRIO123",
        "accountNumber": merchant.account_number,
        "reference": "TF230204212323",
        "transactionDateTime": now_vn().strftime("%Y-%m-%d %H:%M:%S"),
        "currency": "VND",
        "paymentLinkId": "124c33293c43417ab7879e14c8d9eb18",
        "code": "00",
        "desc": "Thành công",
        "counterAccountBankId": "",
        "counterAccountBankName": "",
        "counterAccountName": "",
        "counterAccountNumber": "",
        "virtualAccountName": "",
        "virtualAccountNumber": "",
    }
    status, problem = await sim.sender.post(url, envelope(data, merchant))
    if status is None or not 200 <= status < 300:
        return error(INVALID, f"Webhook URL không phản hồi 2xx ({problem or f'HTTP {status}'})", 400)
    merchant.webhook_url = url
    registered = {
        "webhookUrl": url,
        "accountName": merchant.account_name,
        "accountNumber": merchant.account_number,
        "name": merchant.name,
        "shortName": merchant.short_name,
    }
    return answer("00", "success", registered)


API_HANDLERS = [create_payment_request, get_payment_request, cancel_payment_request, confirm_webhook]
