"""The Litestar application of the MoMo sandbox simulator: MoMo's paths at the root, a payment page, and
the test-control API under /_sim/momo/."""

from __future__ import annotations

import asyncio
import html
import json
import re
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx
from litestar import Litestar, Request, Response, delete, get, post, put
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from pydantic import ValidationError

from . import signing
from .codes import PENDING, SETTLEMENTS, message
from .config import DEV_MERCHANT, Merchant, SimulatorConfig
from .notifier import Faults, Notifier, notification
from .settlement_file import SETTLEMENT_HANDLERS
from .store import Order, Refund, Store, now_ms

ORDER_ID = re.compile(r"[0-9a-zA-Z_.:-]{1,50}")
REQUEST_TYPES = frozenset({"captureWallet", "payWithATM"})
MAX_EXPIRE_MINUTES = 43_200  # a bound of the simulator's: MoMo publishes none that was found
MAX_BODY = 16 * 1024


class Simulator:
    def __init__(self, config: SimulatorConfig, transport: httpx.AsyncBaseTransport | None) -> None:
        self.config = config
        self.store = Store()
        self.faults = Faults()
        self.notifier = Notifier(config, lambda: self.faults, transport)


def _sim(request: Request[Any, Any, Any]) -> Simulator:
    sim: Simulator = request.app.state["momo"]
    return sim


def _answer(body: dict[str, Any], code: int, status: int = 200) -> Response[bytes]:
    body = {**body, "resultCode": code, "message": message(code), "responseTime": now_ms()}
    return Response(json.dumps(body, ensure_ascii=False).encode(), status_code=status, media_type="application/json")


async def _read(request: Request[Any, Any, Any]) -> tuple[Simulator, dict[str, Any] | None]:
    """The JSON object of an API call, after the faults in force; None when it is not one."""
    sim = _sim(request)
    if sim.faults.api_delay_ms:
        await asyncio.sleep(sim.faults.api_delay_ms / 1000)
    if sim.faults.take_http_5xx():
        raise HTTPException(status_code=503, detail="Service Unavailable (fault)")
    raw = await request.body()
    try:
        body = json.loads(raw) if len(raw) <= MAX_BODY else None
    except ValueError:
        body = None
    return sim, body if isinstance(body, dict) else None


def _merchant(sim: Simulator, body: dict[str, Any], names: list[str]) -> Merchant | None:
    """The partner of a request whose signature is good; None answers 13."""
    merchant = sim.config.merchant(body.get("partnerCode"))
    if merchant is None or not signing.verify(body, names, merchant.access_key, merchant.secret_key):
        return None
    return merchant


def _is_amount(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: object, limit: int) -> bool:
    return isinstance(value, str) and len(value) <= limit


def _expire_minutes(body: dict[str, Any], default: int) -> int | None:
    """orderExpireTime in minutes (optional, not signed); None when it is there but not a sane count."""
    if "orderExpireTime" not in body:
        return default
    value = body["orderExpireTime"]
    return value if _is_amount(value) and 1 <= value <= MAX_EXPIRE_MINUTES else None


def _current(order: Order) -> Order:
    """The order as it stands now: a link whose orderExpireTime has passed unpaid is expired (1005)."""
    order.lapse(now_ms())
    return order


