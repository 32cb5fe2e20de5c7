"""Paths and query strings with a NUL character (%00) are refused before any handler runs.

PostgreSQL's text cannot hold U+0000 and SQLite's can, so an id or a filter holding one would be a 500
on PostgreSQL (the database refuses the statement) and a plain miss on SQLite. No id, code or filter of the
gateway holds one, so it is bad input, answered alike on both as a 400 problem. Bodies are checked by
their models (contracts/payments.py). Handlers that answer in a provider's protocol (opt
PROVIDER_PROTOCOL) are left to answer in it, and record what they were sent through `storable`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from gateway.errors import DomainError

PROVIDER_PROTOCOL = "provider_protocol"


def storable(params: dict[str, str]) -> dict[str, str]:
    """params with every NUL replaced by U+FFFD, as bytes that are not UTF-8 are: a provider's notification
    is recorded whatever it holds."""
    return {k.replace("\x00", "\ufffd"): v.replace("\x00", "\ufffd") for k, v in params.items()}


async def refuse_nul(request: Request[Any, Any, Any]) -> None:
    scope = request.scope
    if "\x00" not in scope["path"] and b"%00" not in scope["query_string"]:
        return
    if not request.route_handler.opt.get(PROVIDER_PROTOCOL):
        raise DomainError("The path or the query string holds a NUL character (%00), which nothing here accepts.")
