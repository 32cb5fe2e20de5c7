"""ZaloPay's gateway page as a person uses it: the order, a QR, and buttons to pay or cancel. Paying sends
the callback in the background and the browser back to embed_data.redirecturl with ZaloPay's signed
redirect parameters."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from . import signing
from .simulator_state import simulator_of
from .store import CANCELLED, PAID, UNPAID, Order

PMC_ZALOPAY_APP = "38"


def _page(title: str, body: str, status: int = 200) -> Response[str]:
    html = (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
        f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return Response(html, status_code=status, media_type=MediaType.HTML)


def redirect_params(order: Order) -> dict[str, str]:
    """What ZaloPay appends to redirecturl, signed with key2."""
    params = {
        "appid": str(order.app.app_id),
        "apptransid": order.app_trans_id,
        "pmcid": PMC_ZALOPAY_APP,
        "bankcode": order.bank_code,
        "amount": str(order.amount),
        "discountamount": "0",
        "status": "1" if order.status == PAID else "-49",
    }
    params["checksum"] = signing.mac(order.app.key2, signing.joined(params, signing.REDIRECT))
    return params


@get("/pay", sync_to_thread=False)
def show(request: Request[Any, Any, Any], order: FromQuery[str]) -> Response[str]:
    found = simulator_of(request.app.state).store.by_token.get(order)
    if found is None:
        return _page("Không tìm thấy đơn hàng", "<p>Đơn hàng không tồn tại.</p>", 404)
    if found.status != UNPAID or found.expired():
        return _page("Đơn hàng đã kết thúc", f"<p>Trạng thái: {escape(found.status)}</p>", 410)
    token = escape(found.zp_trans_token)
    body = (
        f"<p>Mã giao dịch: <code>{escape(found.app_trans_id)}</code></p>"
        f"<p>{escape(found.description)}</p><p><strong>{found.amount:,} VND</strong></p>"
        f'<form method="post" action="/pay/{token}"><button name="action" value="pay">Thanh toán</button> '
        f'<button name="action" value="cancel">Hủy</button></form>'
    )
    return _page(f"ZaloPay – {found.app.name or found.app.app_id}", body)


@post("/pay/{token:str}", status_code=303)
async def act(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str] | Redirect:
    sim = simulator_of(request.app.state)
    order = sim.store.by_token.get(token)
    if order is None or order.status != UNPAID or order.expired():
        return _page("Đơn hàng đã kết thúc", "<p>Không thể thanh toán đơn hàng này.</p>", 410)
    form = await request.form()
    if form.get("action") == "pay":
        sim.store.pay(order)
        sim.callbacks.notify_in_background(order)
    else:
        order.status = CANCELLED
    if not order.redirect_url:
        return _page("Đã xong", f"<p>Trạng thái: {escape(order.status)}</p>")
    separator = "&" if "?" in order.redirect_url else "?"
    return Redirect(f"{order.redirect_url}{separator}{urlencode(redirect_params(order))}", status_code=303)


@get("/", sync_to_thread=False)
def index(request: Request[Any, Any, Any]) -> Response[str]:
    sim = simulator_of(request.app.state)
    # Never the keys beyond the published sandbox app's: the page is for people looking at a running simulator.
    apps = "".join(f"<li>app_id <code>{a.app_id}</code> {escape(a.name)}</li>" for a in sim.config.apps)
    paths = "".join(
        f"<li><code>POST {p}</code></li>" for p in ("/v2/create", "/v2/query", "/v2/refund", "/v2/query_refund")
    )
    control = (
        "<li><code>POST /_sim/zalopay/orders/{app_trans_id}/pay</code>"
        ' (body {"outcome": "success"|"cancel"|"fail"})</li>'
        "<li><code>GET|PUT|DELETE /_sim/zalopay/faults</code></li>"
    )
    return _page(
        "ZaloPay Open API v2 simulator",
        f"<h2>Apps</h2><ul>{apps}</ul><h2>API</h2><ul>{paths}</ul><h2>Test control</h2><ul>{control}</ul>",
    )


PAGE_HANDLERS = [index, show, act]