@post("/v2/gateway/api/create", status_code=200)
async def create(request: Request[Any, Any, Any]) -> Response[bytes]:
    sim, body = await _read(request)
    if body is None:
        return _answer({}, 20, 400)
    echo = {k: body.get(k) for k in ("partnerCode", "orderId", "requestId", "amount")}
    merchant = _merchant(sim, body, signing.CREATE)
    if merchant is None:
        return _answer(echo, 13)
    order_id, request_id = body.get("orderId"), body.get("requestId")
    well_formed = (
        isinstance(order_id, str)
        and ORDER_ID.fullmatch(order_id)
        and _text(request_id, 50)
        and request_id
        and _text(body.get("orderInfo"), 255)
        and _text(body.get("extraData"), 1_000)
        and isinstance(body.get("ipnUrl"), str)
        and str(body["ipnUrl"]).startswith(("http://", "https://"))
        and isinstance(body.get("redirectUrl"), str)
        and str(body["redirectUrl"]).startswith(("http://", "https://"))
        and body.get("requestType") in REQUEST_TYPES
        and _is_amount(body.get("amount"))
    )
    minutes = _expire_minutes(body, sim.config.default_expire_minutes)
    if not well_formed or minutes is None:
        return _answer(echo, 20)
    assert isinstance(order_id, str) and isinstance(request_id, str)
    least = sim.config.min_amount_atm if body["requestType"] == "payWithATM" else sim.config.min_amount
    if not least <= body["amount"] <= sim.config.max_amount:
        return _answer(echo, 22)
    seen = sim.store.request_ids.get((merchant.partner_code, request_id))
    if seen is not None:
        # A settled requestId is answered as it was the first time; one for another order is a duplicate.
        earlier = sim.store.find(merchant.partner_code, seen)
        if seen == order_id and earlier is not None:
            return Response(json.dumps(earlier.created, ensure_ascii=False).encode(), media_type="application/json")
        return _answer(echo, 40)
    if sim.store.order_id_taken(merchant.partner_code, order_id):
        return _answer(echo, 41)
    token = secrets.token_urlsafe(18)
    base = sim.config.public_url.rstrip("/")
    link = f"momo://app?action=payWithApp&serviceType=qr&sid={token}&v=3.0"
    created = {
        **echo,
        "responseTime": now_ms(),
        "message": message(0),
        "resultCode": 0,
        "payUrl": f"{base}/v2/gateway/pay?t={token}",
        "deeplink": link.replace("serviceType=qr", "serviceType=app"),
        "qrCodeUrl": link,
        "deeplinkMiniApp": link.replace("serviceType=qr", "serviceType=miniapp"),
    }
    sim.store.add(
        Order(
            merchant=merchant,
            order_id=order_id,
            request_id=request_id,
            amount=body["amount"],
            order_info=body["orderInfo"],
            redirect_url=body["redirectUrl"],
            ipn_url=body["ipnUrl"],
            request_type=body["requestType"],
            extra_data=body["extraData"],
            token=token,
            created=created,
            expires_ms=now_ms() + minutes * 60_000,
        )
    )
    return Response(json.dumps(created, ensure_ascii=False).encode(), media_type="application/json")


def _order_answer(order: Order, request_id: object) -> dict[str, Any]:
    return {
        "partnerCode": order.merchant.partner_code,
        "orderId": order.order_id,
        "requestId": request_id,
        "extraData": order.extra_data,
        "amount": order.amount,
        "transId": order.trans_id,
        "payType": order.pay_type,
        "refundTrans": [
            {
                "orderId": r.order_id,
                "amount": r.amount,
                "resultCode": r.result_code,
                "transId": r.trans_id,
                "createdTime": r.created_time,
            }
            for r in order.refunds
        ],
    }


@post("/v2/gateway/api/query", status_code=200)
async def query(request: Request[Any, Any, Any]) -> Response[bytes]:
    sim, body = await _read(request)
    if body is None:
        return _answer({}, 20, 400)
    echo = {k: body.get(k) for k in ("partnerCode", "orderId", "requestId")}
    merchant = _merchant(sim, body, signing.QUERY)
    if merchant is None:
        return _answer(echo, 13)
    order = sim.store.find(merchant.partner_code, str(body.get("orderId")))
    if order is None:
        return _answer(echo, 42)
    order = _current(order)
    return _answer(_order_answer(order, body.get("requestId")), order.result_code)


@post("/v2/gateway/api/refund", status_code=200)
async def refund(request: Request[Any, Any, Any]) -> Response[bytes]:
    sim, body = await _read(request)
    if body is None:
        return _answer({}, 20, 400)
    echo = {k: body.get(k) for k in ("partnerCode", "orderId", "requestId", "amount", "transId")}
    merchant = _merchant(sim, body, signing.REFUND)
    if merchant is None:
        return _answer(echo, 13)
    order_id, request_id, amount, trans_id = (body.get(k) for k in ("orderId", "requestId", "amount", "transId"))
    if not (
        isinstance(order_id, str)
        and ORDER_ID.fullmatch(order_id)
        and _text(request_id, 50)
        and _is_amount(amount)
        and _is_amount(trans_id)
    ):
        return _answer(echo, 20)
    assert isinstance(order_id, str) and isinstance(request_id, str)
    earlier = sim.store.refunds.get((merchant.partner_code, order_id))
    if earlier is not None:
        if earlier.request_id == request_id:
            return Response(json.dumps(earlier.answer, ensure_ascii=False).encode(), media_type="application/json")
        return _answer(echo, 41)
    original = sim.store.by_trans_id(merchant.partner_code, trans_id)  # type: ignore[arg-type]
    if sim.store.order_id_taken(merchant.partner_code, order_id):
        return _answer(echo, 41)
    if original is None or original.result_code != 0:
        return _answer(echo, 42 if original is None else 1088)
    assert isinstance(amount, int)
    if not 1_000 <= amount <= original.amount - original.refunded():
        return _answer(echo, 22)
    done = Refund(order_id, request_id, amount, sim.store.new_trans_id(), 0, now_ms())
    done.answer = {**echo, "transId": done.trans_id, "resultCode": 0, "message": message(0), "responseTime": now_ms()}
    original.refunds.append(done)
    sim.store.refunds[(merchant.partner_code, order_id)] = done
    return Response(json.dumps(done.answer, ensure_ascii=False).encode(), media_type="application/json")


