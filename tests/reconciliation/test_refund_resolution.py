"""A `refund` resolution, end to end through the VNPay simulator: a payment VNPay took the money for and the
gateway had expired is settled (late success), refunded through VNPay like any refund, and the ledger and
the receipts agree after each step."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from contracts.payments import PaymentStatus
from gateway.db.models import JournalEntry, Payment, Receipt, ReconciliationResolution, Refund
from gateway.ledger.accounts import AccountKind
from gateway.ledger.balances import balances
from gateway.ledger.checks import check_ledger
from gateway.payments.service import PaymentService
from gateway.receipts.checks import check_receipts
from gateway.staff.accounts import Role
from tests.harness import World, reference_of
from tests.staff.helpers import StaffWorld

pytestmark = pytest.mark.anyio
VN = timezone(timedelta(hours=7))


async def _books(world: World) -> list[object]:
    async with world.app.state.sessionmaker() as session:
        return [*await check_ledger(session), *await check_receipts(session)]


async def _paid_at_vnpay_expired_here(world: World, *, refund_pending: bool = False) -> dict[str, Any]:
    """The citizen paid, VNPay's notification never came, and the gateway expired the payment."""
    assert world.client is not None
    world.app.state.settings.finance_client_ids = [world.client.id]
    created = (await world.create_payment()).json()
    await world.open_checkout(str(created["checkout_url"]))
    await world.faults(ipn_drop=True, refund_pending=refund_pending)
    await world.settle(reference_of(created))
    state = world.app.state
    async with state.sessionmaker() as session:
        payment = await session.get_one(Payment, created["id"])
        PaymentService(session, state.providers, state.settings, world.clock).transition(
            payment, PaymentStatus.EXPIRED, "query", detail="no answer before the deadline"
        )
        await session.commit()
    assert await _books(world) == []
    return created


async def _import_today(world: World) -> list[dict[str, Any]]:
    """VNPay's file of today imported: its items."""
    today = datetime.now(VN).date().isoformat()
    file = await world.sim.get("/_sim/vnpay/settlement", params={"date": today})
    r = await world.http.post(
        "/v1/reconciliation/runs",
        files={"file": ("vnpay.xlsx", file.content, "application/octet-stream")},
        data={"provider": "vnpay", "business_date": today},
        headers=world.auth(),
    )
    assert r.status_code == 201, r.text
    items = await world.http.get(f"/v1/reconciliation/runs/{r.json()['id']}/items", headers=world.auth())
    return list(items.json()["items"])


async def _status_mismatch(world: World) -> int:
    [item] = await _import_today(world)
    assert item["category"] == "status_mismatch"
    return int(item["id"])


async def _refund(world: World, item_id: int) -> Any:
    return await world.http.post(
        f"/v1/reconciliation/items/{item_id}/resolve",
        json={"action": "refund", "note": "công dân đã nộp lại bằng giao dịch khác"},
        headers=world.auth(),
    )


async def _clearing(world: World) -> int:
    async with world.app.state.sessionmaker() as session:
        clearing = await balances(session, AccountKind.PROVIDER_CLEARING)
    return sum(b.balance for b in clearing if b.account.key == "vnpay")


async def test_a_refund_resolution_settles_the_payment_and_refunds_it_through_vnpay(world: World) -> None:
    created = await _paid_at_vnpay_expired_here(world)
    item_id = await _status_mismatch(world)
    # Submitted twice at once (a double click): the item's row lock lets one act; the other finds it resolved.
    first, second = await asyncio.gather(_refund(world, item_id), _refund(world, item_id))
    assert sorted((first.status_code, second.status_code)) == [200, 409], (first.text, second.text)
    answer = (first if first.status_code == 200 else second).json()
    assert (answer["item"]["resolution"], answer["payment_id"], answer["refund_status"]) == (
        "refund",
        created["id"],
        "succeeded",
    )
    assert (await _refund(world, item_id)).status_code == 409  # final: nothing is sent twice
    sim = (await world.sim.get(f"/_sim/vnpay/transactions/{reference_of(created)}")).json()
    assert sim["refunded_amount"] == created["amount"]  # VNPay really gave it back
    payment = await world.get_payment(str(created["id"]))
    assert (payment["status"], payment["refunded_amount"]) == ("succeeded", created["amount"])
    async with world.app.state.sessionmaker() as session:
        [refund] = list(await session.scalars(select(Refund)))
        [audit] = list(await session.scalars(select(ReconciliationResolution)))
        assert (audit.refund_id, audit.payment_id, audit.category) == (refund.id, created["id"], "status_mismatch")
        # The reason goes to VNPay and the portal: it names the item; finance's own note stays here.
        assert refund.reason == f"Hoàn tiền theo đối soát, khoản {item_id}" and audit.note not in refund.reason
        causes = sorted((e.cause, e.cause_id) for e in await session.scalars(select(JournalEntry)))
        assert causes == [("payment_succeeded", created["id"]), ("refund_succeeded", refund.id)]
        [receipt] = list(await session.scalars(select(Receipt)))
        assert (receipt.status, receipt.cancel_refund_id) == ("cancelled", refund.id)
    assert await _clearing(world) == 0  # VNPay holds nothing of it now, and neither does the ledger
    assert await _books(world) == []
    await world.run_dispatcher()
    types = [e["type"] for e in world.portal.events()]
    assert types == ["payment.expired", "payment.succeeded", "refund.succeeded"]


