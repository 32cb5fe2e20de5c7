"""The simulators' settlement files, read by the gateway: the layouts agree, discrepancies show up, and a
VNPay payment whose IPN was lost is settled by VNPay's file."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from openpyxl import load_workbook

from gateway.reconciliation.layouts import LAYOUTS
from gateway.reconciliation.parsing import read_rows
from simulators.momo import create_app as momo_app
from simulators.payos import create_app as payos_app
from simulators.vnpay import create_app as vnpay_app
from simulators.zalopay import create_app as zalopay_app
from tests.harness import World, reference_of

pytestmark = pytest.mark.anyio
VN = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("name", "make"), [("vnpay", vnpay_app), ("momo", momo_app), ("zalopay", zalopay_app), ("payos", payos_app)]
)
async def test_each_simulators_file_is_its_layout_and_carries_discrepancies(name: str, make: object) -> None:
    app = make()  # type: ignore[operator]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim.test") as sim:
        r = await sim.put(f"/_sim/{name}/settlement/discrepancies", json={"extra": 2})
        assert r.status_code == 200, r.text
        r = await sim.get(f"/_sim/{name}/settlement", params={"date": "2026-11-20"})
        assert r.status_code == 200, r.text
        rows = list(read_rows(LAYOUTS[name], io.BytesIO(r.content)))
        assert [line for line, _ in rows] == [2, 3]
        assert [row.amount for _, row in rows] == [10_000, 20_000]
        assert all(row.occurred_at.astimezone(VN).date().isoformat() == "2026-11-20" for _, row in rows)
        assert (await sim.delete(f"/_sim/{name}/settlement/discrepancies")).status_code == 204
        r = await sim.get(f"/_sim/{name}/settlement", params={"date": "2026-11-20"})
        assert list(read_rows(LAYOUTS[name], io.BytesIO(r.content))) == []
        assert (await sim.get(f"/_sim/{name}/settlement", params={"date": "20-11-2026"})).status_code == 400


async def _paid(world: World, *, ipn: bool) -> dict[str, object]:
    created = (await world.create_payment()).json()
    await world.open_checkout(str(created["checkout_url"]))
    if not ipn:
        await world.faults(ipn_drop=True)
    await world.settle(reference_of(created))
    await world.faults()
    return created


async def test_vnpay_file_settles_a_payment_whose_ipn_was_lost(world: World) -> None:
    assert world.client is not None
    world.app.state.settings.finance_client_ids = [world.client.id]
    told = await _paid(world, ipn=True)
    lost = await _paid(world, ipn=False)
    assert (await world.get_payment(str(lost["id"])))["status"] == "pending"
    told_ref = reference_of(told)
    await world.sim.put("/_sim/vnpay/settlement/discrepancies", json={"duplicate": [told_ref], "extra": 1})
    today = datetime.now(VN).date().isoformat()
    file = await world.sim.get("/_sim/vnpay/settlement", params={"date": today})
    assert file.headers["content-type"].startswith("application/vnd.openxmlformats")
    header = next(load_workbook(io.BytesIO(file.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert header[:3] == ("vnp_TmnCode", "vnp_TxnRef", "vnp_TransactionNo")

    r = await world.http.post(
        "/v1/reconciliation/runs",
        files={"file": ("vnpay.xlsx", file.content, "application/octet-stream")},
        data={"provider": "vnpay", "business_date": today},
        headers=world.auth(),
    )
    assert r.status_code == 201, r.text
    counts = {c: v["count"] for c, v in r.json()["summary"]["categories"].items() if v["count"]}
    assert counts == {"matched": 2, "duplicate": 1, "missing_in_gateway": 1}
    settled = await world.get_payment(str(lost["id"]))
    assert settled["status"] == "succeeded"
    await world.run_dispatcher()
    assert [e["type"] for e in world.portal.events()].count("payment.succeeded") == 2


async def test_vnpost_remittance_file_is_the_layout_the_gateway_reads() -> None:
    from simulators.vnpost import create_app as vnpost_app

    app = vnpost_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim.test") as sim:
        r = await sim.get("/_sim/vnpost/cod-remittance", params={"date": "2026-11-20"})
        assert r.status_code == 200, r.text
        assert list(read_rows(LAYOUTS["vnpost"], io.BytesIO(r.content))) == []
