"""Logging in on a phone in a real headless Chromium against the gateway served for real (`dvc-gateway serve`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from gateway.settings import Settings
from tests.staff.browser import (
    add_staff,
    fits_the_screen,
    log_in,
    needs_chromium,
    phone_page,
    served_gateway,
)
from tests.staff.helpers import PASSWORD

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def gateway_url(database_url: str) -> Iterator[str]:
    with served_gateway(database_url) as url:
        yield url


@pytest.fixture
def phone(browser: Browser, gateway_url: str) -> Iterator[Page]:
    with phone_page(browser, gateway_url) as page:
        yield page


def test_log_in_and_out_on_a_phone(phone: Page, database_url: str) -> None:
    add_staff(database_url, "bt.phone")
    phone.goto("/staff")
    expect(phone).to_have_url(phone.url.split("/staff")[0] + "/staff/login")
    assert fits_the_screen(phone)

    log_in(phone, "bt.phone", PASSWORD)
    expect(phone.get_by_role("heading", name="Việc hôm nay")).to_be_visible()
    assert fits_the_screen(phone)
    cookie = next(c for c in phone.context.cookies() if c["name"] == "dvcgw_staff")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert phone.evaluate("document.cookie") == ""  # no script of the page can read the session

    phone.get_by_role("button", name="Đăng xuất").click()
    expect(phone.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    phone.goto("/staff")
    expect(phone.get_by_role("heading", name="Đăng nhập")).to_be_visible()


def test_a_wrong_password_shows_an_error(phone: Page, database_url: str) -> None:
    add_staff(database_url, "bt.wrong")
    log_in(phone, "bt.wrong", "không phải mật khẩu")
    expect(phone.get_by_role("alert")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
    expect(phone.get_by_label("Tên đăng nhập")).to_have_value("bt.wrong")
    assert fits_the_screen(phone)


def test_repeated_failures_lock_the_account(phone: Page, database_url: str) -> None:
    add_staff(database_url, "bt.locked")
    failures = Settings().staff_lockout_failures
    for _ in range(failures - 1):
        log_in(phone, "bt.locked", "không phải mật khẩu")
        expect(phone.get_by_role("alert")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
    log_in(phone, "bt.locked", "không phải mật khẩu")
    expect(phone.get_by_role("alert")).to_contain_text("Tài khoản tạm khoá")
    log_in(phone, "bt.locked", PASSWORD)  # the right password, while locked
    expect(phone.get_by_role("alert")).to_contain_text("Tài khoản tạm khoá")
