"""ZaloPay's Open API v2 as a merchant's server calls it: /v2/create, /v2/query, /v2/refund, /v2/query_refund.

Each takes its fields as a form body, a JSON body or query-string parameters (ZaloPay's quickstart sends
the last), and answers HTTP 200 JSON with integer codes: return_code 1 success, 2 failure, 3 processing,
and a sub_return_code saying why.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request, Response, post

from . import signing
from .config import App
from .qr import emvco_payload
from .simulator_state import SimulatorState, simulator_of
from .store import CANCELLED, FAILED, PAID, Order, Refund, now_ms, today_vn

MAX_BODY = 16_384
TRANS_ID = re.compile(r"(\d{6})_[A-Za-z0-9_-]{1,33}")
REFUND_ID = re.compile(r"(\d{6})_(\d+)_[A-Za-z0-9_-]+")
DIGITS = re.compile(r"[0-9]{1,15}")
MIN_EXPIRY, MAX_EXPIRY, DEFAULT_EXPIRY = 300, 2_592_000, 900

SUB_MESSAGES = {
    1: "Giao dịch thành công",
    -54: "Giao dịch hết hạn",
    -68: "Mã giao dịch app_trans_id bị trùng",
    -92: "Giao dịch không tồn tại",
    -329: "Người dùng hủy giao dịch",
    -401: "Dữ liệu yêu cầu không hợp lệ",
    -402: "app_id hoặc mac không hợp lệ",
    -13: "Số tiền hoàn vượt quá số tiền có thể hoàn",
    -500: "Lỗi hệ thống",
}


def _answer(return_code: int, sub_return_code: int, **extra: Any) -> Response[dict[str, Any]]:
    messages = {1: "Giao dịch thành công", 2: "Giao dịch thất bại", 3: "Giao dịch đang xử lý"}
    body = {
        "return_code": return_code,
        "return_message": messages[return_code],
        "sub_return_code": sub_return_code,
        "sub_return_message": SUB_MESSAGES.get(sub_return_code, messages[return_code]),
        **extra,
    }
    return Response(body, status_code=200)


def _refused(sub_return_code: int) -> Response[dict[str, Any]]:
    return _answer(2, sub_return_code)


async def _params(request: Request[Any, Any, Any]) -> dict[str, str] | None:
    """The call's fields from the query string, then the body (form or JSON); None when unreadable."""
    params = {k: v for k, v in request.query_params.items()}
    body = await request.body()
    if len(body) > MAX_BODY:
        return None
    if body.strip():
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                document = json.loads(body)
            except ValueError:
                return None
            if not isinstance(document, dict):
                return None
            for name, value in document.items():
                if isinstance(value, bool | dict | list):
                    return None
                params[name] = "" if value is None else str(value)
        else:
            try:
                params |= dict(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True))
            except (ValueError, UnicodeDecodeError):
                return None
    return params


async def _call(request: Request[Any, Any, Any]) -> tuple[SimulatorState, App, dict[str, str]] | Response[Any]:
    sim = simulator_of(request.app.state)
    faults = sim.faults
    if faults.api_delay_ms:
        await asyncio.sleep(faults.api_delay_ms / 1000)
    if faults.take_http_5xx():
        return Response({"message": "Service Unavailable"}, status_code=503)
    params = await _params(request)
    if params is None:
        return _refused(-401)
    app_id = params.get("app_id", "")
    app = sim.config.app(int(app_id)) if DIGITS.fullmatch(app_id) else None
    if app is None:
        return _refused(-402)
    return sim, app, params


def _json_text(text: str, kind: type) -> bool:
    try:
        return isinstance(json.loads(text), kind)
    except ValueError:
        return False


@post("/v2/create", status_code=200)
async def create(request: Request[Any, Any, Any]) -> Response[Any]:
    called = await _call(request)
    if isinstance(called, Response):
        return called
    sim, app, p = called
    if not signing.matches(p.get("mac", ""), app.key1, signing.joined(p, signing.CREATE)):
        return _refused(-402)
    required = ("app_user", "app_trans_id", "app_time", "amount", "item", "embed_data", "description")
    if any(not p.get(name) for name in required):
        return _refused(-401)
    if not DIGITS.fullmatch(p["amount"]) or int(p["amount"]) < 1 or not DIGITS.fullmatch(p["app_time"]):
        return _refused(-401)
    trans = TRANS_ID.fullmatch(p["app_trans_id"])
    # app_trans_id must begin with today's date in GMT+7.
    if trans is None or len(p["app_trans_id"]) > 40 or trans.group(1) != today_vn():
        return _refused(-401)
    if len(p["app_user"]) > 50 or len(p["description"]) > 256:
        return _refused(-401)
    if not _json_text(p["embed_data"], dict) or not _json_text(p["item"], list):
        return _refused(-401)
    if (app.app_id, p["app_trans_id"]) in sim.store.orders:
        return _refused(-68)
    expiry = p.get("expire_duration_seconds") or str(DEFAULT_EXPIRY)
    if not DIGITS.fullmatch(expiry) or not MIN_EXPIRY <= int(expiry) <= MAX_EXPIRY:
        return _refused(-401)
    embed = json.loads(p["embed_data"])
    callback_url = p.get("callback_url") or str(embed.get("callback_url") or "") or app.callback_url
    order = Order(
        app=app,
        app_trans_id=p["app_trans_id"],
        app_user=p["app_user"],
        app_time=int(p["app_time"]),
        amount=int(p["amount"]),
        item=p["item"],
        embed_data=p["embed_data"],
        description=p["description"],
        callback_url=callback_url,
        redirect_url=str(embed.get("redirecturl") or ""),
        expires_at_ms=now_ms() + int(expiry) * 1000,
        bank_code=p.get("bank_code", ""),
    )
    sim.store.add(order)
    base = sim.config.public_url.rstrip("/")
    return _answer(
        1,
        1,
        zp_trans_token=order.zp_trans_token,
        order_url=f"{base}/pay?order={order.zp_trans_token}",
        order_token=order.zp_trans_token,
        qr_code=emvco_payload(order.zp_trans_token, order.amount, order.app_trans_id, app.name),
    )


