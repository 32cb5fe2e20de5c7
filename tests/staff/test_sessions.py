"""Logging in and out of /staff in process: cookies, sessions kept hashed, expiry, lockout, CSRF."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from gateway.db.models import StaffAccount, StaffSession
from gateway.settings import Settings
from gateway.staff import passwords
from gateway.staff.accounts import Role
from tests.staff.helpers import GATEWAY, PASSWORD, StaffWorld, csrf_of

pytestmark = pytest.mark.anyio


async def sessions(world: StaffWorld) -> list[StaffSession]:
    async with world.app.state.sessionmaker() as session:
        return list(await session.scalars(select(StaffSession)))


async def account(world: StaffWorld, username: str) -> StaffAccount:
    async with world.app.state.sessionmaker() as session:
        found = await session.scalar(select(StaffAccount).where(StaffAccount.username == username))
        assert found is not None
        return found


async def test_login_opens_a_server_side_session_whose_cookie_is_httponly_and_lax(staff_world: StaffWorld) -> None:
    await staff_world.add_staff("bt.an")
    r = await staff_world.login("BT.An ")  # usernames are kept and compared in lower case
    assert r.status_code == 303 and r.headers["location"] == "/staff/postal"
    set_cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("dvcgw_staff="))
    attributes = {part.strip().split("=")[0].lower() for part in set_cookie.split(";")}
    assert {"httponly", "samesite", "path"} <= attributes and "samesite=lax" in set_cookie.lower()
    token = set_cookie.split(";")[0].split("=", 1)[1]
    [stored] = await sessions(staff_world)
    # Only the id's hash is kept: the table opens no session by itself.
    assert stored.id_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.id_hash

    home = await staff_world.http.get("/staff")
    assert home.status_code == 200 and "bt.an" in home.text and "100000" in home.text
    assert (
        home.headers["cache-control"] == "no-store"
        and "frame-ancestors 'none'" in home.headers["content-security-policy"]
    )


async def test_pages_need_a_session(staff_world: StaffWorld) -> None:
    r = await staff_world.http.get("/staff", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/staff/login"
    staff_world.http.cookies.set("dvcgw_staff", "made-up")
    r = await staff_world.http.get("/staff/logout", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/staff/login"


@pytest.mark.parametrize("username", ["bt.an", "nobody"])
async def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(staff_world: StaffWorld, username: str) -> None:
    await staff_world.add_staff("bt.an")
    r = await staff_world.login(username, "không phải mật khẩu")
    assert r.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in r.text
    assert await sessions(staff_world) == []


async def test_an_unknown_user_costs_one_argon2_verification_as_a_known_one_does(
    staff_world: StaffWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    await staff_world.add_staff("bt.an")
    verified: list[str] = []
    real = passwords._verify

    def counting(password_hash: str, password: str) -> bool:
        verified.append(password_hash.split("$")[1])
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "_verify", counting)
    await staff_world.login("bt.an", "sai mật khẩu rồi")
    await staff_world.login("nobody", "sai mật khẩu rồi")
    await staff_world.login("x" * 200, "sai mật khẩu rồi")
    assert verified == ["argon2id"] * 3


async def test_lockout_after_the_set_number_of_failures_then_it_ends(
    staff_world: StaffWorld, settings: Settings
) -> None:
    await staff_world.add_staff("bt.an")
    for _ in range(settings.staff_lockout_failures - 1):
        assert (await staff_world.login("bt.an", "sai mật khẩu rồi")).status_code == 401
    locked = await staff_world.login("bt.an", "sai mật khẩu rồi")
    assert locked.status_code == 429 and "Tài khoản tạm khoá" in locked.text
    # Locked: even the right password is refused, and no session is made.
    still = await staff_world.login("bt.an", PASSWORD)
    assert still.status_code == 429 and await sessions(staff_world) == []

    staff_world.clock.advance(timedelta(seconds=settings.staff_lockout_seconds + 1))
    r = await staff_world.login("bt.an", PASSWORD)
    assert r.status_code == 303
    assert (await account(staff_world, "bt.an")).failed_logins == 0


async def test_a_success_resets_the_failure_count(staff_world: StaffWorld, settings: Settings) -> None:
    await staff_world.add_staff("bt.an")
    for _ in range(settings.staff_lockout_failures - 1):
        await staff_world.login("bt.an", "sai mật khẩu rồi")
    assert (await staff_world.login("bt.an")).status_code == 303
    staff_world.http.cookies.clear()
    for _ in range(settings.staff_lockout_failures - 1):
        assert (await staff_world.login("bt.an", "sai mật khẩu rồi")).status_code == 401


async def test_a_disabled_account_cannot_log_in(staff_world: StaffWorld) -> None:
    from gateway.staff.accounts import disable_account

    await staff_world.add_staff("bt.an")
    assert (await staff_world.login("bt.an")).status_code == 303
    async with staff_world.app.state.sessionmaker() as session:
        assert await disable_account(session, "bt.an")
        await session.commit()
    assert (await staff_world.http.get("/staff", follow_redirects=False)).status_code == 303
    assert (await staff_world.login("bt.an")).status_code == 401


async def test_the_login_form_needs_its_own_token(staff_world: StaffWorld) -> None:
    await staff_world.add_staff("bt.an")
    await staff_world.http.get("/staff/login")
    # A cross-site form has neither the cookie's value nor any token: refused before the password is checked.
    for token in ("", "forged"):
        r = await staff_world.http.post(
            "/staff/login",
            data={"username": "bt.an", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert r.status_code == 403 and "hết hạn" in r.text
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=staff_world.app), base_url=GATEWAY) as other:
        form = await staff_world.http.get("/staff/login")  # a token, but the other client has no cookie for it
        r = await other.post(
            "/staff/login",
            data={"username": "bt.an", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )
        assert r.status_code == 403
    assert await sessions(staff_world) == []


async def test_logout_needs_the_session_token_and_deletes_the_session(staff_world: StaffWorld) -> None:
    await staff_world.add_staff("bt.an")
    await staff_world.login("bt.an")
    home = await staff_world.http.get("/staff")
    for data in ({}, {"csrf_token": "forged"}):
        refused = await staff_world.http.post("/staff/logout", data=data, follow_redirects=False)
        assert refused.status_code == 403
    assert len(await sessions(staff_world)) == 1
    # A JSON body or any other type cannot stand in for the form either.
    refused = await staff_world.http.post("/staff/logout", json={"csrf_token": csrf_of(home.text)})
    assert refused.status_code == 403

    old_cookie = staff_world.http.cookies.get("dvcgw_staff")
    out = await staff_world.http.post("/staff/logout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/staff/login"
    assert await sessions(staff_world) == []
    staff_world.http.cookies.set("dvcgw_staff", old_cookie or "")
    assert (await staff_world.http.get("/staff", follow_redirects=False)).status_code == 303


async def test_every_login_gets_a_new_session_id_and_ends_the_one_the_browser_held(staff_world: StaffWorld) -> None:
    await staff_world.add_staff("bt.an")
    await staff_world.login("bt.an")
    first = staff_world.http.cookies.get("dvcgw_staff")
    staff_world.http.cookies.clear()
    form = await staff_world.http.get("/staff/login")
    staff_world.http.cookies.set("dvcgw_staff", first or "")
    r = await staff_world.http.post(
        "/staff/login",
        data={"username": "bt.an", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    second = r.cookies.get("dvcgw_staff")
    assert second and second != first
    [kept] = await sessions(staff_world)
    assert kept.id_hash == hashlib.sha256(second.encode()).hexdigest()


async def test_sessions_end_when_idle_and_at_their_absolute_end(staff_world: StaffWorld, settings: Settings) -> None:
    await staff_world.add_staff("bt.an")
    await staff_world.login("bt.an")
    # Active: kept alive past the idle time by requests, until the absolute end.
    step = timedelta(seconds=settings.staff_session_idle_seconds - 60)
    elapsed = timedelta(0)
    while elapsed + step < timedelta(seconds=settings.staff_session_absolute_seconds):
        staff_world.clock.advance(step)
        elapsed += step
        assert (await staff_world.http.get("/staff", follow_redirects=False)).status_code == 200
    staff_world.clock.advance(timedelta(seconds=settings.staff_session_absolute_seconds) - elapsed)
    assert (await staff_world.http.get("/staff", follow_redirects=False)).status_code == 303
    assert await sessions(staff_world) == []

    await staff_world.login("bt.an")
    staff_world.clock.advance(timedelta(seconds=settings.staff_session_idle_seconds))
    assert (await staff_world.http.get("/staff", follow_redirects=False)).status_code == 303


async def test_expired_sessions_are_purged(staff_world: StaffWorld, settings: Settings) -> None:
    from gateway.staff.sessions import purge_expired_sessions

    await staff_world.add_staff("bt.an")
    await staff_world.login("bt.an")
    state = staff_world.app.state
    assert await purge_expired_sessions(state.sessionmaker, staff_world.clock, settings) == 0
    staff_world.clock.advance(timedelta(seconds=settings.staff_session_idle_seconds))
    assert await purge_expired_sessions(state.sessionmaker, staff_world.clock, settings) == 1


async def test_too_many_wrong_logins_from_one_address_are_refused_whatever_the_username(
    staff_world: StaffWorld, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The clock is held inside one rate-limit window, so the count never straddles two.
    held = datetime(2026, 12, 1, 8, 0, 10, tzinfo=UTC)
    monkeypatch.setattr(staff_world.clock, "now", lambda: held)
    limit = settings.staff_login_failures_per_address
    for n in range(limit):
        assert (await staff_world.login(f"user{n}", "sai mật khẩu rồi")).status_code == 401
    assert (await staff_world.login("another", "sai mật khẩu rồi")).status_code == 429


async def test_a_secure_deployment_sets_host_prefixed_secure_cookies(clean_database: str) -> None:
    from gateway.app import create_app
    from gateway.clock import Clock
    from tests.staff.helpers import StaffWorld

    settings = Settings(
        database_url=clean_database, workers_enabled=False, demo_enabled=False, staff_cookie_secure=True
    )
    app = create_app(settings, clock=Clock())
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://g.test") as http,
    ):
        world = StaffWorld(app=app, http=http, clock=Clock())
        await world.add_staff("bt.an", Role.FINANCE, None)
        r = await world.login("bt.an")
        assert r.status_code == 303
        cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "dvcgw_staff=" in v)
        assert cookie.startswith("__Host-dvcgw_staff=") and "secure" in cookie.lower()
        assert (await http.get("/staff")).status_code == 200
