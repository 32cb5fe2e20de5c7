"""staff_reporter: a staff session (with its CSRF header) authenticates an API call; an API key leaves it
to the portal's authentication; anything else is refused."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Request, post

from gateway.staff.accounts import Role
from gateway.staff.api_auth import staff_reporter
from tests.staff.helpers import StaffWorld, csrf_of

pytestmark = pytest.mark.anyio


@post("/probe", status_code=200)
async def probe(request: Request[Any, Any, Any]) -> dict[str, str | None]:
    user = await staff_reporter(request)
    return {"actor": user.actor if user else None, "office": user.office_code if user else None}


@pytest.fixture
async def world(staff_world: StaffWorld) -> StaffWorld:
    staff_world.app.register(probe)
    await staff_world.add_staff("bt.an", Role.POSTAL, "100900")
    await staff_world.add_staff("ketoan", Role.FINANCE, None)
    return staff_world


async def token(world: StaffWorld, username: str) -> str:
    await world.login(username)
    return csrf_of((await world.http.get("/staff/logout")).text)


async def test_a_postal_session_with_its_token_reports_as_the_staff_member(world: StaffWorld) -> None:
    csrf = await token(world, "bt.an")
    r = await world.http.post("/probe", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json() == {"actor": "staff:bt.an", "office": "100900"}


@pytest.mark.parametrize("header", [None, "forged"])
async def test_the_cookie_alone_is_refused(world: StaffWorld, header: str | None) -> None:
    await token(world, "bt.an")
    r = await world.http.post("/probe", headers={"X-CSRF-Token": header} if header else {})
    assert r.status_code == 403 and r.json()["type"].endswith("/staff-forbidden")


async def test_finance_staff_do_not_report(world: StaffWorld) -> None:
    csrf = await token(world, "ketoan")
    assert (await world.http.post("/probe", headers={"X-CSRF-Token": csrf})).status_code == 403


async def test_an_ended_session_is_a_401(world: StaffWorld) -> None:
    world.http.cookies.set("dvcgw_staff", "ended-or-made-up")
    assert (await world.http.post("/probe", headers={"X-CSRF-Token": "x"})).status_code == 401


async def test_an_api_key_or_no_cookie_is_left_to_the_portal_s_authentication(world: StaffWorld) -> None:
    assert (await world.http.post("/probe")).json() == {"actor": None, "office": None}
    await token(world, "bt.an")
    r = await world.http.post("/probe", headers={"Authorization": "Bearer dvcgw_somekey"})
    assert r.json() == {"actor": None, "office": None}
