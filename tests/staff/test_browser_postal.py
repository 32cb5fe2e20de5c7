"""A postman on a phone, in a real headless Chromium, against the gateway served for real: finds a shipment by
its item number, records it out for delivery and delivered with a photo, and sees the timeline change; a
shipment of another post office is a 404."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, expect

from gateway.auth import new_client
from gateway.clock import clock
from gateway.db.engine import create_engine, create_sessionmaker
from tests.shipments.conftest import shipment_body
from tests.shipments.fake_carrier import OFFICE
from tests.staff import files
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


@pytest.fixture(scope="module")
def gateway_url(database_url: str) -> Iterator[str]:
    # The test carrier (tests/shipments/fake_carrier.py) in the served process, in place of VNPost.
    with served_gateway(database_url, "tests.staff.served_app:create") as url:
        yield url


def book(database_url: str, gateway_url: str) -> dict[str, str]:
    """A result delivery booked by a portal through the served API."""

    async def portal_key() -> str:
        engine = create_engine(database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                client, key = new_client("Cổng DVC tỉnh", clock.now(), None)
                session.add(client)
                await session.commit()
                return key
        finally:
            await engine.dispose()

    headers = {"Authorization": f"Bearer {run_async(portal_key())}", "Idempotency-Key": str(uuid.uuid4())}
    r = httpx.post(f"{gateway_url}/v1/shipments", json=shipment_body(), headers=headers, timeout=10)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_record_a_delivery_with_a_proof_photo_on_a_phone(browser: Browser, gateway_url: str, database_url: str) -> None:
    add_staff(database_url, "buuta.an", OFFICE)
    shipment = book(database_url, gateway_url)
    item = shipment["item_number"]
    with phone_page(browser, gateway_url) as phone:
        # A script or style the Content-Security-Policy blocked, or a script that failed, shows here.
        problems: list[str] = []
        phone.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        phone.on("pageerror", lambda error: problems.append(str(error)))
        log_in(phone, "buuta.an")
        expect(phone.get_by_role("heading", name="Việc hôm nay")).to_be_visible()
        expect(phone.get_by_text(item)).to_be_visible()
        assert fits_the_screen(phone)

        phone.get_by_label("Số hiệu bưu gửi").fill(item.lower())  # as a scanner, or a thumb, types it
        phone.get_by_role("button", name="Tìm").click()
        expect(phone.get_by_role("heading", name=item)).to_be_visible()
        assert fits_the_screen(phone)

        phone.get_by_text("Đang đi phát", exact=True).first.click()
        phone.get_by_role("button", name="Ghi nhận: Đang đi phát").click()
        expect(phone.get_by_role("status")).to_have_text("Đã ghi nhận: Đang đi phát.")
        expect(phone.locator("#status")).to_have_text("Đang đi phát")

        phone.get_by_text("Đã phát thành công", exact=True).click()
        phone.get_by_label("Họ tên người nhận").fill("Nguyễn Văn An")
        phone.get_by_label("Đã kiểm tra giấy tờ tùy thân").check()
        photo = files.jpeg((1200, 1600))
        phone.get_by_label("Ảnh hoặc chữ ký người nhận").set_input_files(
            {"name": "anh-giao-hang.jpg", "mimeType": "image/jpeg", "buffer": photo}
        )
        phone.get_by_role("button", name="Ghi nhận: Đã phát thành công").click()

        expect(phone.get_by_role("status")).to_have_text("Đã ghi nhận: Đã phát thành công.")
        expect(phone.locator("#status")).to_have_text("Đã phát")
        timeline = phone.locator("#timeline li")
        expect(timeline.first).to_contain_text("Đã phát")
        expect(timeline.first).to_contain_text("Người nhận: Nguyễn Văn An")
        expect(timeline.first).to_contain_text("staff:buuta.an")
        assert fits_the_screen(phone)
        # The proof is served back, byte for byte, in the staff member's session.
        proof = phone.request.get(timeline.first.get_by_role("link", name="Chứng từ").get_attribute("href") or "")
        assert proof.status == 200 and proof.body() == photo and proof.headers["content-type"] == "image/jpeg"
        assert problems == []


def test_another_office_s_shipment_is_404(browser: Browser, gateway_url: str, database_url: str) -> None:
    add_staff(database_url, "buuta.khac", "700000")
    shipment = book(database_url, gateway_url)
    with phone_page(browser, gateway_url) as phone:
        log_in(phone, "buuta.khac")
        expect(phone.get_by_text(shipment["item_number"])).to_have_count(0)
        response = phone.goto(f"/staff/postal/{shipment['id']}")
        assert response is not None and response.status == 404
        expect(phone.get_by_role("heading", name="Không tìm thấy")).to_be_visible()
        phone.goto("/staff/postal")
        phone.get_by_label("Số hiệu bưu gửi").fill(shipment["item_number"])
        phone.get_by_role("button", name="Tìm").click()
        expect(phone.get_by_role("heading", name="Không tìm thấy")).to_be_visible()
