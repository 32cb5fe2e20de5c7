"""Resolving a discrepancy: a note and an action, audited, final; and refunds the file proves made."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.db.models import ReconciliationResolution, Refund
from tests.reconciliation.world import PAID_AT, Finance, momo_file, momo_row

pytestmark = pytest.mark.anyio


async def _discrepancy(finance: Finance) -> dict[str, object]:
    await finance.add_payment(1)
    run = (await finance.upload(momo_file(momo_row(1, amount=40_000)))).json()
    [item] = await finance.items(str(run["id"]), "amount_mismatch")
    return item


async def test_a_resolution_is_audited_and_final(finance: Finance) -> None:
    item = await _discrepancy(finance)
    url = f"/v1/reconciliation/items/{item['id']}/resolve"
    body = {"action": "write_off", "note": "the provider will not pay the rest", "reference": "TICKET-2611"}
    r = await finance.http.post(url, json=body, headers=finance.auth())
    assert r.status_code == 200, r.text
    assert r.json()["item"]["resolution"] == "write_off"
    assert r.json()["actor"] == f"client:{finance.client.id}"
    again = await finance.http.post(url, json={"action": "write_off", "note": "x"}, headers=finance.auth())
    assert again.status_code == 409
    async with finance.app.state.sessionmaker() as session:
        [audit] = list(await session.scalars(select(ReconciliationResolution)))
    assert (audit.action, audit.reference, audit.category, audit.amount) == (
        "write_off",
        "TICKET-2611",
        "amount_mismatch",
        40_000,
    )


async def test_mark_paid_needs_a_reference_and_matched_items_need_nothing(finance: Finance) -> None:
    item = await _discrepancy(finance)
    url = f"/v1/reconciliation/items/{item['id']}/resolve"
    r = await finance.http.post(url, json={"action": "mark_paid", "note": "paid"}, headers=finance.auth())
    assert r.status_code == 422
    r = await finance.http.post(url, json={"action": "forgive", "note": "x"}, headers=finance.auth())
    assert r.status_code == 400
    await finance.add_payment(2)
    run = (await finance.upload(momo_file(momo_row(2)))).json()
    [matched] = await finance.items(str(run["id"]), "matched")
    r = await finance.http.post(
        f"/v1/reconciliation/items/{matched['id']}/resolve",
        json={"action": "write_off", "note": "x"},
        headers=finance.auth(),
    )
    assert r.status_code == 409
    other = await finance.http.post(
        url, json={"action": "write_off", "note": "x"}, headers=finance.auth(finance.other_key)
    )
    assert other.status_code == 403


async def test_a_processing_refund_is_settled_by_the_file(finance: Finance) -> None:
    await finance.add_payment(1)
    async with finance.app.state.sessionmaker() as session:
        session.add(
            Refund(
                id="rfd_t1",
                payment_id="pay_t000001",
                amount=20_000,
                status="processing",
                reason="hồ sơ bị từ chối",
                provider_request_id="r1",
                provider_codes={},
                created_at=PAID_AT,
                updated_at=PAID_AT,
                next_query_at=PAID_AT,
                query_attempts=0,
            )
        )
        await session.commit()
    content = momo_file(momo_row(1), momo_row(1, amount=20_000, kind="refund", txn="RF1"))
    run = (await finance.upload(content)).json()
    assert run["summary"]["categories"]["matched"]["count"] == 2
    async with finance.app.state.sessionmaker() as session:
        refund = await session.get_one(Refund, "rfd_t1")
        assert (refund.status, refund.provider_transaction_id) == ("succeeded", "RF1")


async def test_a_write_off_posts_the_difference_to_the_ledger_once(finance: Finance) -> None:
    from gateway.db.models import JournalEntry, Posting, ReconciliationItem

    item = await _discrepancy(finance)
    url = f"/v1/reconciliation/items/{item['id']}/resolve"
    r = await finance.http.post(url, json={"action": "write_off", "note": "short"}, headers=finance.auth())
    assert r.status_code == 200, r.text
    assert (
        await finance.http.post(url, json={"action": "write_off", "note": "x"}, headers=finance.auth())
    ).status_code == 409
    async with finance.app.state.sessionmaker() as session:
        row = await session.get(ReconciliationItem, item["id"])
        assert row is not None and row.gateway_amount is not None and row.amount == 40_000
        [entry] = list(await session.scalars(select(JournalEntry).where(JournalEntry.cause == "discrepancy_resolved")))
        postings = list(await session.scalars(select(Posting).where(Posting.entry_id == entry.id)))
    short = row.gateway_amount - 40_000
    assert entry.cause_id == f"recon-item-{item['id']}"
    assert sum(p.amount for p in postings) == 0
    assert sorted(abs(p.amount) for p in postings) == [abs(short), abs(short)]
