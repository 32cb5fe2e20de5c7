"""Finance staff in a real headless Chromium, against the gateway served for real: import the MoMo simulator's
settlement file with discrepancies injected, see the run's summary, filter to a category, resolve one item
with a note and see it resolved, see the day's totals drawn as a chart, and download an export."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from gateway.app import create_app
from gateway.auth import new_client
from gateway.clock import VN_TZ
from gateway.settings import Settings
from simulators.momo import create_app as momo_app
from tests.reconciliation.world import Finance
from tests.staff.browser import (
    add_staff,
    fits_the_screen,
    log_in,
    needs_chromium,
    phone_page,
    run_async,
    served_gateway,
)

pytestmark = needs_chromium
LINES = [
    {"kind": "fee", "code": "PHI", "description": "Phí", "amount": 30_000},
    {"kind": "postage", "code": "BC", "description": "Cước", "amount": 20_000},
]


@pytest.fixture(scope="module")
def gateway_url(database_url: str) -> Iterator[str]:
    with served_gateway(database_url) as url:
        yield url


async def _paid_an_hour_ago(database_url: str) -> None:
    """A MoMo payment the gateway counts as paid today, which MoMo's file will not show: added as the finance
    tests add theirs (tests/reconciliation/world.py), by an app of its own on the served database."""
    app = create_app(Settings(database_url=database_url, workers_enabled=False, demo_enabled=False))
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        async with app.state.sessionmaker() as session:
            client, key = new_client("Cổng DVC tỉnh", datetime.now(UTC), None)
            session.add(client)
            await session.commit()
        world = Finance(app, http, client, key, key, app.state.clock)
        await world.add_payment(1, lines=LINES, paid_at=datetime.now(UTC) - timedelta(hours=1))


async def _momo_file(day: str) -> bytes:
    """MoMo's file of `day` from its simulator, with two transactions the merchant never made."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=momo_app()), base_url="http://sim.test") as sim:
        assert (await sim.put("/_sim/momo/settlement/discrepancies", json={"extra": 2})).status_code == 200
        r = await sim.get("/_sim/momo/settlement", params={"date": day})
        assert r.status_code == 200, r.text
        return r.content


