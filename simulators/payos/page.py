"""The payment page payOS's checkoutUrl opens: the VietQR to scan, the account it pays, and, since no
bank app is at hand, buttons to pay or cancel as the citizen would."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from litestar import MediaType, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect

from . import vietqr
from .control import cancel, pay
from .state import SimulatorState, simulator_of
from .store import Link, now_vn


def _link(sim: SimulatorState, link_id: FromPath[str]) -> Link:
    link = sim.store.by_id.get(link_id)
    if link is None:
        raise NotFoundException(detail="no such payment link")
    link.refresh(now_vn())
    return link


def _back(url: str, link: Link, *, cancelled: bool) -> str:
    """payOS's redirect: the merchant's URL with code, id, cancel, status and orderCode (not signed)."""
    parts = urlsplit(url)
    extra = {"code": "00", "id": link.id, "cancel": str(cancelled).lower(), "status": link.status}
    query = "&".join(q for q in (parts.query, urlencode({**extra, "orderCode": link.order_code})) if q)
    return urlunsplit(parts._replace(query=query))


@get("/web/{link_id:str}", media_type=MediaType.HTML)
async def payment_page(request: Request[Any, Any, Any], link_id: FromPath[str]) -> str:
    link = _link(simulator_of(request.app.state), link_id)
    m = link.merchant
    actions = (
        f'<form method="post" action="/web/{escape(link.id)}/pay"><button>Tôi đã chuyển khoản (pay)</button></form>'
        f'<form method="post" action="/web/{escape(link.id)}/cancel"><button>Huỷ thanh toán (cancel)</button></form>'
        if link.status == "PENDING"
        else f"<p>Trạng thái: <strong>{escape(link.status)}</strong></p>"
    )
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>payOS (simulator)</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:2rem auto}}form{{display:inline}}</style>
</head><body><h1>Thanh toán qua VietQR</h1><p>payOS simulator: quét mã bằng ứng dụng ngân hàng.</p>
{vietqr.svg(link.qr_code)}
<dl><dt>Ngân hàng (BIN)</dt><dd>{escape(m.bin)}</dd><dt>Số tài khoản</dt><dd>{escape(m.account_number)}</dd>
<dt>Chủ tài khoản</dt><dd>{escape(m.account_name)}</dd><dt>Số tiền</dt><dd>{link.amount:,} VND</dd>
<dt>Nội dung</dt><dd>{escape(link.transfer_content)}</dd></dl>{actions}</body></html>"""


@post("/web/{link_id:str}/pay", status_code=303)
async def page_pay(request: Request[Any, Any, Any], link_id: FromPath[str]) -> Redirect:
    sim = simulator_of(request.app.state)
    link = _link(sim, link_id)
    await pay(sim, link)
    return Redirect(_back(link.return_url, link, cancelled=False), status_code=303)


@post("/web/{link_id:str}/cancel", status_code=303)
async def page_cancel(request: Request[Any, Any, Any], link_id: FromPath[str]) -> Redirect:
    link = _link(simulator_of(request.app.state), link_id)
    cancel(link, "Khách hàng huỷ thanh toán")
    return Redirect(_back(link.cancel_url, link, cancelled=True), status_code=303)


@get("/", media_type=MediaType.HTML)
async def index(request: Request[Any, Any, Any]) -> Response[str]:
    sim = simulator_of(request.app.state)
    rows = "".join(
        f"<li>{escape(m.name)}: client id <code>{escape(m.client_id)}</code>, webhook {escape(m.webhook_url)}</li>"
        for m in sim.config.merchants
    )
    return Response(
        f"<!doctype html><html><head><meta charset='utf-8'><title>payOS simulator</title></head><body>"
        f"<h1>payOS simulator</h1><p>API root: {escape(sim.config.public_url)}</p><ul>{rows}</ul></body></html>",
        media_type=MediaType.HTML,
    )


PAGE_HANDLERS = [payment_page, page_pay, page_cancel, index]
