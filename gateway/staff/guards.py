"""Who a /staff request is from, and what they may do: the session's user, their role, the CSRF token.

A request without a live session is sent to the login page (LoginRequired); a user of another role gets
a 403 page; a state-changing request without the session's token is refused (CsrfRefused) before the
handler runs. The user is kept on the request's state for the handler (the `staff` dependency).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from gateway.db.request_session import request_session
from gateway.staff.csrf import check_request
from gateway.staff.sessions import StaffUser, cookie_name, resolve_session

_USER_KEY = "dvcgw.staff_user"


class LoginRequired(Exception):
    """No live staff session: the browser goes to /staff/login."""


async def session_user(request: Request[Any, Any, Any]) -> StaffUser | None:
    """The user of the request's session cookie (resolved once per request), or None."""
    store = request.scope["state"]
    if _USER_KEY in store:
        user: StaffUser | None = store[_USER_KEY]
        return user
    state: State = request.app.state
    db = request_session(state, request.scope)
    user = await resolve_session(
        db, request.cookies.get(cookie_name(state.settings)), state.clock.now(), state.settings
    )
    await db.commit()  # the last-seen time, or the removal of an expired session
    store[_USER_KEY] = user
    return user


def requires_staff(*roles: str) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A guard: a live session, one of `roles` (any role if none is named), and the CSRF token when unsafe."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        assert isinstance(connection, Request)
        user = await session_user(connection)
        if user is None:
            raise LoginRequired
        if roles and user.role not in roles:
            raise PermissionDeniedException("Tài khoản này không có quyền vào trang này.")
        await check_request(connection, user)

    return guard


async def provide_staff(request: Request[Any, Any, Any]) -> StaffUser:
    user: StaffUser | None = request.scope["state"].get(_USER_KEY)
    if user is None:  # a handler without the guard asked for the user: a programming error, not a 401
        raise RuntimeError("the staff dependency needs the requires_staff guard")
    return user
