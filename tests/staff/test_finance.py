"""/staff/finance in process: only finance staff see it; a settlement file imported from the page is the same
run as through the API (a bad one names its line and leaves nothing); discrepancies filter and resolve, with
each refusal shown; the totals, their chart and their exports, which the session's cookie downloads."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gateway.db.models import JournalEntry, Payment, ReconciliationItem, ReconciliationResolution, ReconciliationRun
from gateway.staff.accounts import Role
from gateway.staff.chart import BOTTOM, TOP, bar_chart
from tests.reconciliation.world import DAY, Finance, momo_file, momo_row
from tests.staff.helpers import StaffWorld, csrf_of

pytestmark = pytest.mark.anyio

LINES = [
    {"kind": "fee", "code": "PHI", "description": "Phí", "amount": 30_000},
    {"kind": "charge", "code": "LP", "description": "Lệ phí", "amount": 15_000},
    {"kind": "postage", "code": "BC", "description": "Cước", "amount": 5_000},
]
# Payment 1 matches, 2 is short in the file, 3 is missing from it, and the file has a row for nothing (99).
FILE = momo_file(momo_row(1), momo_row(2, amount=40_000), momo_row(99))


class FinancePage:
    def __init__(self, finance: Finance) -> None:
        self.finance = finance
        self.http = finance.http
        self.staff = StaffWorld(app=finance.app, http=finance.http, clock=finance.clock)

    async def log_in(self, username: str = "ketoan.hoa", role: Role = Role.FINANCE, office: str | None = None) -> None:
        await self.staff.add_staff(username, role, office)
        r = await self.staff.login(username)
        assert r.status_code == 303, r.text

    async def token(self) -> str:
        return csrf_of((await self.http.get("/staff/finance")).text)

    async def upload(
        self, content: bytes | None, provider: str = "momo", day: str = DAY, csrf: str | None = None
    ) -> httpx.Response:
        token = await self.token() if csrf is None else csrf
        files = {"file": ("momo.csv", content, "text/csv")} if content is not None else None
        return await self.http.post(
            "/staff/finance/runs",
            data={"csrf_token": token, "provider": provider, "business_date": day},
            files=files,
            follow_redirects=False,
        )

    async def resolve(self, item_id: int, csrf: str | None = None, **fields: str) -> httpx.Response:
        token = await self.token() if csrf is None else csrf
        return await self.http.post(
            f"/staff/finance/items/{item_id}/resolve", data={"csrf_token": token, **fields}, follow_redirects=False
        )

    async def items(self, **filters: str) -> tuple[int, str, list[tuple[int, str]]]:
        """The discrepancy page's status, text, and its items as (id, category)."""
        r = await self.http.get("/staff/finance/discrepancies", params=filters)
        found = re.findall(r'id="item-(\d+)" data-category="([a-z_]+)"', r.text)
        return r.status_code, r.text, [(int(i), c) for i, c in found]

    async def count(self, model: Any) -> int:
        async with self.finance.app.state.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    async def imported_run(self) -> str:
        await self.finance.add_payment(1, lines=LINES)
        await self.finance.add_payment(2, lines=LINES)
        await self.finance.add_payment(3, lines=LINES, agency_code="SO-YT")
        r = await self.upload(FILE)
        assert r.status_code == 303, r.text
        match = re.fullmatch(r"/staff/finance\?imported=(rcn_[a-z0-9]+)", r.headers["location"])
        assert match, r.headers["location"]
        return match.group(1)


@pytest.fixture
def fp(finance: Finance) -> FinancePage:
    return FinancePage(finance)


