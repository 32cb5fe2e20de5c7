"""E-receipts end to end: issued when a payment succeeds, as a PDF whose words, figures and QR code read
back; verified publicly by that QR code without personal data; cancelled by a full refund and adjusted by
a partial one; numbered without gaps."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from gateway.clock import VN_TZ
from gateway.db.models import Payment
from gateway.receipts.checks import check_receipts
from gateway.receipts.issuing import issue_receipt, series_for
from tests.harness import World, payment_body, reference_of, signed_ipn
from tests.receipts.helpers import paid, pdf_text, qr_codes, refund

pytestmark = pytest.mark.anyio


async def receipt_pdf(world: World, payment_id: str) -> httpx.Response:
    return await world.http.get(f"/v1/payments/{payment_id}/receipt", headers=world.auth())


def receipt_events(world: World) -> list[dict[str, Any]]:
    return [e for e in world.portal.events() if e["type"].startswith("receipt.")]


async def test_a_succeeded_payment_has_a_receipt_that_reads_back(world: World) -> None:
    payment = await paid(world)
    r = await receipt_pdf(world, payment["id"])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    text = pdf_text(r.content)
    series = series_for(world.app.state.settings, world.clock.now())
    for expected in (
        "BIÊN LAI THU PHÍ, LỆ PHÍ",
        "Mẫu số: 01BLP0-001",
        f"Ký hiệu: {series}",
        "Số: 0000001",
        "Đơn vị thu: 000.00.12.H29",
        "Người nộp: Nguyễn Văn An",
        "Mã hồ sơ: 000.00.12.H29-241123-0001",
        "Lệ phí cấp bản sao trích lục hộ tịch",
        "Cước bưu chính công ích trả kết quả",
        "8.000",
        "27.000",
        "35.000",
        "Ba mươi lăm nghìn đồng",
        "(GMT+7)",
        f"mã đơn hàng {reference_of(payment)}",
    ):
        assert expected in text, expected
    paid_at = world.clock.now().astimezone(VN_TZ)
    assert f"{paid_at:%d/%m/%Y}" in text
    [url] = qr_codes(r.content)
    assert url.startswith("http://gateway.test/receipts/verify/")
    assert url in text.replace("\n", "")

    verified = await world.http.get(url.removeprefix("http://gateway.test"), headers={"Accept": "application/json"})
    assert verified.status_code == 200
    assert verified.json() | {"issued_at": None} == {
        "genuine": True,
        "form": "01BLP0-001",
        "series": series,
        "number": 1,
        "kind": "original",
        "amount": 35000,
        "agency_code": "000.00.12.H29",
        "issued_at": None,
        "status": "issued",
        "cancelled_at": None,
    }
    page = await world.http.get(url.removeprefix("http://gateway.test"), headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Biên lai hợp lệ" in page.text and "35.000 đồng" in page.text and "0000001" in page.text
    for personal in ("Nguyễn Văn An", "0912345678", "an.nguyen@example.vn"):
        assert personal not in page.text and personal not in verified.text

    await world.run_dispatcher()
    [issued] = receipt_events(world)
    assert issued["type"] == "receipt.issued"
    assert issued["data"] | {"id": None, "issued_at": None} == {
        "id": None,
        "payment_id": payment["id"],
        "kind": "original",
        "form": "01BLP0-001",
        "series": series,
        "number": 1,
        "amount": 35000,
        "status": "issued",
        "issued_at": None,
        "cancelled_at": None,
        "original_id": None,
        "refund_id": None,
        "verify_url": url,
    }


async def test_a_forged_or_unknown_verification_code_is_not_genuine(world: World) -> None:
    await paid(world)
    r = await world.http.get(
        "/receipts/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", headers={"Accept": "application/json"}
    )
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    page = await world.http.get("/receipts/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "không hợp lệ" in page.text
    assert (await world.http.get("/receipts/verify/short")).status_code == 400
    assert (await world.http.get("/receipts/verify/" + "A" * 65)).status_code == 400


async def test_no_receipt_before_success_and_none_for_another_portal(world: World) -> None:
    payment = (await world.create_payment()).json()
    r = await receipt_pdf(world, payment["id"])
    assert r.status_code == 409 and r.json()["type"].endswith("receipt-not-issued")
    await world.open_checkout(payment["checkout_url"])
    await world.settle(reference_of(payment), "00")
    _, other_key = await world.add_client("Cổng DVC khác")
    other = await world.http.get(f"/v1/payments/{payment['id']}/receipt", headers=world.auth(other_key))
    assert other.status_code == 404
    assert (await world.http.get("/v1/payments/pay_nope/receipt", headers=world.auth())).status_code == 404


async def test_however_often_a_success_is_reported_one_receipt_is_issued(world: World) -> None:
    payment = (await world.create_payment()).json()
    await world.open_checkout(payment["checkout_url"])
    await world.faults(ipn_drop=True)
    await world.settle(reference_of(payment), "00")
    ipn = signed_ipn(payment)
    await asyncio.gather(
        *(world.http.get("/callbacks/vnpay/ipn", params=ipn) for _ in range(5)),
        world.app.state.resolver.resolve(payment["id"]),
    )
    listed = await world.http.get(f"/v1/payments/{payment['id']}/receipts", headers=world.auth())
    assert [r["number"] for r in listed.json()] == [1]
    async with world.app.state.sessionmaker() as session:
        assert await check_receipts(session) == []


async def test_numbers_follow_on_without_gaps_and_a_rolled_back_number_is_given_again(world: World) -> None:
    numbers = []
    for _ in range(3):
        payment = await paid(world)
        listed = await world.http.get(f"/v1/payments/{payment['id']}/receipts", headers=world.auth())
        numbers.append(listed.json()[0]["number"])
    assert numbers == [1, 2, 3]
    settings = world.app.state.settings
    pending = (await world.create_payment()).json()
    async with world.app.state.sessionmaker() as session:
        row = await session.get_one(Payment, pending["id"])
        extra = issue_receipt(session, settings, row, world.clock.now())
        await session.flush()
        assert extra.number == 4
        await session.rollback()  # the transaction that drew 4 did not happen: neither did its number
    fourth = await paid(world)
    listed = await world.http.get(f"/v1/payments/{fourth['id']}/receipts", headers=world.auth())
    assert listed.json()[0]["number"] == 4
    async with world.app.state.sessionmaker() as session:
        assert await check_receipts(session) == []


async def test_a_partial_refund_issues_an_adjustment_and_a_full_one_cancels(world: World) -> None:
    partly = await paid(world)
    await refund(world, partly["id"], amount=27000)
    listed = (await world.http.get(f"/v1/payments/{partly['id']}/receipts", headers=world.auth())).json()
    assert [(r["kind"], r["number"], r["amount"], r["status"]) for r in listed] == [
        ("original", 1, 35000, "adjusted"),
        ("adjustment", 2, 27000, "issued"),
    ]
    assert listed[1]["original_id"] == listed[0]["id"] and listed[1]["refund_id"]
    r = await world.http.get(f"/v1/payments/{partly['id']}/receipts/{listed[1]['id']}", headers=world.auth())
    text = pdf_text(r.content)
    assert "BIÊN LAI ĐIỀU CHỈNH GIẢM" in text and "Số: 0000002" in text and "Hai mươi bảy nghìn đồng" in text
    assert "số 0000001" in text

    wholly = await paid(world)
    await refund(world, wholly["id"])
    listed = (await world.http.get(f"/v1/payments/{wholly['id']}/receipts", headers=world.auth())).json()
    assert [(r["kind"], r["number"], r["status"]) for r in listed] == [("original", 3, "cancelled")]
    assert listed[0]["cancelled_at"] is not None
    assert "ĐÃ HỦY" in pdf_text((await receipt_pdf(world, wholly["id"])).content)
    token_path = listed[0]["verify_url"].removeprefix("http://gateway.test")
    verified = await world.http.get(token_path, headers={"Accept": "application/json"})
    assert verified.json()["status"] == "cancelled"

    while await world.run_dispatcher():
        pass
    assert [(e["type"], e["data"]["number"]) for e in receipt_events(world)] == [
        ("receipt.issued", 1),
        ("receipt.issued", 2),
        ("receipt.issued", 3),
        ("receipt.cancelled", 3),
    ]
    async with world.app.state.sessionmaker() as session:
        assert await check_receipts(session) == []


async def test_fee_lines_of_every_kind_print(world: World) -> None:
    lines = [
        {"kind": "fee", "code": "PHI", "description": "Phí thẩm định hồ sơ", "amount": 1_250_000},
        {"kind": "charge", "code": "LP", "description": "Lệ phí cấp giấy phép", "amount": 750_000},
    ]
    payment = await paid(world, payment_body(fee_lines=lines))
    text = pdf_text((await receipt_pdf(world, payment["id"])).content)
    assert "Hai triệu đồng" in text and "1.250.000" in text and "Phí thẩm định hồ sơ" in text