async def test_a_refund_vnpay_is_still_processing_is_queried_until_it_is_done(world: World) -> None:
    created = await _paid_at_vnpay_expired_here(world, refund_pending=True)
    r = await _refund(world, await _status_mismatch(world))
    assert (r.status_code, r.json()["refund_status"]) == (200, "processing"), r.text
    assert await _clearing(world) == created["amount"]  # settled, not yet given back
    assert await _books(world) == []
    async with world.app.state.sessionmaker() as session:
        [refund] = list(await session.scalars(select(Refund)))
    # Finance staff see on their page where the money is.
    staff = StaffWorld(world.app, world.http, world.clock)
    await staff.add_staff("ketoan.lan", Role.FINANCE, None)
    assert (await staff.login("ketoan.lan")).status_code == 303
    page = await world.http.get("/staff/finance/discrepancies", params={"state": "resolved"})
    assert f"Hoàn tiền {refund.id}: đang xử lý" in page.text
    done = await world.sim.post(
        f"/_sim/vnpay/transactions/{reference_of(created)}/refunds/{refund.provider_request_id}",
        json={"transaction_status": "00"},
    )
    assert done.status_code == 200, done.text
    world.clock.advance(timedelta(hours=1))
    assert await world.run_resolver() == 1
    payment = await world.get_payment(str(created["id"]))
    assert payment["refunded_amount"] == created["amount"]
    assert await _clearing(world) == 0
    assert await _books(world) == []
    page = await world.http.get("/staff/finance/discrepancies", params={"state": "resolved"})
    assert f"Hoàn tiền {refund.id}: đã hoàn" in page.text


async def test_a_refund_resolution_whose_send_was_cut_short_is_sent_by_the_resolver(world: World) -> None:
    """The process died between the resolution's commit and the call to VNPay: the refund is pending."""
    from gateway.reconciliation.resolutions import Resolutions

    created = await _paid_at_vnpay_expired_here(world)
    item_id = await _status_mismatch(world)
    state = world.app.state

    class DiesBeforeSending(Resolutions):
        async def _send(self, refund_id: str, actor: str) -> None:
            raise ConnectionResetError("the process died")

    async with state.sessionmaker() as session:
        with pytest.raises(ConnectionResetError):
            await DiesBeforeSending(session, world.clock, state.providers, state.settings).resolve(
                item_id, "refund", "trả lại", None, "staff:ketoan"
            )
    async with state.sessionmaker() as session:
        [refund] = list(await session.scalars(select(Refund)))
        assert refund.status == "pending"
    assert await _books(world) == []
    world.clock.advance(timedelta(hours=1))
    assert await world.run_resolver() == 1
    payment = await world.get_payment(str(created["id"]))
    assert payment["refunded_amount"] == created["amount"]
    assert await _books(world) == []


async def test_a_row_the_import_could_not_place_is_refunded_once_its_payment_is_known(world: World) -> None:
    """missing_in_gateway at the import (the payment's order reference was not the one VNPay reports, fixed
    since): the resolution finds the payment by the row's order reference and refunds it the same way."""
    from sqlalchemy import update

    created = await _paid_at_vnpay_expired_here(world)
    state = world.app.state

    async def order_reference(value: str) -> None:
        async with state.sessionmaker() as session:
            await session.execute(update(Payment).where(Payment.id == created["id"]).values(provider_ref=value))
            await session.commit()

    await order_reference("WRONG-REF")
    [item] = await _import_today(world)
    assert (item["category"], item["payment_id"]) == ("missing_in_gateway", None)
    await order_reference(reference_of(created))
    answer = await _refund(world, int(item["id"]))
    assert answer.status_code == 200, answer.text
    assert (answer.json()["item"]["payment_id"], answer.json()["refund_status"]) == (created["id"], "succeeded")
    assert await _clearing(world) == 0
    assert await _books(world) == []
