"""/staff/postal in process: a post office's staff see and update only their office's shipments, each
action shows in the timeline at once, proofs are checked and served only to whom they belong."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.clock import Clock
from gateway.db.models import ProofFile, ShipmentEvent, StaffAccount
from gateway.errors import NotFound
from gateway.settings import Settings
from gateway.staff.accounts import Role
from gateway.staff.proofs import check_proof_async, proof_of_shipment, proof_response, store_proof
from tests.shipments.fake_carrier import OFFICE, FakeCarrier
from tests.staff import files
from tests.staff.helpers import GATEWAY, StaffWorld, add_portal, book_shipment, csrf_of

pytestmark = pytest.mark.anyio


class PostalWorld(StaffWorld):
    api_key: str = ""

    async def book(self, **overrides: Any) -> dict[str, Any]:
        return await book_shipment(self.http, self.api_key, **overrides)

    async def act(
        self, shipment_id: str, status: str, proof: bytes | None = None, csrf: str | None = None, **fields: str
    ) -> httpx.Response:
        page = await self.http.get(f"/staff/postal/{shipment_id}")
        token = csrf if csrf is not None else csrf_of(page.text)
        upload = {"proof": ("anh.jpg", proof, "image/jpeg")} if proof is not None else None
        return await self.http.post(
            f"/staff/postal/{shipment_id}/events",
            data={"csrf_token": token, "status": status, **fields},
            files=upload,
            follow_redirects=False,
        )

    async def events(self, shipment_id: str) -> list[dict[str, Any]]:
        r = await self.http.get(
            f"/v1/shipments/{shipment_id}/events", headers={"Authorization": f"Bearer {self.api_key}"}
        )
        assert r.status_code == 200, r.text
        return list(r.json())

    async def count(self, model: Any) -> int:
        async with self.app.state.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def postal(settings: Settings) -> AsyncIterator[PostalWorld]:
    clock = Clock()
    app = create_app(settings, clock=clock, carrier=FakeCarrier())
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as http:
        world = PostalWorld(app=app, http=http, clock=clock)
        world.api_key = await add_portal(app, clock)
        await world.add_staff("bt.an", Role.POSTAL, OFFICE)
        await world.add_staff("bt.khac", Role.POSTAL, "700000")
        await world.add_staff("ketoan", Role.FINANCE, None)
        yield world


async def test_today_lists_my_office_s_pickups_and_deliveries(postal: PostalWorld) -> None:
    delivery = await postal.book()
    pickup = await postal.book(kind="dossier_pickup")
    assert (await postal.login("bt.an")).headers["location"] == "/staff/postal"
    today = await postal.http.get("/staff/postal")
    assert today.status_code == 200
    pickups, deliveries = today.text.split("Phát kết quả")
    assert pickup["item_number"] in pickups and delivery["item_number"] in deliveries

    postal.http.cookies.clear()
    await postal.login("bt.khac")
    other = await postal.http.get("/staff/postal")
    assert delivery["item_number"] not in other.text and pickup["item_number"] not in other.text


async def test_finance_and_strangers_cannot_open_the_postal_page(postal: PostalWorld) -> None:
    shipment = await postal.book()
    r = await postal.http.get(f"/staff/postal/{shipment['id']}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/staff/login"
    await postal.login("ketoan")
    assert (await postal.http.get("/staff/postal")).status_code == 403
    assert (await postal.http.get(f"/staff/postal/{shipment['id']}")).status_code == 403


async def test_an_item_number_typed_or_scanned_finds_the_shipment_of_my_office_only(postal: PostalWorld) -> None:
    shipment = await postal.book()
    booked = await postal.events(shipment["id"])
    await postal.login("bt.an")
    found = await postal.http.get(
        "/staff/postal/find", params={"item": f" {shipment['item_number'].lower()} "}, follow_redirects=True
    )
    assert found.status_code == 200 and shipment["item_number"] in found.text and "Hành trình" in found.text

    postal.http.cookies.clear()
    await postal.login("bt.khac")
    for path in (f"/staff/postal/find?item={shipment['item_number']}", f"/staff/postal/{shipment['id']}"):
        r = await postal.http.get(path)
        assert r.status_code == 404 and "Không tìm thấy" in r.text
    # Another office's shipment cannot be acted on either, even with a valid token of one's own session.
    token = csrf_of((await postal.http.get("/staff/postal")).text)
    r = await postal.http.post(
        f"/staff/postal/{shipment['id']}/events", data={"csrf_token": token, "status": "out_for_delivery"}
    )
    assert r.status_code == 404
    assert await postal.events(shipment["id"]) == booked


async def test_a_pickup_records_the_documents_counted_and_the_fees(postal: PostalWorld) -> None:
    shipment = await postal.book(kind="dossier_pickup")
    await postal.login("bt.an")
    r = await postal.act(shipment["id"], "picked_up", document_count="3", fees_collected="27.000", note="đủ hồ sơ")
    assert r.status_code == 303
    page = await postal.http.get(r.headers["location"])
    assert "Đã ghi nhận: Đã nhận hồ sơ." in page.text and "Số tài liệu: 3" in page.text
    last = (await postal.events(shipment["id"]))[-1]
    assert (last["status_after"], last["actor"], last["source"]) == ("picked_up", "staff:bt.an", "staff")
    async with postal.app.state.sessionmaker() as session:
        event = await session.scalar(select(ShipmentEvent).where(ShipmentEvent.id == last["id"]))
        assert event is not None and event.details["document_count"] == 3 and event.details["fees_collected"] == 27000


async def test_a_delivery_with_a_proof_photo_and_the_proof_is_served_to_whom_it_belongs(postal: PostalWorld) -> None:
    shipment = await postal.book()
    await postal.login("bt.an")
    assert (await postal.act(shipment["id"], "out_for_delivery")).status_code == 303
    photo = files.jpeg()
    r = await postal.act(shipment["id"], "delivered", photo, recipient_name="Nguyễn Văn An", id_document_checked="on")
    assert r.status_code == 303, r.text
    page = await postal.http.get(r.headers["location"])
    assert "Đã phát" in page.text and "Người nhận: Nguyễn Văn An" in page.text
    last = (await postal.events(shipment["id"]))[-1]
    assert last["status_after"] == "delivered" and last["proof_id"]
    proof_path = f"/staff/postal/{shipment['id']}/proofs/{last['proof_id']}"
    assert proof_path in page.text

    served = await postal.http.get(proof_path)
    assert served.status_code == 200 and served.content == photo and served.headers["content-type"] == "image/jpeg"
    portal = await postal.http.get(
        f"/v1/shipments/{shipment['id']}/proofs/{last['proof_id']}",
        headers={"Authorization": f"Bearer {postal.api_key}"},
    )
    assert portal.status_code == 200 and portal.content == photo

    other_key = await add_portal(postal.app, postal.clock, "Cổng khác")
    other = await postal.http.get(
        f"/v1/shipments/{shipment['id']}/proofs/{last['proof_id']}", headers={"Authorization": f"Bearer {other_key}"}
    )
    assert other.status_code == 404
    postal.http.cookies.clear()
    await postal.login("bt.khac")
    assert (await postal.http.get(proof_path)).status_code == 404


@pytest.mark.parametrize(
    ("proof", "fields", "message", "status"),
    [
        (None, {"recipient_name": "Nguyễn Văn An", "id_document_checked": "on"}, "Chụp ảnh", 422),
        (files.jpeg(), {"id_document_checked": "on"}, "Nhập họ tên người nhận.", 422),
        (b"<html>not a photo</html>", {"recipient_name": "An", "id_document_checked": "on"}, "Chỉ nhận ảnh", 415),
        (files.jpeg()[:300], {"recipient_name": "An", "id_document_checked": "on"}, "Không đọc được", 422),
        # A result is handed over only after the recipient's ID document is checked (the shipments service).
        (files.jpeg(), {"recipient_name": "An"}, "ID document", 422),
    ],
)
async def test_a_delivery_without_what_it_needs_changes_nothing(
    postal: PostalWorld, proof: bytes | None, fields: dict[str, str], message: str, status: int
) -> None:
    shipment = await postal.book()
    await postal.login("bt.an")
    await postal.act(shipment["id"], "out_for_delivery")
    r = await postal.act(shipment["id"], "delivered", proof, **fields)
    assert r.status_code == status and message in r.text
    assert [e["status_after"] for e in await postal.events(shipment["id"])][-1] == "out_for_delivery"
    assert await postal.count(ProofFile) == 0


async def test_a_failed_attempt_needs_a_reason_of_the_carrier_s_list(postal: PostalWorld) -> None:
    shipment = await postal.book()
    await postal.login("bt.an")
    await postal.act(shipment["id"], "out_for_delivery")
    page = await postal.http.get(f"/staff/postal/{shipment['id']}")
    assert all(f'value="{code}"' in page.text for code in FakeCarrier().failure_reasons)
    refused = await postal.act(shipment["id"], "delivery_failed", reason_code="XYZ")
    assert refused.status_code == 422 and "Chọn lý do" in refused.text
    r = await postal.act(shipment["id"], "delivery_failed", reason_code="KVN")
    assert r.status_code == 303
    last = (await postal.events(shipment["id"]))[-1]
    assert (last["status_after"], last["reason_code"], last["reason"]) == (
        "delivery_failed",
        "KVN",
        "Người nhận vắng nhà",
    )
    for status in ("on_hold", "returned_to_agency"):
        assert (await postal.act(shipment["id"], status)).status_code == 303
    assert (await postal.events(shipment["id"]))[-1]["status_after"] == "returned_to_agency"


async def test_a_move_backwards_is_refused_with_the_timeline_unchanged(postal: PostalWorld) -> None:
    shipment = await postal.book(kind="dossier_pickup")
    await postal.login("bt.an")
    await postal.act(shipment["id"], "picked_up", document_count="2")
    await postal.act(shipment["id"], "out_for_delivery")
    before = await postal.events(shipment["id"])
    assert [e["status_after"] for e in before][-2:] == ["picked_up", "out_for_delivery"]
    refused = await postal.act(shipment["id"], "picked_up", document_count="2")
    assert refused.status_code == 409 and "không cho phép" in refused.text
    assert await postal.events(shipment["id"]) == before


async def test_an_action_without_the_session_s_token_changes_nothing(postal: PostalWorld) -> None:
    shipment = await postal.book()
    booked = await postal.events(shipment["id"])
    await postal.login("bt.an")
    for token in ("", "forged"):
        r = await postal.act(shipment["id"], "out_for_delivery", csrf=token)
        assert r.status_code == 403
    assert await postal.events(shipment["id"]) == booked


async def test_a_proof_over_the_size_cap_is_refused(postal: PostalWorld, settings: Settings) -> None:
    shipment = await postal.book()
    await postal.login("bt.an")
    await postal.act(shipment["id"], "out_for_delivery")
    big = files.jpeg() + b"\x00" * settings.proof_max_bytes
    r = await postal.act(shipment["id"], "delivered", big, recipient_name="An", id_document_checked="on")
    assert r.status_code == 413
    assert await postal.count(ProofFile) == 0


async def test_a_stored_proof_is_read_back_only_through_its_shipment(postal: PostalWorld) -> None:
    shipment, other = await postal.book(), await postal.book()
    async with postal.app.state.sessionmaker() as session:
        staff_id = await session.scalar(select(StaffAccount.id).where(StaffAccount.username == "bt.an"))
        assert staff_id is not None
        checked = await check_proof_async(files.jpeg(), postal.app.state.settings)
        row = await store_proof(session, checked, shipment["id"], OFFICE, staff_id, postal.clock.now())
        await session.commit()
    async with postal.app.state.sessionmaker() as session:
        [stored] = list(await session.scalars(select(ProofFile)))
        assert (stored.data, stored.size, stored.content_type) == (files.jpeg(), len(files.jpeg()), "image/jpeg")
        assert (await proof_of_shipment(session, row.id, shipment["id"])).id == row.id
        with pytest.raises(NotFound):
            await proof_of_shipment(session, row.id, other["id"])
    response = proof_response(stored)
    assert response.media_type == "image/jpeg" and response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


async def test_a_staff_session_reports_an_event_of_its_office_through_the_api(postal: PostalWorld) -> None:
    shipment = await postal.book()
    await postal.login("bt.an")
    csrf = csrf_of((await postal.http.get("/staff/postal")).text)
    path = f"/v1/shipments/{shipment['id']}/events"
    assert (await postal.http.post(path, json={"status": "out_for_delivery"})).status_code == 403  # no token
    r = await postal.http.post(path, json={"status": "out_for_delivery"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    last = (await postal.events(shipment["id"]))[-1]
    assert (last["status_after"], last["actor"], last["source"]) == ("out_for_delivery", "staff:bt.an", "staff")

    postal.http.cookies.clear()
    await postal.login("bt.khac")  # another office
    csrf = csrf_of((await postal.http.get("/staff/postal")).text)
    failed = {"status": "delivery_failed", "reason_code": "KVN"}
    assert (await postal.http.post(path, json=failed, headers={"X-CSRF-Token": csrf})).status_code == 404
    postal.http.cookies.clear()  # the portal's key works as before
    r = await postal.http.post(path, json=failed, headers={"Authorization": f"Bearer {postal.api_key}"})
    assert r.status_code == 200, r.text
