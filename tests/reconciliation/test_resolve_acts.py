"""mark_paid settles the payment through the payments' own path; a refund that cannot be made is refused
with nothing changed; a transaction another day's file listed is a duplicate. The finance world checks the
ledger and the receipts when each test ends (world.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.db.models import (
    JournalEntry,
    Payment,
    PaymentEvent,
    Posting,
    Receipt,
    ReconciliationItem,
    ReconciliationResolution,
    Refund,
    WebhookEvent,
)
from tests.reconciliation.world import MS, PAID_AT, Finance, momo_file, momo_row

pytestmark = pytest.mark.anyio


async def _item(finance: Finance, content: bytes, category: str, provider: str = "momo", day: str = "") -> int:
    r = await finance.upload(content, provider=provider, **({"day": day} if day else {}))
    assert r.status_code == 201, r.text
    [item] = await finance.items(str(r.json()["id"]), category)
    return int(item["id"])


async def _items_of(finance: Finance, content: bytes, category: str, provider: str = "momo") -> list[Any]:
    r = await finance.upload(content, provider=provider)
    assert r.status_code == 201, r.text
    return list(await finance.items(str(r.json()["id"]), category))


async def _resolve(finance: Finance, item_id: int, action: str, reference: str | None = None) -> Any:
    body = {"action": action, "note": "đã kiểm tra với nhà cung cấp", **({"reference": reference} if reference else {})}
    return await finance.http.post(f"/v1/reconciliation/items/{item_id}/resolve", json=body, headers=finance.auth())


async def _state(finance: Finance) -> tuple[object, ...]:
    """What a refused resolution must leave as it was: the payments' statuses, and how many entries,
    resolutions, refunds, webhooks and resolved items there are."""
    async with finance.app.state.sessionmaker() as session:
        payments = [(p.id, p.status) for p in await session.scalars(select(Payment).order_by(Payment.id))]
        counts = [
            await session.scalar(select(func.count()).select_from(table))
            for table in (JournalEntry, ReconciliationResolution, Refund, WebhookEvent)
        ]
        resolved = await session.scalar(
            select(func.count()).select_from(ReconciliationItem).where(ReconciliationItem.resolution.is_not(None))
        )
    return (payments, *counts, resolved)


async def test_mark_paid_settles_an_expired_payment_through_the_one_path(finance: Finance) -> None:
    await finance.add_payment(7, status="expired")
    item_id = await _item(finance, momo_file(momo_row(7)), "status_mismatch")
    r = await _resolve(finance, item_id, "mark_paid", "pay_t000007")
    assert r.status_code == 200, r.text
    assert (r.json()["payment_id"], r.json()["refund_id"]) == ("pay_t000007", None)
    assert (await _resolve(finance, item_id, "mark_paid", "pay_t000007")).status_code == 409
    async with finance.app.state.sessionmaker() as session:
        payment = await session.get_one(Payment, "pay_t000007")
        assert (payment.status, payment.provider_transaction_id, payment.paid_at) == ("succeeded", "T000007", PAID_AT)
        [event] = list(await session.scalars(select(PaymentEvent).where(PaymentEvent.payment_id == payment.id)))
        assert (event.from_status, event.to_status, event.cause) == ("expired", "succeeded", "reconciliation")
        assert "mark_paid" in event.detail and "after the payment was expired" in event.detail
        [entry] = list(await session.scalars(select(JournalEntry)))
        assert (entry.cause, entry.cause_id) == ("payment_succeeded", "pay_t000007")
        assert await session.scalar(select(func.count()).select_from(Receipt)) == 1
        hooks = sorted(await session.scalars(select(WebhookEvent.type)))
        assert hooks == ["payment.succeeded", "receipt.issued"]
        [audit] = list(await session.scalars(select(ReconciliationResolution)))
        assert (audit.action, audit.reference, audit.payment_id, audit.category) == (
            "mark_paid",
            "pay_t000007",
            "pay_t000007",
            "status_mismatch",
        )


async def test_mark_paid_names_the_payment_of_a_row_the_gateway_could_not_find(finance: Finance) -> None:
    await finance.add_payment(5, status="failed")
    async with finance.app.state.sessionmaker() as session:  # its failed attempt had a transaction id
        (await session.get_one(Payment, "pay_t000005")).provider_transaction_id = "FAILED5"
        await session.commit()
    await finance.add_payment(6, status="failed", amount=60_000)
    await finance.add_payment(8, provider="zalopay", status="failed")
    item_id = await _item(finance, momo_file(momo_row(99)), "missing_in_gateway")
    before = await _state(finance)
    for reference, problem in [
        ("pay_nope", "cannot-mark-paid"),  # no such payment
        ("pay_t000008", "cannot-mark-paid"),  # another provider's
        ("pay_t000006", "cannot-mark-paid"),  # 60,000 VND, the row is 50,000
    ]:
        r = await _resolve(finance, item_id, "mark_paid", reference)
        assert (r.status_code, r.json()["type"].rsplit("/", 1)[-1]) == (422, problem), r.text
        assert await _state(finance) == before
    r = await _resolve(finance, item_id, "mark_paid", "pay_t000005")
    assert r.status_code == 200, r.text
    assert r.json()["item"]["payment_id"] == "pay_t000005"
    async with finance.app.state.sessionmaker() as session:
        payment = await session.get_one(Payment, "pay_t000005")
        assert (payment.status, payment.provider_transaction_id) == ("succeeded", "T000099")
    # The same payment named for another transaction: a second charge, not this payment's.
    other = await _item(finance, momo_file(momo_row(98)), "missing_in_gateway")
    before = await _state(finance)
    r = await _resolve(finance, other, "mark_paid", "pay_t000005")
    assert (r.status_code, r.json()["payment_id"]) == (409, "pay_t000005"), r.text
    assert await _state(finance) == before


async def test_mark_paid_is_refused_where_nothing_unpaid_is_shown(finance: Finance) -> None:
    await finance.add_payment(1)
    item_id = await _item(finance, momo_file(momo_row(1, amount=40_000)), "amount_mismatch")
    before = await _state(finance)
    r = await _resolve(finance, item_id, "mark_paid", "pay_t000001")
    assert r.status_code == 422 and r.json()["reason"] == "not_an_unpaid_payment", r.text
    # The file says failed, the gateway succeeded: nothing the provider holds to settle a payment with.
    await finance.add_payment(2)
    failed = await _item(finance, momo_file(momo_row(2, result=1006)), "status_mismatch")
    r = await _resolve(finance, failed, "mark_paid", "pay_t000002")
    assert r.status_code == 422 and r.json()["reason"] == "not_paid_at_provider", r.text
    payments = (await _state(finance))[0]
    assert payments == [*before[0], ("pay_t000002", "succeeded")]  # type: ignore[misc]


async def test_a_refund_that_cannot_be_made_is_refused_and_changes_nothing(finance: Finance) -> None:
    await finance.add_payment(1)
    await finance.add_payment(3, status="expired")
    await finance.add_payment(5)  # not in the file
    await finance.add_payment(6)
    content = momo_file(momo_row(1), momo_row(1), momo_row(3, amount=30_000), momo_row(99), momo_row(6, result=1006))
    run = (await finance.upload(content)).json()
    by_category = {i["category"]: i["id"] for i in await finance.items(run["id"])}
    before = await _state(finance)
    for category, reason in [
        ("duplicate", "repeated_transaction"),
        ("amount_mismatch", "amounts_differ"),
        ("missing_in_gateway", "unknown_payment"),
        ("missing_in_provider", "not_paid_at_provider"),
        ("status_mismatch", "not_paid_at_provider"),  # the file says failed, the gateway succeeded
    ]:
        r = await _resolve(finance, by_category[category], "refund")
        assert (r.status_code, r.json().get("reason")) == (422, reason), r.text
        assert "detail" in r.json()
        assert await _state(finance) == before


async def test_a_payos_payment_cannot_be_refunded_through_its_api(finance: Finance) -> None:
    await finance.add_payment(4, provider="payos", status="expired")
    header = "orderCode,reference,amount,fee,description,accountNumber,transactionDateTime,status"
    row = f"REF000004,FT000004,50000,0,HS-4,0123456789,{PAID_AT.isoformat()},PAID"
    item_id = await _item(finance, f"{header}\r\n{row}\r\n".encode(), "status_mismatch", provider="payos")
    before = await _state(finance)
    r = await _resolve(finance, item_id, "refund")
    assert r.status_code == 422 and r.json()["type"].endswith("refund-not-offered"), r.text
    assert "payOS" in r.json()["detail"] or "payos" in r.json()["detail"].lower()
    assert await _state(finance) == before  # the payment is still expired: nothing was settled either


async def test_a_transaction_another_days_file_listed_is_a_duplicate(finance: Finance) -> None:
    await finance.add_payment(1)
    await finance.add_payment(2, status="processing")
    await finance.add_payment(3, paid_at=datetime(2026, 11, 20, 17, 5, tzinfo=UTC))  # 00:05 on the 21st in Vietnam
    first = (await finance.upload(momo_file(momo_row(1), momo_row(3)))).json()
    assert first["summary"]["categories"]["matched"]["count"] == 2
    # The next day's file lists transactions 1 and 3 again beside its own.
    next_day = momo_file(momo_row(1), momo_row(2), momo_row(3))
    second = (
        await finance.upload(next_day.replace(str(MS).encode(), str(MS + 86_400_000).encode()), day="2026-11-21")
    ).json()
    by_line = {
        i["line_no"]: (i["category"], i["settled_by_file"], i["payment_id"]) for i in await finance.items(second["id"])
    }
    assert by_line == {
        2: ("duplicate", False, "pay_t000001"),
        3: ("matched", True, "pay_t000002"),
        # Paid on the 21st and listed by the 20th's file: a duplicate here, not also missing from this file.
        4: ("duplicate", False, "pay_t000003"),
    }
    # Outside the window, the same id is another transaction (some providers number theirs per month).
    later = (await finance.upload(momo_file(momo_row(1), momo_row(5)), day="2026-12-20")).json()
    assert later["summary"]["categories"]["duplicate"]["count"] == 0
    # Another file for the same day is not another day's: transaction 2 is matched again, not a duplicate.
    again = (await finance.upload(momo_file(momo_row(2), momo_row(6)), day="2026-11-21")).json()
    assert again["summary"]["categories"]["duplicate"]["count"] == 0
    assert again["summary"]["categories"]["matched"]["count"] == 1


async def test_a_payment_the_file_shows_paid_and_the_gateway_expired_is_not_written_off(finance: Finance) -> None:
    await finance.add_payment(8, status="expired")
    item_id = await _item(finance, momo_file(momo_row(8)), "status_mismatch")
    before = await _state(finance)
    r = await _resolve(finance, item_id, "write_off")
    assert r.status_code == 422 and r.json()["type"].endswith("cannot-write-off"), r.text
    assert r.json()["reason"] == "may_still_succeed" and "mark_paid" in r.json()["detail"]
    assert await _state(finance) == before


async def test_writing_off_a_payment_the_gateway_counts_and_the_file_shows_failed_takes_it_from_the_clearing(
    finance: Finance,
) -> None:
    await finance.add_payment(9)
    item_id = await _item(finance, momo_file(momo_row(9, result=1006)), "status_mismatch")
    r = await _resolve(finance, item_id, "write_off")
    assert r.status_code == 200, r.text
    async with finance.app.state.sessionmaker() as session:
        rows = await session.execute(
            select(Posting.account_kind, Posting.account_key, Posting.amount)
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(JournalEntry.cause == "discrepancy_resolved")
        )
        assert sorted(rows) == [("provider_clearing", "momo", -50_000), ("write_offs", "momo", 50_000)]


async def _write_off_postings(finance: Finance) -> list[tuple[str, str, int]]:
    async with finance.app.state.sessionmaker() as session:
        rows = await session.execute(
            select(Posting.account_kind, Posting.account_key, Posting.amount)
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(JournalEntry.cause == "discrepancy_resolved")
        )
        return sorted((str(kind), str(key), int(amount)) for kind, key, amount in rows)


async def test_a_row_whose_payment_is_known_by_the_time_it_is_resolved_is_not_written_off(finance: Finance) -> None:
    [item_id] = [int(i["id"]) for i in await _items_of(finance, momo_file(momo_row(7)), "missing_in_gateway")]
    await finance.add_payment(7)  # paid meanwhile, by this very transaction: its own entry counts the money
    before = await _state(finance)
    r = await _resolve(finance, item_id, "write_off")
    assert r.status_code == 422 and r.json()["reason"] == "payment_known", r.text
    assert r.json()["payment_id"] == "pay_t000007"
    assert await _state(finance) == before
    # What does close it: mark_paid records the payment that settled it.
    assert (await _resolve(finance, item_id, "mark_paid", "pay_t000007")).status_code == 200


async def test_a_refund_rows_write_off_is_posted_from_the_clearings_side(finance: Finance) -> None:
    await finance.add_payment(1)
    await finance.add_refund("pay_t000001", 20_000, "RF1", PAID_AT)
    # The gateway counts the refund; the provider's file does not: the provider still holds the money.
    [item_id] = [int(i["id"]) for i in await _items_of(finance, momo_file(momo_row(1)), "missing_in_provider")]
    assert (await _resolve(finance, item_id, "write_off")).status_code == 200
    assert await _write_off_postings(finance) == [("provider_clearing", "momo", 20_000), ("suspense", "momo", -20_000)]


async def test_a_cod_rows_write_off_posts_nothing_to_a_providers_clearing(finance: Finance) -> None:
    header = "remittance_date,original_id,item_code,sale_order_code,customer_code,cod_amount,postage_collected,"
    header += "remitted_amount,delivered_at,remitted_at"
    at = "2026-11-20T10:00:00+07:00"
    row = f"2026-11-20,ORD9,EA123456791VN,shp_t9,C1,50000,0,50000,{at},{at}"
    [item_id] = [
        int(i["id"])
        for i in await _items_of(finance, f"{header}\r\n{row}\r\n".encode(), "missing_in_gateway", "vnpost")
    ]
    assert (await _resolve(finance, item_id, "write_off")).status_code == 200
    assert await _write_off_postings(finance) == []


async def test_a_refund_both_days_files_list_is_a_duplicate_naming_the_refund(finance: Finance) -> None:
    await finance.add_payment(1)
    await finance.add_refund("pay_t000001", 20_000, "RF1", datetime(2026, 11, 20, 17, 5, tzinfo=UTC))  # 00:05 the 21st
    content = momo_file(momo_row(1), momo_row(1, amount=20_000, kind="refund", txn="RF1"))
    await finance.upload(content)
    second = (
        await finance.upload(content.replace(str(MS).encode(), str(MS + 86_400_000).encode()), day="2026-11-21")
    ).json()
    items = {(i["kind"], i["category"], i["payment_id"], i["refund_id"]) for i in await finance.items(second["id"])}
    assert items == {("payment", "duplicate", "pay_t000001", None), ("refund", "duplicate", "pay_t000001", "rfd_rf1")}
    # The same transaction id with another amount is another transaction (ids numbered per day).
    third = (await finance.upload(momo_file(momo_row(1, amount=70_000)), day="2026-11-22")).json()
    assert third["summary"]["categories"]["duplicate"]["count"] == 0