def test_import_filter_resolve_chart_and_export(browser: Browser, gateway_url: str, database_url: str) -> None:
    add_staff(database_url, "ketoan.lan", None, "finance")
    run_async(_paid_an_hour_ago(database_url))
    today = (datetime.now(UTC) - timedelta(hours=1)).astimezone(VN_TZ).date().isoformat()
    content = run_async(_momo_file(today))
    with phone_page(browser, gateway_url) as phone:
        problems: list[str] = []
        phone.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        phone.on("pageerror", lambda error: problems.append(str(error)))
        log_in(phone, "ketoan.lan")
        expect(phone.get_by_role("heading", name="Đối soát với nhà cung cấp")).to_be_visible()
        assert fits_the_screen(phone)

        # Import: the upload form is open while there is no run yet.
        phone.get_by_label("Nhà cung cấp").select_option("momo")
        phone.get_by_label("Ngày đối soát").fill(today)
        phone.get_by_label("Tệp đối soát (CSV hoặc XLSX)").set_input_files(
            {"name": f"momo-{today}.csv", "mimeType": "text/csv", "buffer": content}
        )
        phone.get_by_role("button", name="Nhập và đối soát").click()
        expect(phone.get_by_role("status")).to_have_text("Đã nhập tệp đối soát.")
        run = phone.locator("#runs > li").first
        expect(run).to_contain_text("2 dòng")
        expect(run.locator('[data-category="missing_in_gateway"]')).to_contain_text("Không có trên cổng: 2")
        expect(run.locator('[data-category="missing_in_provider"]')).to_contain_text("Thiếu trong tệp đối soát: 1")
        expect(run.locator('[data-category="matched"]')).to_contain_text("Khớp: 0")
        assert fits_the_screen(phone)

        # Filter to one category.
        phone.get_by_role("link", name="Chênh lệch", exact=True).click()
        expect(phone.locator("#items > li")).to_have_count(3)
        phone.get_by_label("Loại chênh lệch").select_option(label="Không có trên cổng")
        phone.get_by_role("button", name="Lọc").click()
        items = phone.locator("#items > li")
        expect(items).to_have_count(2)
        for n in range(2):
            expect(items.nth(n)).to_have_attribute("data-category", "missing_in_gateway")
        assert fits_the_screen(phone)

        # Resolve one with a note.
        first = items.first
        item_id = (first.get_attribute("id") or "").removeprefix("item-")
        first.get_by_text(f"Xử lý khoản #{item_id}").click()
        first.get_by_label("Cách xử lý").select_option("write_off")
        first.get_by_label("Ghi chú (bắt buộc)").fill("Giao dịch không có trên cổng, MoMo xác nhận nhầm")
        first.get_by_role("button", name=f"Xác nhận xử lý #{item_id}").click()
        expect(phone.get_by_role("status")).to_have_text(f"Đã xử lý khoản #{item_id}.")
        expect(phone.locator("#items > li")).to_have_count(1)  # the open ones of the category are left
        expect(phone.get_by_label("Loại chênh lệch")).to_have_value("missing_in_gateway")
        phone.get_by_label("Trạng thái").select_option(label="Đã xử lý")
        phone.get_by_role("button", name="Lọc").click()
        resolved = phone.locator(f"#item-{item_id}")
        expect(resolved).to_contain_text("Đã xử lý")
        expect(resolved).to_contain_text("Ghi giảm (xoá nợ)")
        expect(resolved).to_contain_text("staff:ketoan.lan")
        expect(resolved).to_contain_text("MoMo xác nhận nhầm")

        # The totals of the last seven days, drawn on the server: today's bar stands, the others are flat.
        phone.get_by_role("link", name="Tổng hợp", exact=True).click()
        bars = phone.locator("#chart rect.bar")
        expect(bars).to_have_count(7)
        assert float(bars.last.get_attribute("height") or 0) > 0
        assert float(bars.first.get_attribute("height") or 1) == 0
        expect(phone.locator("#daily tbody tr").last).to_contain_text("30.000")
        assert fits_the_screen(phone)

        # An export, downloaded with the session's cookie alone.
        with phone.expect_download() as download:
            phone.locator("#exports").get_by_role("link", name="CSV").last.click()  # this month
        saved = download.value
        assert re.fullmatch(r"dvc-gateway-\d{4}-\d{2}\.csv", saved.suggested_filename)
        text = Path(saved.path()).read_text(encoding="utf-8-sig")
        assert text.splitlines()[0].startswith("agency_code,procedure_code,provider")
        assert "SO-TP,1.001,momo,1,30000,0,20000,0,0,30000" in text
        assert problems == []


def test_on_a_desktop_the_page_is_wider_and_postal_staff_are_refused(
    browser: Browser, gateway_url: str, database_url: str
) -> None:
    add_staff(database_url, "ketoan.minh", None, "finance")
    add_staff(database_url, "buuta.binh", "100000", "postal")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=gateway_url, locale="vi-VN")
    try:
        desk = context.new_page()
        log_in(desk, "ketoan.minh")
        expect(desk.get_by_role("heading", name="Đối soát với nhà cung cấp")).to_be_visible()
        desk.goto("/staff/finance/totals")
        expect(desk.locator("#groups")).to_be_visible()
        assert fits_the_screen(desk)
        assert float(desk.evaluate("document.querySelector('main').getBoundingClientRect().width")) > 800
    finally:
        context.close()
    with phone_page(browser, gateway_url) as phone:
        log_in(phone, "buuta.binh")
        response = phone.goto("/staff/finance")
        assert response is not None and response.status == 403
        expect(phone.get_by_role("heading", name="Không có quyền")).to_be_visible()
