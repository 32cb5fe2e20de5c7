"""CSRF: a synchronizer token bound to the session, and a double-submit cookie for the login form.

Not Litestar's CSRFConfig: its middleware covers the whole app (the portal API and the providers'
callbacks would need exclusions kept in step with every new route) and its token is a signed cookie
that needs a secret shared by every process. Here the token is a random value kept in the session's row
(gateway/staff/sessions.py), which every process reads already: a form carries it in `csrf_token`, an
API call with the session cookie in the `X-CSRF-Token` header, and it is compared in constant time.

Before login there is no session, so the login form pairs a random token in a cookie with the same value
in the form (double submit). The cookie is `__Host-` prefixed when Secure, so no sibling subdomain can
plant one; SameSite=Strict keeps it off every cross-site request.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from gateway.settings import Settings
from gateway.staff.sessions import StaffUser

FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
MAX_LENGTH = 100
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRefused(Exception):
    """A state-changing staff request without the right token: nothing is done."""


def tokens_match(expected: str, given: object) -> bool:
    if not isinstance(given, str) or not given or len(given) > MAX_LENGTH:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


async def check_request(request: Request[Any, Any, Any], user: StaffUser) -> None:
    """Raises CsrfRefused unless an unsafe request carries the session's token (header or form field)."""
    if request.method in SAFE_METHODS:
        return
    given: object = request.headers.get(HEADER)
    if given is None and request.content_type[0] in ("application/x-www-form-urlencoded", "multipart/form-data"):
        given = (await request.form()).get(FORM_FIELD)
    if not tokens_match(user.csrf_token, given):
        raise CsrfRefused


def login_cookie_name(settings: Settings) -> str:
    return "__Host-dvcgw_staff_login" if settings.staff_cookies_secure else "dvcgw_staff_login"


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def login_cookie(settings: Settings, token: str) -> Cookie:
    return Cookie(
        key=login_cookie_name(settings),
        value=token,
        path="/",
        max_age=3600,
        httponly=True,
        secure=settings.staff_cookies_secure,
        samesite="strict",
    )


def login_token_matches(cookie_value: str | None, form_value: object) -> bool:
    return cookie_value is not None and tokens_match(cookie_value, form_value)
