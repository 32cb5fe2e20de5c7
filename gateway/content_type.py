"""A JSON body must say it is JSON: anything else is a 415 problem before the body is read.

Litestar parses a handler's `data` as JSON whatever the request's Content-Type says, so a body sent as
text/plain, as a form or with no type at all would be accepted: what the client declared and what the
gateway read could differ (and a proxy or firewall inspecting bodies by their type would see something else).
`application/json` is taken with any parameters (a charset among them), and so is any
`application/*+json` type (RFC 6839). Handlers without a JSON body (forms, the providers' callbacks,
POSTs with no body) are left alone.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler

from gateway.errors import UnsupportedMediaType


def takes_json(handler: HTTPRouteHandler) -> bool:
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return False
    media_type = getattr(data.kwarg_definition, "media_type", RequestEncodingType.JSON)
    return bool(media_type == RequestEncodingType.JSON)


def is_json(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


async def require_json(request: Request[Any, Any, Any]) -> None:
    """before_request: refuses a body of a handler that takes JSON unless it is declared as JSON."""
    if not takes_json(request.route_handler):
        return
    # From the raw header list, as gateway/auth.py reads the key: no Headers object for one lookup.
    content_type = next((v for k, v in request.scope["headers"] if k == b"content-type"), b"")
    if not is_json(content_type.decode("latin-1")):
        raise UnsupportedMediaType("Send the body as JSON, with the header 'Content-Type: application/json'.")
