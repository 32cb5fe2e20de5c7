"""/staff: logging in and out, and the home page each role lands on (server-rendered, phone-first)."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import PermissionDeniedException
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from gateway.db.request_session import request_session
from gateway.limits import source_address
from gateway.settings import Settings
from gateway.staff.accounts import LoginOutcome, check_login
from gateway.staff.csrf import (
    FORM_FIELD,
    CsrfRefused,
    login_cookie,
    login_cookie_name,
    login_token_matches,
    new_login_token,
)
from gateway.staff.guards import LoginRequired, provide_staff, requires_staff, session_user
from gateway.staff.pages import STATIC, page, vn_time
from gateway.staff.sessions import StaffUser, close_session, cookie_name, expired_cookie, open_session, session_cookie

log = structlog.get_logger()

LOGIN_PATH = "/staff/login"
LOGIN_MAX_BODY = 4096  # a username, a password and a token
MAX_USERNAME_INPUT = 100

BAD_LOGIN = "Tên đăng nhập hoặc mật khẩu không đúng."
STALE_FORM = "Trang đăng nhập đã hết hạn. Vui lòng nhập lại."
TOO_MANY = "Có quá nhiều lần đăng nhập sai từ máy này. Vui lòng thử lại sau ít phút."


# Where each role lands after login.
HOME = {"postal": "/staff/postal", "finance": "/staff/finance"}


def home_path(role: str) -> str:
    return HOME.get(role, "/staff")


def _login_page(
    settings: Settings, status_code: int = 200, error: str | None = None, username: str = "", token: str | None = None
) -> Response[str]:
    cookies = []
    if token is None:
        token = new_login_token()
        cookies.append(login_cookie(settings, token))
    return page(
        "login.html", status_code, cookies=cookies, error=error, username=username, csrf_field=FORM_FIELD, csrf=token
    )


def _to_login(_: Request[Any, Any, Any], __: LoginRequired) -> Response[Any]:
    return Redirect(LOGIN_PATH, status_code=303)


def _csrf_refused(_: Request[Any, Any, Any], __: CsrfRefused) -> Response[Any]:
    return page("message.html", 403, title="Biểu mẫu đã hết hạn", message="Vui lòng tải lại trang và thử lại.")


def _forbidden(_: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[Any]:
    return page("message.html", 403, title="Không có quyền", message=exc.detail)


STAFF_EXCEPTION_HANDLERS: dict[Any, Any] = {
    LoginRequired: _to_login,
    CsrfRefused: _csrf_refused,
    PermissionDeniedException: _forbidden,
}


class StaffController(Controller):
    path = "/staff"
    include_in_schema = False
    exception_handlers = STAFF_EXCEPTION_HANDLERS
    dependencies = {"staff": Provide(provide_staff)}

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        user = await session_user(request)
        if user is not None:
            return Redirect(home_path(user.role), status_code=303)
        return _login_page(state.settings)

    @post("/login", request_max_body_size=LOGIN_MAX_BODY)
    async def login(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        settings: Settings = state.settings
        form = await request.form()
        username = _text(form.get("username"))[:MAX_USERNAME_INPUT]
        password = _text(form.get("password"))
        token = request.cookies.get(login_cookie_name(settings))
        if not login_token_matches(token, form.get(FORM_FIELD)):
            return _login_page(settings, 403, STALE_FORM, username)
        address = "staff-login:" + source_address(request.scope, settings.trusted_proxies)
        try:
            state.limiter.refuse_if_over(address, TOO_MANY)
        except ProblemDetailsException:
            return _login_page(settings, 429, TOO_MANY, username, token)

        db = request_session(state, request.scope)
        now = state.clock.now()
        login = await check_login(db, username, password, settings, now)
        if login.account is not None:
            await close_session(db, request.cookies.get(cookie_name(settings)))  # a new id at every login
            session_token = await open_session(db, login.account, now, settings)
            await db.commit()
            log.info("staff_login", staff_id=login.account.id, role=login.account.role)
            return Redirect(
                home_path(login.account.role),
                status_code=303,
                cookies=[
                    session_cookie(settings, session_token),
                    expired_cookie(settings, login_cookie_name(settings)),
                ],
            )
        await db.commit()
        log.info("staff_login_refused", outcome=login.outcome.value)
        try:
            await state.limiter.hit(address, settings.staff_login_failures_per_address, TOO_MANY)
        except ProblemDetailsException:
            return _login_page(settings, 429, TOO_MANY, username, token)
        if login.outcome is LoginOutcome.LOCKED:
            message = f"Tài khoản tạm khoá do nhập sai mật khẩu nhiều lần, đến {vn_time(login.locked_until)}."
            return _login_page(settings, 429, message, username, token)
        return _login_page(settings, 401, BAD_LOGIN, username, token)

    @get("/", guards=[requires_staff()])
    async def home(self, staff: NamedDependency[StaffUser]) -> Response[str]:
        return page("home.html", user=staff, csrf_field=FORM_FIELD, home=home_path(staff.role))

    @get("/logout", guards=[requires_staff()])
    async def logout_form(self, staff: NamedDependency[StaffUser]) -> Response[str]:
        return page("logout.html", user=staff, csrf_field=FORM_FIELD)

    @post("/logout", guards=[requires_staff()], request_max_body_size=LOGIN_MAX_BODY)
    async def logout(
        self, request: Request[Any, Any, Any], state: State, staff: NamedDependency[StaffUser]
    ) -> Response[Any]:
        settings: Settings = state.settings
        db = request_session(state, request.scope)
        await close_session(db, request.cookies.get(cookie_name(settings)))
        await db.commit()
        log.info("staff_logout", staff_id=staff.id)
        return Redirect(LOGIN_PATH, status_code=303, cookies=[expired_cookie(settings, cookie_name(settings))])


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


staff_static = create_static_files_router(
    path="/staff/static", directories=[STATIC], include_in_schema=False, name="staff_static"
)