def _order_state(order: Order) -> Response[Any]:
    if order.status == PAID:
        return _answer(
            1,
            1,
            is_processing=False,
            amount=order.amount,
            discount_amount=0,
            zp_trans_id=order.zp_trans_id,
            server_time=order.server_time,
        )
    if order.status == CANCELLED:
        return _answer(2, -329, is_processing=False, amount=order.amount, zp_trans_id=0)
    if order.status == FAILED or order.expired():
        return _answer(2, -54, is_processing=False, amount=order.amount, zp_trans_id=0)
    return _answer(3, 3, is_processing=False, amount=order.amount, zp_trans_id=0)


@post("/v2/query", status_code=200)
async def query(request: Request[Any, Any, Any]) -> Response[Any]:
    called = await _call(request)
    if isinstance(called, Response):
        return called
    sim, app, p = called
    reference = p.get("app_trans_id", "")
    if not signing.matches(p.get("mac", ""), app.key1, f"{p['app_id']}|{reference}|{app.key1}"):
        return _refused(-402)
    order = sim.store.orders.get((app.app_id, reference))
    if order is None:
        return _refused(-92)
    return _order_state(order)


@post("/v2/refund", status_code=200)
async def refund(request: Request[Any, Any, Any]) -> Response[Any]:
    called = await _call(request)
    if isinstance(called, Response):
        return called
    sim, app, p = called
    if not signing.matches(p.get("mac", ""), app.key1, signing.joined(p, signing.REFUND)):
        return _refused(-402)
    m_refund_id = p.get("m_refund_id", "")
    shape = REFUND_ID.fullmatch(m_refund_id)
    if shape is None or shape.group(2) != str(app.app_id) or len(m_refund_id) > 45:
        return _refused(-401)
    if not all(DIGITS.fullmatch(p.get(name, "")) for name in ("amount", "timestamp", "zp_trans_id")):
        return _refused(-401)
    known = sim.store.refunds.get((app.app_id, m_refund_id))
    if known is not None:  # the same refund asked again: its state, never a second refund
        return _answer(known.return_code, 1, refund_id=known.refund_id)
    # A new m_refund_id begins with the day it is sent in GMT+7 (ZaloPay's refund spec), as app_trans_id does.
    if shape.group(1) != today_vn():
        return _refused(-401)
    order = sim.store.by_zp_trans_id.get((app.app_id, int(p["zp_trans_id"])))
    if order is None:
        return _refused(-92)
    amount = int(p["amount"])
    if amount < 1 or order.refunded + amount > order.amount:
        return _refused(-13)
    order.refunded += amount
    entry = Refund(
        m_refund_id=m_refund_id,
        order=order,
        amount=amount,
        description=p.get("description", ""),
        refund_id=sim.store.next_number(),
        return_code=3 if sim.faults.refund_pending else 1,
    )
    sim.store.refunds[(app.app_id, m_refund_id)] = entry
    answer = _answer(entry.return_code, 1 if entry.return_code == 1 else 2, refund_id=entry.refund_id)
    entry.return_code = 1  # a refund in progress is done by the time anyone asks
    return answer


@post("/v2/query_refund", status_code=200)
async def query_refund(request: Request[Any, Any, Any]) -> Response[Any]:
    called = await _call(request)
    if isinstance(called, Response):
        return called
    sim, app, p = called
    if not signing.matches(p.get("mac", ""), app.key1, signing.joined(p, signing.QUERY_REFUND)):
        return _refused(-402)
    entry = sim.store.refunds.get((app.app_id, p.get("m_refund_id", "")))
    if entry is None:
        return _refused(-92)
    return _answer(entry.return_code, 1, refund_id=entry.refund_id)


API_HANDLERS = [create, query, refund, query_refund]
