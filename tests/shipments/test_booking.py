"""Quoting and booking through the API: addresses checked against today's list, idempotent bookings, a
carrier failure that loses nothing, bad input that changes nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from contracts.payments import PaymentStatus
from gateway.db.models import Payment, Shipment, ShipmentEvent
from tests.shipments.bodies import address, shipment_body
from tests.shipments.conftest import ShipWorld
from tests.shipments.fake_carrier import OFFICE

pytestmark = pytest.mark.anyio


async def _count(ship: ShipWorld) -> tuple[int, int]:
    async with ship.world.app.state.sessionmaker() as session:
        shipments = await session.scalar(select(func.count()).select_from(Shipment))
        events = await session.scalar(select(func.count()).select_from(ShipmentEvent))
    return int(shipments or 0), int(events or 0)


async def test_quote_between_provinces_costs_more(ship: ShipWorld) -> None:
    body = {k: shipment_body()[k] for k in ("kind", "sender", "recipient", "parcel")}
    same = await ship.http.post("/v1/shipments/quotes", json=body, headers=ship.auth())
    assert same.status_code == 200, same.text
    far = body | {"recipient": address(province_code="79", ward_code="26740")}  # Phường Sài Gòn
    other = await ship.http.post("/v1/shipments/quotes", json=far, headers=ship.auth())
    assert other.status_code == 200, other.text
    assert other.json()["total"] > same.json()["total"]
    assert same.json()["carrier"] == "vnpost"


async def test_booking_resolves_addresses_and_tells_the_portal(ship: ShipWorld) -> None:
    shipment = await ship.booked()
    assert shipment["status"] == "pending"
    assert shipment["booking"] == "booked"
    assert shipment["recipient"]["ward_name"] == "Phường Hoàn Kiếm"
    assert shipment["recipient"]["province_name"] == "Thành phố Hà Nội"
    assert shipment["office_code"] == OFFICE
    assert shipment["postage"] == 32_000
    assert shipment["item_number"].endswith("VN")
    order = ship.carrier.orders[shipment["carrier_order_id"]]
    assert order.reference == shipment["id"]
    assert order.postage_from_recipient  # postage_mode cod
    await ship.dispatch()
    assert ship.webhook_types() == ["shipment.booked"]


@pytest.mark.parametrize(
    ("party", "changes", "field"),
    [
        ("recipient", {"ward_code": "99999"}, "recipient.ward_code"),
        ("recipient", {"ward_code": "26740"}, "recipient.ward_code"),  # a ward of Hồ Chí Minh City, not Hà Nội
        ("sender", {"province_code": "02"}, "sender.province_code"),  # Hà Giang: merged away on 1 July 2025
    ],
)
async def test_a_bad_address_is_a_problem_naming_the_field(
    ship: ShipWorld, party: str, changes: dict[str, str], field: str
) -> None:
    body = shipment_body()
    body[party] = body[party] | changes
    r = await ship.book(body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"].endswith("/invalid-address")
    assert problem["field"] == field
    assert await _count(ship) == (0, 0)
    assert ship.carrier.calls == []


@pytest.mark.parametrize(
    "changes",
    [
        {"parcel": {"weight_grams": 0}},
        {"parcel": {"weight_grams": 300.5}},
        {"recipient": address(phone="12345")},
        {"documents": [{"title": "x"}] * 51},
        {"cod_amount": -1},
        {"kind": "parcel"},
    ],
)
async def test_bad_input_is_a_problem_and_changes_nothing(ship: ShipWorld, changes: dict[str, object]) -> None:
    r = await ship.book(shipment_body(**changes))
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await _count(ship) == (0, 0)


async def test_postage_as_a_fee_line_needs_the_portals_payment_with_postage(ship: ShipWorld) -> None:
    for changes in (
        {"postage_mode": "fee_line", "payment_id": "pay_nosuchpayment"},
        {"postage_mode": "fee_line"},
        {"postage_mode": "cod", "payment_id": "pay_nosuchpayment"},
    ):
        r = await ship.book(shipment_body(**changes))
        assert r.status_code == 422, r.text
        assert r.json()["field"] == "payment_id"
    assert await _count(ship) == (0, 0)
    assert ship.world.client is not None
    now = ship.world.clock.now()
    payment = Payment(
        id="pay_" + uuid.uuid4().hex[:20],
        client_id=ship.world.client.id,
        dossier_code="000.00.12.H29-241123-0001",
        agency_code="000.00.12.H29",
        procedure_code="1.001234",
        payer_name="Nguyễn Văn An",
        provider="vnpay",
        provider_ref=uuid.uuid4().hex[:20],
        amount=35_000,
        refunded_amount=0,
        status=PaymentStatus.SUCCEEDED.value,
        return_url="https://portal.example/",
        client_ip="127.0.0.1",
        created_at=now,
        updated_at=now,
        expires_at=now,
        query_attempts=0,
        provider_codes={},
        version=1,
        lines=[{"kind": "charge", "code": "LP", "description": "Lệ phí", "amount": 8_000}],
    )
    async with ship.world.app.state.sessionmaker() as session:
        session.add(payment)
        await session.commit()
    # A payment without a postage line does not pay postage.
    r = await ship.book(shipment_body(postage_mode="fee_line", payment_id=payment.id))
    assert r.status_code == 422, r.text
    async with ship.world.app.state.sessionmaker() as session:
        stored = await session.get(Payment, payment.id)
        assert stored is not None
        stored.lines = [*stored.lines, {"kind": "postage", "code": "BCCI", "description": "Cước", "amount": 27_000}]
        await session.commit()
    shipment = await ship.booked(shipment_body(postage_mode="fee_line", payment_id=payment.id))
    assert shipment["payment_id"] == payment.id
    assert shipment["postage_mode"] == "fee_line"
    assert not ship.carrier.orders[shipment["carrier_order_id"]].postage_from_recipient


async def test_the_same_key_books_once(ship: ShipWorld) -> None:
    key = str(uuid.uuid4())
    first = await ship.book(idem=key)
    again = await ship.book(idem=key)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["id"] == again.json()["id"]
    assert len(ship.carrier.orders) == 1
    reused = await ship.book(shipment_body(dossier_code="OTHER"), idem=key)
    assert reused.status_code == 422
    assert (await _count(ship))[0] == 1


async def test_a_carrier_timeout_loses_nothing_and_the_poller_books_it(ship: ShipWorld) -> None:
    ship.carrier.booked_but_lost = 1  # the carrier made the order, its answer never came
    key = str(uuid.uuid4())
    r = await ship.book(idem=key)
    assert r.status_code == 202, r.text
    pending = r.json()
    assert pending["booking"] == "requested"
    assert pending["carrier_order_id"] is None
    # The portal's retry with its key sees the same shipment; nothing new is made.
    again = await ship.book(idem=key)
    assert again.json()["id"] == pending["id"]
    ship.world.clock.advance(timedelta(minutes=5))
    assert await ship.poll() == 1
    booked = await ship.get(pending["id"])
    assert booked["booking"] == "booked"
    assert len(ship.carrier.orders) == 1  # the carrier's order for this reference, not a second one
    replay = await ship.book(idem=key)
    assert replay.status_code == 201
    assert replay.json()["booking"] == "booked"


async def test_a_refused_booking_ends_in_exception(ship: ShipWorld) -> None:
    ship.carrier.refuse = True
    r = await ship.book()
    assert r.status_code == 502, r.text
    async with ship.world.app.state.sessionmaker() as session:
        shipment = await session.scalar(select(Shipment))
    assert shipment is not None
    assert (shipment.status, shipment.booking, shipment.next_poll_at) == ("exception", "refused", None)


async def test_list_get_and_another_portals_shipment(ship: ShipWorld) -> None:
    a = await ship.booked()
    b = await ship.booked(shipment_body(dossier_code="000.00.12.H29-241123-0002"))
    r = await ship.http.get("/v1/shipments", params={"dossier_code": b["dossier_code"]}, headers=ship.auth())
    assert [s["id"] for s in r.json()["items"]] == [b["id"]]
    r = await ship.http.get("/v1/shipments", params={"status": "pending", "limit": 1}, headers=ship.auth())
    page = r.json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    r = await ship.http.get(
        "/v1/shipments", params={"status": "pending", "cursor": page["next_cursor"]}, headers=ship.auth()
    )
    assert {s["id"] for s in [*page["items"], *r.json()["items"]]} == {a["id"], b["id"]}
    _, other_key = await ship.world.add_client("Cổng khác")
    assert (await ship.http.get(f"/v1/shipments/{a['id']}", headers=ship.auth(other_key))).status_code == 404
    assert (await ship.http.get(f"/v1/shipments/{a['id']}/events", headers=ship.auth(other_key))).status_code == 404


async def test_cancel_before_pickup(ship: ShipWorld) -> None:
    shipment = await ship.booked()
    r = await ship.http.post(f"/v1/shipments/{shipment['id']}/cancel", headers=ship.auth())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert "cancel" in ship.carrier.calls
    again = await ship.http.post(f"/v1/shipments/{shipment['id']}/cancel", headers=ship.auth())
    assert again.json()["status"] == "cancelled"


async def test_a_picked_up_shipment_cannot_be_cancelled(ship: ShipWorld) -> None:
    shipment = await ship.booked()
    url = f"/v1/shipments/{shipment['id']}"
    r = await ship.http.post(f"{url}/events", json={"status": "picked_up"}, headers=ship.auth())
    assert r.status_code == 200, r.text
    refused = await ship.http.post(f"{url}/cancel", headers=ship.auth())
    assert refused.status_code == 409, refused.text
    assert refused.json()["current_status"] == "picked_up"
    assert (await ship.get(shipment["id"]))["status"] == "picked_up"
    assert "cancel" not in ship.carrier.calls
