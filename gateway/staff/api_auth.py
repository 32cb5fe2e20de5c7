"""Staff sessions on the API: `POST /v1/shipments/{id}/events` from a postal staff member's browser.

The portal and the carrier's own systems send an API key; a page script of /staff sends the session cookie
instead, and with it the session's CSRF token in `X-CSRF-Token` (a cookie alone would let any site that
gets a staff member's browser to post make it report). A staff member may report only shipments of their
own office (ShipmentService.get_for_office: another office's is a 404).
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from gateway.auth import presented_key
from gateway.errors import DomainError, Unauthorized
from gateway.staff.csrf import HEADER, tokens_match
from gateway.staff.guards import session_user
from gateway.staff.sessions import StaffUser, cookie_name


class StaffForbidden(DomainError):
    status = 403
    type_slug = "staff-forbidden"
    title = "This staff session may not do this"


async def staff_reporter(request: Request[Any, Any, Any]) -> StaffUser | None:
    """The postal staff member a request without an API key comes from, by their session cookie; None when
    the request sends an API key or no staff cookie (the caller then authenticates it as a portal's)."""
    if presented_key(request) or cookie_name(request.app.state.settings) not in request.cookies:
        return None
    user = await session_user(request)
    if user is None:
        raise Unauthorized("The staff session has ended; log in again.")
    if user.role != "postal" or user.office_code is None:
        raise StaffForbidden("Only postal staff report what happened to a shipment.")
    if not tokens_match(user.csrf_token, request.headers.get(HEADER)):
        raise StaffForbidden(f"Send the session's CSRF token in the {HEADER} header.")
    return user
