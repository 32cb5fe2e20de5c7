"""/callbacks/{provider}/...: what providers and the citizen's browser send back, for every provider.

Each answers in its provider's protocol (Acknowledgement), never as a problem document: a provider
understands only its own acknowledgement.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from litestar import Controller, MediaType, Request, Response, get, route
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect

from contracts.providers import Inbound, PaymentProvider
from gateway.errors import NotFound, ProviderDisabled, UnknownProvider
from gateway.request_text import PROVIDER_PROTOCOL

# An unsigned, forged or unknown return says nothing about any payment, and shows nothing of one.
NEUTRAL_RETURN_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kết quả thanh toán</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem">
<h1>Chưa xác nhận được kết quả thanh toán</h1>
<p>Đường dẫn này không mang kết quả thanh toán hợp lệ. Vui lòng xem trạng thái hồ sơ trên cổng dịch vụ công.</p>
<p lang="en">This link does not carry a valid payment result. Please check your dossier on the public-service
portal.</p>
</body></html>
"""


async def inbound_of(request: Request[Any, Any, Any]) -> Inbound:
    return Inbound(
        method=request.method,
        query=bytes(request.scope.get("query_string", b"")).decode("utf-8", "replace"),
        headers={name.decode("latin-1"): value.decode("latin-1") for name, value in request.scope["headers"]},
        body=await request.body() if request.method != "GET" else b"",
    )


def _provider(state: State, name: str) -> PaymentProvider:
    try:
        return state.providers.get(name)
    except (ProviderDisabled, UnknownProvider):
        raise NotFound(f"No provider '{name[:20]}' on this gateway.") from None


class NotificationController(Controller):
    path = "/callbacks/{provider:str}"
    tags = ["provider callbacks"]
    include_in_schema = False

    @route("/ipn", http_method=["GET", "POST"], operation_id="providerNotification", opt={PROVIDER_PROTOCOL: True})
    async def notification(
        self, request: Request[Any, Any, Any], state: State, provider: FromPath[str]
    ) -> Response[bytes]:
        adapter = _provider(state, provider)
        ack = await state.notifications.receive(adapter, await inbound_of(request))
        return Response(ack.body, status_code=ack.status_code, media_type=ack.media_type)

    @get("/return", operation_id="providerReturn", media_type=MediaType.HTML)
    async def browser_return(
        self, request: Request[Any, Any, Any], state: State, provider: FromPath[str]
    ) -> Redirect | Response[str]:
        """Informational only: the notification or a query decides. A signed return triggers an early query."""
        payment = await state.notifications.browser_return(_provider(state, provider), await inbound_of(request))
        if payment is None:
            return Response(NEUTRAL_RETURN_PAGE, status_code=400, media_type=MediaType.HTML)
        return Redirect(_with_query(payment.return_url, payment_id=payment.id, status=payment.status))


def _with_query(url: str, **extra: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *extra.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))
