"""GET /v1/ledger/balances: a finance staff session sees every account; anyone else is refused."""

from __future__ import annotations

import pytest

from gateway.ledger.checks import check_ledger
from gateway.staff.accounts import Role
from tests.harness import World
from tests.receipts.helpers import paid, refund
from tests.staff.helpers import StaffWorld

pytestmark = pytest.mark.anyio


async def test_only_finance_staff_read_the_balances(world: World) -> None:
    assert (await world.http.get("/v1/ledger/balances")).status_code == 401
    assert (await world.http.get("/v1/ledger/balances", headers=world.auth())).status_code == 401  # a portal's key
    staff = StaffWorld(world.app, world.http, world.clock)
    await staff.add_staff("buucuc.an", Role.POSTAL, "100000")
    assert (await staff.login("buucuc.an")).status_code in (302, 303)
    r = await world.http.get("/v1/ledger/balances")
    assert r.status_code == 403 and r.json()["type"].endswith("forbidden")


async def test_balances_after_a_payment_and_a_partial_refund(world: World) -> None:
    payment = await paid(world)  # 8,000 lệ phí + 27,000 postage
    await refund(world, payment["id"], amount=30_000)  # the postage first, then 3,000 of the agency's
    staff = StaffWorld(world.app, world.http, world.clock)
    await staff.add_staff("taichinh.binh", Role.FINANCE, None)
    assert (await staff.login("taichinh.binh")).status_code in (302, 303)
    r = await world.http.get("/v1/ledger/balances")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total_debits"] == body["total_credits"] == 35_000 + 30_000
    by_account = {(a["kind"], a["key"]): a["balance"] for a in body["accounts"]}
    assert by_account == {
        ("provider_clearing", "vnpay"): 5_000,
        ("fees_receivable", "000.00.12.H29"): 8_000,
        ("refunds", "000.00.12.H29"): 3_000,
        ("postage_payable", "postal"): 0,
    }
    only = await world.http.get("/v1/ledger/balances?kind=refunds")
    assert [a["kind"] for a in only.json()["accounts"]] == ["refunds"]
    assert (await world.http.get("/v1/ledger/balances?kind=nope")).status_code == 400
    async with world.app.state.sessionmaker() as session:
        assert await check_ledger(session) == []