async def test_only_finance_staff_see_the_page_and_finance_lands_on_it(fp: FinancePage) -> None:
    for path in ("/staff/finance", "/staff/finance/discrepancies", "/staff/finance/totals"):
        r = await fp.http.get(path, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/staff/login")
    await fp.staff.add_staff("bt.an", Role.POSTAL, "100000")
    await fp.staff.login("bt.an")
    for path in ("/staff/finance", "/staff/finance/discrepancies", "/staff/finance/totals"):
        r = await fp.http.get(path)
        assert r.status_code == 403 and "Không có quyền" in r.text
    fp.http.cookies.clear()

    await fp.staff.add_staff("ketoan.hoa", Role.FINANCE, None)
    assert (await fp.staff.login("ketoan.hoa")).headers["location"] == "/staff/finance"
    r = await fp.http.get("/staff/finance")
    assert r.status_code == 200 and "Chưa có lần đối soát nào" in r.text
    assert r.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    login = await fp.http.get("/staff/login", follow_redirects=False)
    assert login.headers["location"] == "/staff/finance"


async def test_an_imported_file_shows_its_run_and_summary(fp: FinancePage) -> None:
    await fp.log_in()
    run_id = await fp.imported_run()
    page = await fp.http.get(f"/staff/finance?imported={run_id}")
    assert "Đã nhập tệp đối soát." in page.text
    card = page.text.split(f'id="run-{run_id}"')[1].split("Xem chênh lệch chưa xử lý")[0]
    counts = dict(re.findall(r'data-category="([a-z_]+)">.*?<strong>(\d+)</strong>', card, re.S))
    assert counts == {
        "matched": "1",
        "missing_in_provider": "1",
        "missing_in_gateway": "1",
        "amount_mismatch": "1",
        "status_mismatch": "0",
        "duplicate": "0",
    }
    assert "3 dòng" in card and "staff:ketoan.hoa" in card
    # The same as the API's run: the API sees it, made by the staff member.
    runs = (await fp.http.get("/v1/reconciliation/runs")).json()["items"]
    assert [(r["id"], r["file_rows"], r["created_by"]) for r in runs] == [(run_id, 3, "staff:ketoan.hoa")]

    again = await fp.upload(FILE)
    assert again.headers["location"] == f"/staff/finance?imported={run_id}&again=1"
    assert "đã được nhập trước đó" in (await fp.http.get(again.headers["location"])).text
    assert await fp.count(ReconciliationRun) == 1


async def test_a_bad_file_names_its_line_and_imports_nothing(fp: FinancePage) -> None:
    await fp.log_in()
    bad = momo_file(momo_row(1), "MOMO,REF000002,T000002,payment,0,50.000,750,qr,1")
    r = await fp.upload(bad)
    assert r.status_code == 422
    assert "lỗi ở dòng 3" in r.text and "Chưa nhập dòng nào" in r.text
    r = await fp.upload(b"orderId,amount\r\nREF1,10000\r\n")
    assert r.status_code == 422 and "lỗi ở dòng 1: the header is not momo" in r.text
    r = await fp.upload(None)
    assert r.status_code == 422 and "Chọn tệp đối soát." in r.text
    r = await fp.upload(FILE, provider="bitcoin", day="20/11/2026")
    assert r.status_code == 422 and "Chọn nhà cung cấp." in r.text and "Chọn ngày đối soát." in r.text
    r = await fp.upload(FILE, day=DAY + "0")
    assert r.status_code == 422 and "Chọn ngày đối soát." in r.text
    assert await fp.count(ReconciliationRun) == 0
    assert await fp.count(ReconciliationItem) == 0


async def test_a_form_without_the_session_s_token_changes_nothing(fp: FinancePage) -> None:
    await fp.log_in()
    run_id = await fp.imported_run()
    assert (await fp.upload(momo_file(momo_row(5)), csrf="")).status_code == 403
    assert (await fp.upload(momo_file(momo_row(5)), csrf="x" * 40)).status_code == 403
    assert await fp.count(ReconciliationRun) == 1
    _, _, items = await fp.items(run=run_id)
    r = await fp.resolve(items[0][0], csrf="", action="write_off", note="bỏ qua")
    assert r.status_code == 403 and "Biểu mẫu đã hết hạn" in r.text
    assert await fp.count(ReconciliationResolution) == 0


async def test_filters_by_run_provider_category_and_state(fp: FinancePage) -> None:
    await fp.log_in()
    run_id = await fp.imported_run()
    status, _, items = await fp.items()
    assert status == 200
    assert sorted(c for _, c in items) == ["amount_mismatch", "missing_in_gateway", "missing_in_provider"]
    assert [i for i, _ in items] == sorted((i for i, _ in items), reverse=True)  # newest first
    _, _, only = await fp.items(run=run_id, category="amount_mismatch")
    assert [c for _, c in only] == ["amount_mismatch"]
    assert (await fp.items(provider="vnpay"))[2] == []
    assert len((await fp.items(provider="momo"))[2]) == 3
    assert (await fp.items(run="rcn_nothere"))[2] == []
    assert (await fp.items(state="resolved"))[2] == []

    # The form carries the list's filters, to go back to the same list.
    note = "Lệch 10.000 đ, đã đối chiếu với MoMo"
    r = await fp.resolve(only[0][0], run=run_id, category="amount_mismatch", action="write_off", note=note)
    assert r.status_code == 303
    back = f"/staff/finance/discrepancies?run={run_id}&category=amount_mismatch&state=open&resolved={only[0][0]}"
    assert r.headers["location"] == back
    open_now = [i for i, _ in (await fp.items())[2]]
    assert only[0][0] not in open_now and len(open_now) == 2
    assert [i for i, _ in (await fp.items(state="resolved"))[2]] == [only[0][0]]
    assert len((await fp.items(state="all"))[2]) == 3

    status, text, items = await fp.items(category="matched", state="later", provider="x" * 30, run="a'b")
    assert status == 422 and "Bộ lọc có giá trị không hợp lệ" in text
    assert len(items) == 2  # the bad values dropped: the open discrepancies of every run


async def test_resolve_shows_success_and_every_refusal(fp: FinancePage) -> None:
    await fp.log_in()
    await fp.imported_run()
    _, _, items = await fp.items()
    first, second = items[0][0], items[1][0]

    r = await fp.resolve(first, action="write_off", note="   ")
    assert r.status_code == 422 and "Nhập ghi chú" in r.text
    r = await fp.resolve(first, action="pay_later", note="x")
    assert r.status_code == 422 and "Chọn cách xử lý." in r.text
    r = await fp.resolve(first, action="write_off", note="x" * 2001)
    assert r.status_code == 422 and "tối đa 2000 ký tự" in r.text
    r = await fp.resolve(first, action="write_off", note="ữ" * 2000, reference="x" * 101)
    assert r.status_code == 422 and "Mã tham chiếu tối đa 100 ký tự." in r.text  # the longest note is let through
    r = await fp.resolve(first, action="mark_paid", note="Khách đã chuyển khoản")
    assert r.status_code == 422 and "cần mã tham chiếu" in r.text
    assert "Khách đã chuyển khoản" in r.text  # what was typed is kept
    assert await fp.count(ReconciliationResolution) == 0

    r = await fp.resolve(first, action="write_off", note="Khách đã chuyển khoản", reference="BB-2026-11-20")
    assert r.status_code == 303
    page = await fp.http.get(r.headers["location"])
    assert f"Đã xử lý khoản #{first}." in page.text
    resolved = (await fp.items(state="resolved"))[1]
    card = resolved.split(f'id="item-{first}"')[1]
    assert "Ghi giảm (xoá nợ) · tham chiếu BB-2026-11-20 · staff:ketoan.hoa" in card
    assert "Khách đã chuyển khoản" in card

    r = await fp.resolve(first, action="write_off", note="lần nữa")
    assert r.status_code == 409 and "đã được xử lý trước đó" in r.text
    r = await fp.resolve(2_000_000, action="write_off", note="x")
    assert r.status_code == 404
    async with fp.finance.app.state.sessionmaker() as session:
        matched = await session.scalar(select(ReconciliationItem.id).where(ReconciliationItem.category == "matched"))
    r = await fp.resolve(int(matched or 0), action="write_off", note="x")
    assert r.status_code == 409 and "không cần xử lý" in r.text
    assert await fp.count(ReconciliationResolution) == 1

    r = await fp.resolve(second, action="write_off", note="Không thu hồi được")
    assert r.status_code == 303
    assert await fp.count(ReconciliationResolution) == 2


async def test_mark_paid_from_the_page_settles_the_payment(fp: FinancePage) -> None:
    """The page's resolve acts as the API's does: a payment the file shows paid and the gateway expired
    becomes succeeded, with its ledger entry, through the payments' own path."""
    await fp.log_in()
    await fp.finance.add_payment(7, lines=LINES, status="expired")
    assert (await fp.upload(momo_file(momo_row(7)))).status_code == 303
    [(item, category)] = (await fp.items())[2]
    assert category == "status_mismatch"
    r = await fp.resolve(item, action="mark_paid", note="Tiền đã về MoMo", reference="pay_t000007")
    assert r.status_code == 303, r.text
    async with fp.finance.app.state.sessionmaker() as session:
        payment = await session.get_one(Payment, "pay_t000007")
        assert payment.status == "succeeded"
        assert await session.scalar(select(JournalEntry.cause).where(JournalEntry.cause_id == payment.id)) == (
            "payment_succeeded"
        )


async def test_totals_chart_and_exports_in_the_session(fp: FinancePage) -> None:
    await fp.log_in()
    await fp.imported_run()
    r = await fp.http.get("/staff/finance/totals", params={"from": "2026-11-18", "to": DAY})
    assert r.status_code == 200
    rows = re.findall(r"<tr>\s*<td>(\d\d/\d\d/\d{4})</td><td>(\d+)</td>.*?<strong>([-\d.]+)</strong>", r.text, re.S)
    # Three payments of 30.000 fee + 15.000 charge; MoMo's 1.5% on the one matched row (payment 1).
    assert rows == [("18/11/2026", "0", "0"), ("19/11/2026", "0", "0"), ("20/11/2026", "3", "134.250")]
    bars = re.findall(r'<rect class="bar" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', r.text)
    assert len(bars) == 3 and float(bars[0]) == 0 and float(bars[2]) > 0
    assert "SO-YT" in r.text.split('id="groups"')[1]

    links = dict.fromkeys(re.findall(r'href="(/v1/reports/[^"]+)"', r.text.replace("&amp;", "&")))
    assert "/v1/reports/daily?date=2026-11-20&format=csv" in links
    assert "/v1/reports/monthly?month=2026-11&format=xlsx" in links
    # No API key: the finance staff session's cookie is enough to download them.
    for link in links:
        assert (await fp.http.get(link)).status_code == 200, link
    export = await fp.http.get("/v1/reports/daily?date=2026-11-20&format=csv")
    assert "attachment" in export.headers["content-disposition"]
    total = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))[-1]
    assert total["net_to_remit"] == "134250"

    r = await fp.http.get("/staff/finance/totals", params={"from": "2026-01-01", "to": DAY})
    assert r.status_code == 422 and "Chọn tối đa 31 ngày." in r.text
    r = await fp.http.get("/staff/finance/totals", params={"from": DAY + "0", "to": DAY})
    assert r.status_code == 422 and "Ngày bắt đầu không hợp lệ" in r.text
    r = await fp.http.get("/staff/finance/totals", params={"from": "x", "to": "2999-01-01"})
    assert r.status_code == 422 and "không sau hôm nay" in r.text


async def test_postal_staff_may_not_download_the_exports(fp: FinancePage) -> None:
    await fp.log_in("bt.an", Role.POSTAL, "100000")
    assert (await fp.http.get("/v1/reports/daily?date=2026-11-20&format=csv")).status_code == 403


def test_the_chart_puts_zero_where_the_values_say() -> None:
    chart = bar_chart([("01/11", 300), ("02/11", -100), ("03/11", 0)])
    up, down, flat = chart.bars
    assert up.y + up.height == chart.zero_y == down.y  # both stand on the axis, one above, one below
    assert up.height == 3 * down.height and flat.height == 0
    assert not up.negative and down.negative
    assert up.y == TOP and down.y + down.height == chart.height - BOTTOM  # the scale spans the plot exactly
    assert [b.height for b in bar_chart([("01/11", 0)]).bars] == [0]  # nothing to scale: no division by zero