def _settle(sim: Simulator, order: Order, code: int) -> None:
    order.result_code = code
    order.trans_id = order.trans_id or sim.store.new_trans_id()
    order.pay_type = "qr" if order.request_type == "captureWallet" else "napas"
    order.response_time = now_ms()


PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>MoMo (simulator)</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:2rem auto;color:#222}}h1{{color:#a50064}}
.qr{{border:2px solid #a50064;padding:1rem;word-break:break-all;font-family:monospace}}
button,a.app{{display:inline-block;margin:.5rem .5rem 0 0;padding:.6rem 1.2rem;border-radius:.4rem;border:0;
font-size:1rem;text-decoration:none}}.pay{{background:#a50064;color:#fff}}.cancel{{background:#ddd}}
a.app{{background:#fff;border:1px solid #a50064;color:#a50064}}</style></head><body>
<h1>MoMo</h1><p>Simulator — no real money moves.</p>
<p><strong>{partner}</strong><br>Đơn hàng {order_id}<br>{info}</p><p style="font-size:1.6rem">{amount} đ</p>
{body}</body></html>"""


@get("/v2/gateway/pay", sync_to_thread=False)
def page(request: Request[Any, Any, Any]) -> Response[str]:
    t = str(request.query_params.get("t", ""))
    order = _sim(request).store.by_token.get(t)
    if order is None:
        raise NotFoundException("no such payment")
    if _current(order).result_code != PENDING:
        body = f"<p>Giao dịch đã kết thúc: {html.escape(message(order.result_code))}</p>"
    else:
        body = (
            '<p>Quét mã QR bằng ứng dụng MoMo (nội dung mã):</p><div class="qr">'
            f"{html.escape(order.created['qrCodeUrl'])}</div>"
            f'<a class="app" href="{html.escape(order.created["deeplink"])}">Mở ứng dụng MoMo</a>'
            f'<form method="post" action="/v2/gateway/pay"><input type="hidden" name="t" value="{html.escape(t)}">'
            '<button class="pay" name="action" value="pay">Xác nhận thanh toán</button>'
            '<button class="cancel" name="action" value="cancel">Hủy</button></form>'
        )
    text = PAGE.format(
        partner=html.escape(order.merchant.name or order.merchant.partner_code),
        order_id=html.escape(order.order_id),
        info=html.escape(order.order_info),
        amount=f"{order.amount:,}".replace(",", "."),
        body=body,
    )
    return Response(text, media_type="text/html")


@post("/v2/gateway/pay", status_code=303)
async def page_choice(request: Request[Any, Any, Any]) -> Response[str]:
    sim = _sim(request)
    form = await request.form()
    order = sim.store.by_token.get(str(form.get("t", "")))
    if order is None:
        raise NotFoundException("no such payment")
    if _current(order).result_code == PENDING:
        _settle(sim, order, 0 if form.get("action") == "pay" else 1006)
        sim.notifier.notify_in_background(order)
    # The browser goes back to redirectUrl with the same signed fields as the IPN.
    fields = {k: str(v) for k, v in notification(order).items()}
    separator = "&" if "?" in order.redirect_url else "?"
    return Response("", status_code=303, headers={"Location": f"{order.redirect_url}{separator}{urlencode(fields)}"})


def _find(sim: Simulator, order_id: FromPath[str]) -> Order:
    order = next((o for (_, oid), o in sim.store.orders.items() if oid == order_id), None)
    if order is None:
        raise NotFoundException(f"no order {order_id}")
    return _current(order)


def _deliveries(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "number": d.number,
            "kind": d.kind,
            "resultCode": d.result_code,
            "http_status": d.http_status,
            "error": d.error,
        }
        for d in order.deliveries
    ]


@post("/_sim/momo/orders/{order_id:str}/pay", status_code=200)
async def control_pay(request: Request[Any, Any, Any], order_id: FromPath[str]) -> dict[str, Any]:
    """Settle an order as if the citizen acted in the app (resultCode 0 unless the body says otherwise),
    send its IPN, and answer the notification sent."""
    sim = _sim(request)
    order = _find(sim, order_id)
    raw = await request.body()
    try:
        options = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise HTTPException(status_code=400, detail="body is not JSON") from None
    code = options.get("resultCode", 0) if isinstance(options, dict) else None
    if not _is_amount(code) or code not in SETTLEMENTS:
        raise HTTPException(status_code=400, detail=f"resultCode must be one of {sorted(SETTLEMENTS)}")
    if order.final:
        raise HTTPException(status_code=409, detail=f"order already settled with {order.result_code}")
    _settle(sim, order, code)
    delivery = await sim.notifier.notify(order)
    return {
        "notification": notification(order),
        "delivered": delivery is not None,
        "acknowledged": order.acknowledged,
        "deliveries": _deliveries(order),
    }


@post("/_sim/momo/orders/{order_id:str}/notify", status_code=200)
async def control_resend(request: Request[Any, Any, Any], order_id: FromPath[str]) -> dict[str, Any]:
    """One more IPN of the order's current state, faults aside."""
    sim = _sim(request)
    order = _find(sim, order_id)
    await sim.notifier.resend(order)
    return {"notification": notification(order), "deliveries": _deliveries(order)}


@get("/_sim/momo/orders/{order_id:str}", sync_to_thread=False)
def control_order(request: Request[Any, Any, Any], order_id: FromPath[str]) -> dict[str, Any]:
    order = _find(_sim(request), order_id)
    return {
        **_order_answer(order, None),
        "resultCode": order.result_code,
        "acknowledged": order.acknowledged,
        "deliveries": _deliveries(order),
    }


@get("/_sim/momo/faults", sync_to_thread=False)
def get_faults(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return _sim(request).faults.model_dump()


@put("/_sim/momo/faults")
async def put_faults(request: Request[Any, Any, Any]) -> dict[str, Any]:
    sim = _sim(request)
    try:
        sim.faults = Faults.model_validate_json(await request.body())
    except ValidationError as exc:
        raise HTTPException(status_code=422, detail=str(exc.errors(include_url=False))) from None
    return sim.faults.model_dump()


@delete("/_sim/momo/faults", status_code=200)
async def reset_faults(request: Request[Any, Any, Any]) -> dict[str, Any]:
    sim = _sim(request)
    sim.faults = Faults()
    return sim.faults.model_dump()


@get("/", sync_to_thread=False)
def index(request: Request[Any, Any, Any]) -> Response[str]:
    sim = _sim(request)
    partners = "".join(
        f"<li>{html.escape(m.partner_code)} (accessKey {html.escape(m.access_key)})</li>" for m in sim.config.merchants
    )
    text = (
        "<!doctype html><html><head><meta charset='utf-8'><title>MoMo simulator</title></head><body>"
        "<h1>MoMo payment gateway v2 — simulator</h1><p>POST /v2/gateway/api/create, /query, /refund; "
        f"control API under /_sim/momo/.</p><ul>{partners}</ul></body></html>"
    )
    return Response(text, media_type="text/html")


def create_app(
    config: SimulatorConfig | None = None, *, ipn_transport: httpx.AsyncBaseTransport | None = None
) -> Litestar:
    """Build a simulator. `ipn_transport` lets tests route IPNs into an in-process ASGI app."""
    sim = Simulator(config or SimulatorConfig(merchants=[DEV_MERCHANT]), ipn_transport)

    async def stop() -> None:
        await sim.notifier.aclose()

    return Litestar(
        route_handlers=[
            index,
            create,
            query,
            refund,
            page,
            page_choice,
            control_pay,
            control_resend,
            control_order,
            get_faults,
            put_faults,
            reset_faults,
            *SETTLEMENT_HANDLERS,
        ],
        state=State({"momo": sim}),
        on_shutdown=[stop],
        openapi_config=None,
    )
