"""GET /v1/reports/daily and /monthly: totals by agency, procedure and provider, as JSON, CSV and XLSX."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from gateway.db.models import Refund
from tests.reconciliation.world import PAID_AT, Finance, momo_file, momo_row

pytestmark = pytest.mark.anyio

LINES = [
    {"kind": "fee", "code": "PHI", "description": "Phí", "amount": 30_000},
    {"kind": "charge", "code": "LP", "description": "Lệ phí", "amount": 15_000},
    {"kind": "postage", "code": "BC", "description": "Cước", "amount": 5_000},
]


async def _day(finance: Finance) -> None:
    await finance.add_payment(1, lines=LINES)
    await finance.add_payment(2, lines=LINES)
    await finance.add_payment(3, lines=LINES, agency_code="SO-YT")
    await finance.add_payment(4, provider="vnpay", lines=LINES)
    await finance.add_payment(5, status="failed", lines=LINES)  # not paid: not counted
    # Paid the next day in Vietnam (00:30 on the 21st): not in the 20th's report, in November's.
    await finance.add_payment(6, lines=LINES, paid_at=PAID_AT + timedelta(hours=14, minutes=30))
    async with finance.app.state.sessionmaker() as session:
        session.add(
            Refund(
                id="rfd_t1",
                payment_id="pay_t000001",
                amount=10_000,
                status="succeeded",
                reason="hồ sơ bị từ chối",
                provider_request_id="r1",
                provider_codes={},
                created_at=PAID_AT,
                updated_at=PAID_AT + timedelta(hours=1),
                query_attempts=0,
            )
        )
        await session.commit()
    # MoMo's file charges 1.5% on payments 1 and 2 (the reconciliation's recorded provider fees).
    r = await finance.upload(momo_file(momo_row(1), momo_row(2), momo_row(3)))
    assert r.status_code == 201, r.text


async def test_daily_totals_by_agency_procedure_and_provider(finance: Finance) -> None:
    await _day(finance)
    r = await finance.http.get("/v1/reports/daily", params={"date": "2026-11-20"}, headers=finance.auth())
    assert r.status_code == 200, r.text
    body = r.json()
    groups = {(g["agency_code"], g["provider"]): g for g in body["groups"]}
    tp = groups[("SO-TP", "momo")]
    assert (tp["payments"], tp["fees"], tp["charges"], tp["postage"]) == (2, 60_000, 30_000, 10_000)
    assert (tp["refunds"], tp["provider_charges"]) == (10_000, 2 * 750)
    assert tp["net_to_remit"] == 60_000 + 30_000 - 10_000 - 1_500
    assert groups[("SO-YT", "momo")]["provider_charges"] == 750
    assert groups[("SO-TP", "vnpay")]["provider_charges"] == 0
    assert body["total"]["payments"] == 4
    monthly = await finance.http.get("/v1/reports/monthly", params={"month": "2026-11"}, headers=finance.auth())
    assert monthly.json()["total"]["payments"] == 5


async def test_csv_and_xlsx_carry_the_same_rows(finance: Finance) -> None:
    await _day(finance)
    params = {"date": "2026-11-20"}
    as_json = (await finance.http.get("/v1/reports/daily", params=params, headers=finance.auth())).json()
    r = await finance.http.get("/v1/reports/daily", params={**params, "format": "csv"}, headers=finance.auth())
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [int(row["net_to_remit"]) for row in rows] == [g["net_to_remit"] for g in as_json["groups"]] + [
        as_json["total"]["net_to_remit"]
    ]
    r = await finance.http.get("/v1/reports/daily", params={**params, "format": "xlsx"}, headers=finance.auth())
    sheet = load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0]
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0][0] == "agency_code" and cells[-1][-1] == as_json["total"]["net_to_remit"]
    assert [row[2] for row in cells[1:-1]] == [g["provider"] for g in as_json["groups"]]


async def test_reports_are_for_finance_clients_only(finance: Finance) -> None:
    r = await finance.http.get(
        "/v1/reports/daily", params={"date": "2026-11-20"}, headers=finance.auth(finance.other_key)
    )
    assert r.status_code == 403
    r = await finance.http.get("/v1/reports/monthly", params={"month": "2026-13"}, headers=finance.auth())
    assert r.status_code == 422
