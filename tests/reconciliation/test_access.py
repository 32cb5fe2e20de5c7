"""Who may use the finance API: finance staff by their session (with the CSRF token on a POST), or an
allow-listed key; postal staff and other portals may not."""

from __future__ import annotations

import pytest

from gateway.staff.accounts import Role
from tests.reconciliation.world import Finance, momo_file, momo_row
from tests.staff.helpers import StaffWorld, csrf_of

pytestmark = pytest.mark.anyio


async def _logged_in(finance: Finance, username: str, role: Role, office: str | None) -> str:
    staff = StaffWorld(app=finance.app, http=finance.http, clock=finance.clock)
    await staff.add_staff(username, role, office)
    await staff.login(username)
    return csrf_of((await finance.http.get("/staff/logout")).text)


async def _upload(finance: Finance, headers: dict[str, str]) -> int:
    r = await finance.http.post(
        "/v1/reconciliation/runs",
        files={"file": ("momo.csv", momo_file(momo_row(1)), "text/csv")},
        data={"provider": "momo", "business_date": "2026-11-20"},
        headers=headers,
    )
    return r.status_code


async def test_finance_staff_import_with_their_token_and_are_named_in_the_run(finance: Finance) -> None:
    csrf = await _logged_in(finance, "ketoan.hoa", Role.FINANCE, None)
    assert await _upload(finance, {}) == 403  # the cookie alone
    assert await _upload(finance, {"X-CSRF-Token": csrf}) == 201
    runs = (await finance.http.get("/v1/reconciliation/runs")).json()["items"]
    assert [r["created_by"] for r in runs] == ["staff:ketoan.hoa"]
    report = await finance.http.get("/v1/reports/daily", params={"date": "2026-11-20"})
    assert report.status_code == 200


async def test_postal_staff_may_not(finance: Finance) -> None:
    csrf = await _logged_in(finance, "bt.an", Role.POSTAL, "100900")
    assert await _upload(finance, {"X-CSRF-Token": csrf}) == 403
    assert (await finance.http.get("/v1/reconciliation/runs")).status_code == 403


async def test_an_ended_session_is_a_401(finance: Finance) -> None:
    finance.http.cookies.set("dvcgw_staff", "ended-or-made-up")
    assert (await finance.http.get("/v1/reconciliation/runs")).status_code == 401
