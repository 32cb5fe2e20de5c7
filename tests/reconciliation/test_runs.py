"""Importing a settlement file through POST /v1/reconciliation/runs: every category, idempotency, bad files."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gateway.db.models import Payment, PaymentEvent, ReconciliationItem, ReconciliationRun, WebhookEvent
from tests.reconciliation.world import Finance, momo_file, momo_row

pytestmark = pytest.mark.anyio


async def test_each_row_ends_in_exactly_one_category(finance: Finance) -> None:
    for n in range(1, 7):
        await finance.add_payment(n)
    await finance.add_payment(7, status="failed")
    content = momo_file(
        momo_row(1),  # matched
        momo_row(2, amount=49_000),  # amount_mismatch
        momo_row(3),
        momo_row(3),  # the same transaction twice: duplicate
        momo_row(7),  # the gateway says failed, the provider paid: status_mismatch
        momo_row(99),  # the gateway never saw it: missing_in_gateway
        momo_row(4, txn="OTHER4"),  # found by order reference when the transaction id is unknown
        # 5 and 6 are not in the file: missing_in_provider
    )
    r = await finance.upload(content)
    assert r.status_code == 201, r.text
    run = r.json()
    categories = {c: v["count"] for c, v in run["summary"]["categories"].items()}
    assert categories == {
        "matched": 3,
        "amount_mismatch": 1,
        "duplicate": 1,
        "status_mismatch": 1,
        "missing_in_gateway": 1,
        "missing_in_provider": 2,
    }
    items = await finance.items(run["id"])
    by_line = {i["line_no"]: i["category"] for i in items if i["line_no"]}
    assert by_line == {
        2: "matched",
        3: "amount_mismatch",
        4: "matched",
        5: "duplicate",
        6: "status_mismatch",
        7: "missing_in_gateway",
        8: "matched",
    }
    missing = await finance.items(run["id"], "missing_in_provider")
    assert sorted(i["payment_id"] for i in missing) == ["pay_t000005", "pay_t000006"]
    assert run["summary"]["file"]["fees"] == sum(a * 15 // 1000 for a in [50_000] * 6 + [49_000])


async def test_reimporting_the_same_file_answers_the_same_run(finance: Finance) -> None:
    await finance.add_payment(1)
    content = momo_file(momo_row(1))
    first = await finance.upload(content)
    again = await finance.upload(content, name="renamed.csv")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    async with finance.app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ReconciliationRun)) == 1
        assert await session.scalar(select(func.count()).select_from(ReconciliationItem)) == 1


async def test_a_bad_row_names_its_line_and_imports_nothing(finance: Finance) -> None:
    await finance.add_payment(1)
    await finance.add_payment(2, status="processing")
    rows = [momo_row(1), momo_row(2)] + [momo_row(10 + n) for n in range(3)]
    rows[3] = rows[3].replace(",50000,", ",5O000,")  # a letter O in the amount, line 5
    r = await finance.upload(momo_file(*rows))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["line"] == 5 and "line 5" in problem["detail"] and "amount" in problem["detail"]
    async with finance.app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ReconciliationRun)) == 0
        assert await session.scalar(select(func.count()).select_from(ReconciliationItem)) == 0
        # The processing payment the file's good rows would have settled is untouched.
        assert (await session.get_one(Payment, "pay_t000002")).status == "processing"


async def test_wrong_layout_and_encoding_are_refused_at_their_line(finance: Finance) -> None:
    wrong = await finance.upload(b"orderCode,reference,amount\r\n1,2,3\r\n")
    assert wrong.status_code == 422 and wrong.json()["line"] == 1
    latin1 = momo_file(momo_row(1), momo_row(2).replace("qr", "qr\xe9")).replace(b"\xc3\xa9", b"\xe9")
    bad = await finance.upload(latin1)
    assert bad.status_code == 422 and "UTF-8" in bad.json()["detail"], bad.text
    xlsx = await finance.upload(momo_file(momo_row(1)), provider="vnpay")
    assert xlsx.status_code == 422 and xlsx.json()["line"] == 1


async def test_processing_payments_are_settled_by_the_file_and_the_portal_told(finance: Finance) -> None:
    await finance.add_payment(1, status="processing")
    await finance.add_payment(2, status="pending")
    r = await finance.upload(momo_file(momo_row(1), momo_row(2)))
    assert r.json()["summary"]["categories"]["matched"]["count"] == 2
    items = await finance.items(r.json()["id"])
    assert all(i["settled_by_file"] for i in items)
    async with finance.app.state.sessionmaker() as session:
        for payment_id in ("pay_t000001", "pay_t000002"):
            payment = await session.get_one(Payment, payment_id)
            assert payment.status == "succeeded" and payment.provider_transaction_id is not None
            events = list(await session.scalars(select(PaymentEvent).where(PaymentEvent.payment_id == payment_id)))
            assert [e.cause for e in events] == ["settlement"]
        hooks = list(await session.scalars(select(WebhookEvent.type)))
        assert sorted(hooks) == ["payment.succeeded", "payment.succeeded", "receipt.issued", "receipt.issued"]


async def test_only_finance_clients_may_import(finance: Finance) -> None:
    r = await finance.upload(momo_file(momo_row(1)), key=finance.other_key)
    assert r.status_code == 403
    r = await finance.http.get("/v1/reconciliation/runs")
    assert r.status_code == 401


async def test_vnpost_cod_remittance_matches_shipments(finance: Finance) -> None:
    from datetime import timedelta

    from gateway.db.models import Shipment
    from tests.reconciliation.world import PAID_AT

    def shipment(n: int, status: str) -> Shipment:
        return Shipment(
            id=f"shp_t{n}",
            client_id=finance.client.id,
            kind="result_delivery",
            dossier_code=f"HS-{n}",
            procedure="Cấp phiếu lý lịch tư pháp",
            postage_mode="sender",
            cod_amount=120_000,
            carrier="vnpost",
            service="EMS",
            booking="booked",
            booking_attempts=1,
            carrier_order_id=f"ORD{n}",
            status=status,
            failed_attempts=0,
            sender={},
            recipient={},
            parcel={},
            documents=[],
            note="",
            created_at=PAID_AT - timedelta(days=2),
            updated_at=PAID_AT,
            version=1,
        )

    async with finance.app.state.sessionmaker() as session:
        session.add_all([shipment(1, "delivered"), shipment(2, "in_transit")])
        await session.commit()
    header = "remittance_date,original_id,item_code,sale_order_code,customer_code,cod_amount,postage_collected,"
    header += "remitted_amount,delivered_at,remitted_at"
    at = "2026-11-20T10:00:00+07:00"
    rows = [
        f"2026-11-20,ORD1,EA123456789VN,shp_t1,C1,120000,0,120000,{at},{at}",
        f"2026-11-20,ORD2,EA123456790VN,shp_t2,C1,120000,0,120000,{at},{at}",  # not delivered here
        f"2026-11-20,ORD9,EA123456791VN,shp_t9,C1,50000,0,50000,{at},{at}",  # no such shipment
    ]
    r = await finance.upload(("\r\n".join([header, *rows]) + "\r\n").encode(), provider="vnpost")
    assert r.status_code == 201, r.text
    items = await finance.items(r.json()["id"])
    assert [(i["shipment_id"], i["category"]) for i in items] == [
        ("shp_t1", "matched"),
        ("shp_t2", "status_mismatch"),
        (None, "missing_in_gateway"),
    ]


async def test_an_upload_larger_than_a_json_body_is_taken(finance: Finance) -> None:
    content = momo_file(*(momo_row(n) for n in range(1, 3001)))
    assert len(content) > 64 * 1024  # the API's limit for JSON bodies
    r = await finance.upload(content, name="momo\x00.csv")
    assert r.status_code == 201, r.text
    assert r.json()["summary"]["categories"]["missing_in_gateway"]["count"] == 3000
