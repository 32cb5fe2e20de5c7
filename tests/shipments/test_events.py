"""What happens to a shipment: carrier events deduplicated and applied in event-time order, forward only;
the failed-attempt policy; audited corrections; the staff page's office scoping; public tracking."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from contracts.shipping import CarrierEvent, ShipmentStatus
from gateway.clock import VN_TZ
from gateway.db.models import NotificationRejection
from gateway.errors import NotFound
from gateway.settings import Settings
from gateway.shipments.errors import ShipmentTransition
from gateway.shipments.service import StaffEvent
from tests.shipments.bodies import shipment_body
from tests.shipments.conftest import ShipWorld
from tests.shipments.fake_carrier import OFFICE

pytestmark = pytest.mark.anyio
S = ShipmentStatus
# Just after the bookings the tests make (the timeline is in event-time order).
T0 = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1)


def ev(shipment: dict[str, Any], code: str, status: S, minutes: int, **extra: Any) -> CarrierEvent:
    return CarrierEvent(
        carrier_order_id=shipment["carrier_order_id"],
        code=code,
        status=status,
        occurred_at=T0 + timedelta(minutes=minutes),
        location=extra.pop("location", "100900"),
        **extra,
    )


async def test_duplicate_and_out_of_order_pushes_apply_once_forward_only(ship: ShipWorld) -> None:
    s = await ship.booked()
    picked, transit, out, delivered = (
        ev(s, "6", S.PICKED_UP, 0),
        ev(s, "10", S.IN_TRANSIT, 60),
        ev(s, "12", S.OUT_FOR_DELIVERY, 120),
        ev(s, "14", S.DELIVERED, 180),
    )
    # Delivered arrives first, then the rest, twice over and reordered.
    assert (await ship.push(ship.carrier.push_body([delivered]))).status_code == 200
    assert (await ship.push(ship.carrier.push_body([out, picked, transit]))).status_code == 200
    assert (await ship.push(ship.carrier.push_body([picked, delivered, out]))).status_code == 200
    shipment = await ship.get(s["id"])
    assert shipment["status"] == "delivered"
    assert datetime.fromisoformat(shipment["delivered_at"]) == T0 + timedelta(minutes=180)
    carrier_events = [e for e in await ship.events(s["id"]) if e["source"] == "carrier" and e["code"] != "3"]
    assert [(e["code"], e["applied"]) for e in carrier_events] == [
        ("6", False),
        ("10", False),
        ("12", False),
        ("14", True),
    ]
    assert all(e["status_after"] == "delivered" for e in carrier_events[:3])
    await ship.dispatch()
    assert ship.webhook_types() == ["shipment.booked", "shipment.delivered"]


async def test_in_order_events_move_the_status_and_tell_the_portal(ship: ShipWorld) -> None:
    s = await ship.booked()
    events = [ev(s, "6", S.PICKED_UP, 0), ev(s, "12", S.OUT_FOR_DELIVERY, 60), ev(s, "14", S.DELIVERED, 120)]
    await ship.push(ship.carrier.push_body(list(reversed(events))))  # one push, reordered: sorted by time
    timeline = await ship.events(s["id"])
    assert [e["status_after"] for e in timeline if e["applied"]][-3:] == ["picked_up", "out_for_delivery", "delivered"]
    await ship.dispatch()
    assert ship.webhook_types() == [
        "shipment.booked",
        "shipment.status_changed",
        "shipment.status_changed",
        "shipment.delivered",
    ]


async def test_two_failed_attempts_hold_then_return_to_the_agency(ship: ShipWorld) -> None:
    s = await ship.booked()
    await ship.push(
        ship.carrier.push_body(
            [
                ev(s, "6", S.PICKED_UP, 0),
                ev(s, "12", S.OUT_FOR_DELIVERY, 60),
                ev(s, "15", S.DELIVERY_FAILED, 90, reason_code="KVN"),
                ev(s, "12", S.OUT_FOR_DELIVERY, 1500),
            ]
        )
    )
    assert (await ship.get(s["id"]))["status"] == "out_for_delivery"
    await ship.push(ship.carrier.push_body([ev(s, "15", S.DELIVERY_FAILED, 1530, reason_code="KVN")]))
    held = await ship.get(s["id"])
    assert (held["status"], held["failed_attempts"]) == ("on_hold", 2)
    await ship.push(
        ship.carrier.push_body([ev(s, "16", S.RETURN_TO_SENDER, 4000), ev(s, "19", S.RETURNED_TO_AGENCY, 5000)])
    )
    assert (await ship.get(s["id"]))["status"] == "returned_to_agency"
    await ship.dispatch()
    assert ship.webhook_types() == [
        "shipment.booked",
        "shipment.status_changed",  # picked up
        "shipment.status_changed",  # out for delivery
        "shipment.delivery_failed",
        "shipment.status_changed",  # out again
        "shipment.delivery_failed",
        "shipment.status_changed",  # on hold
        "shipment.status_changed",  # return to sender
        "shipment.returned",
    ]
    system = [e for e in await ship.events(s["id"]) if e["source"] == "system" and e["status_after"] == "on_hold"]
    assert len(system) == 1 and "2 failed delivery attempts" in system[0]["description"]


async def test_a_forged_push_changes_nothing_and_is_counted(ship: ShipWorld) -> None:
    s = await ship.booked()
    r = await ship.push(ship.carrier.push_body([ev(s, "14", S.DELIVERED, 10)], forged=True))
    assert r.status_code == 500 and r.json() == {"code": "99"}
    assert (await ship.get(s["id"]))["status"] == "pending"
    async with ship.world.app.state.sessionmaker() as session:
        counts = list(await session.scalars(select(NotificationRejection.count)))
    assert counts == [1]


async def test_polling_finds_what_pushes_did_not_say(ship: ShipWorld) -> None:
    s = await ship.booked()
    ship.carrier.happen(ev(s, "6", S.PICKED_UP, 0))
    ship.carrier.happen(ev(s, "14", S.DELIVERED, 100))
    assert await ship.poll() == 0  # not stale yet
    ship.world.clock.advance(timedelta(hours=2, seconds=1))
    assert await ship.poll() == 1
    shipment = await ship.get(s["id"])
    assert shipment["status"] == "delivered"
    assert shipment["last_polled_at"] is not None
    ship.world.clock.advance(timedelta(days=1))
    assert await ship.poll() == 0  # delivered: no longer polled


async def test_polling_stops_after_the_last_day(ship: ShipWorld) -> None:
    s = await ship.booked()
    ship.world.clock.advance(timedelta(days=91))
    assert await ship.poll() == 1
    assert "track" not in ship.carrier.calls
    ship.world.clock.advance(timedelta(days=1))
    assert await ship.poll() == 0
    assert (await ship.get(s["id"]))["status"] == "pending"


async def test_staff_report_forward_only_and_correction_audited(ship: ShipWorld) -> None:
    s = await ship.booked()
    async with ship.world.app.state.sessionmaker() as session:
        service = ship.service(session)
        await service.record_event(s["id"], StaffEvent(status=S.PICKED_UP, document_count=3), "staff:an")
        delivered = StaffEvent(status=S.DELIVERED, recipient_name="Nguyễn Văn An", id_document_checked=True)
        await service.record_event(s["id"], delivered, "staff:an")
        await session.commit()
        with pytest.raises(ShipmentTransition):
            await service.record_event(s["id"], StaffEvent(status=S.OUT_FOR_DELIVERY), "staff:an")
        with pytest.raises(Exception, match="reason"):
            await service.correct(s["id"], S.OUT_FOR_DELIVERY, "  ", "staff:binh")
        await service.correct(s["id"], S.OUT_FOR_DELIVERY, "delivered to the wrong house", "staff:binh")
        await session.commit()
    shipment = await ship.get(s["id"])
    assert (shipment["status"], shipment["delivered_at"]) == ("out_for_delivery", None)
    last = (await ship.events(s["id"]))[-1]
    assert last["correction"] is True
    assert last["correction_reason"] == "delivered to the wrong house"
    assert (last["status_before"], last["status_after"], last["actor"]) == (
        "delivered",
        "out_for_delivery",
        "staff:binh",
    )


async def test_staff_reports_are_checked(ship: ShipWorld) -> None:
    s = await ship.booked()
    async with ship.world.app.state.sessionmaker() as session:
        service = ship.service(session)
        for event in (
            StaffEvent(status=S.DELIVERY_FAILED, reason_code="NOPE"),
            StaffEvent(status=S.DELIVERED, recipient_name="An"),  # the ID document was not checked
            StaffEvent(status=S.DELIVERED, id_document_checked=True),  # no name
        ):
            with pytest.raises(Exception, match=r"reason_code|ID document|name"):
                await service.record_event(s["id"], event, "staff:an")
        failed = StaffEvent(status=S.DELIVERY_FAILED, reason_code="KVN", proof_id="prf_1")
        await service.record_event(s["id"], failed, "staff:an")
        await session.commit()
    last = (await ship.events(s["id"]))[-1]
    assert (last["reason_code"], last["reason"], last["proof_id"]) == ("KVN", "Người nhận vắng nhà", "prf_1")


async def test_portal_reports_through_the_api(ship: ShipWorld) -> None:
    s = await ship.booked()
    url = f"/v1/shipments/{s['id']}/events"
    r = await ship.http.post(url, json={"status": "picked_up", "document_count": 2}, headers=ship.auth())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "picked_up"
    back = await ship.http.post(url, json={"status": "delivered"}, headers=ship.auth())
    assert back.status_code == 422  # no recipient name
    bad = await ship.http.post(url, json={"status": "pending"}, headers=ship.auth())
    assert bad.status_code == 400
    _, other_key = await ship.world.add_client("Cổng khác")
    other = await ship.http.post(url, json={"status": "in_transit"}, headers=ship.auth(other_key))
    assert other.status_code == 404
    assert (await ship.get(s["id"]))["status"] == "picked_up"


async def test_office_scoping(ship: ShipWorld) -> None:
    s = await ship.booked()
    async with ship.world.app.state.sessionmaker() as session:
        service = ship.service(session)
        assert (await service.get_for_office(s["id"], OFFICE)).id == s["id"]
        with pytest.raises(NotFound):
            await service.get_for_office(s["id"], "700000")
        assert (await service.find_by_item_number(s["item_number"].lower(), OFFICE)).id == s["id"]
        with pytest.raises(NotFound):
            await service.find_by_item_number(s["item_number"], "700000")
        today = ship.world.clock.now().astimezone(VN_TZ).date()
        assert [x.id for x in await service.list_for_office(OFFICE, today)] == [s["id"]]
        assert await service.list_for_office("700000", today) == []
        assert await service.list_for_office(OFFICE, date(2020, 1, 1)) == []


async def test_public_tracking_shows_no_personal_data(ship: ShipWorld) -> None:
    s = await ship.booked()
    await ship.push(ship.carrier.push_body([ev(s, "6", S.PICKED_UP, 0), ev(s, "12", S.OUT_FOR_DELIVERY, 60)]))
    async with ship.world.app.state.sessionmaker() as session:
        await ship.service(session).record_event(
            s["id"],
            StaffEvent(
                status=S.DELIVERED,
                recipient_name="Trần Thị Bình",
                id_document_checked=True,
                note="giao cho chị Bình, 0987654321",
                occurred_at=T0 + timedelta(minutes=120),
            ),
            "staff:an",
        )
        await session.commit()
    r = await ship.http.get(f"/v1/tracking/{s['item_number']}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "delivered"
    assert [e["status"] for e in body["events"]][-3:] == ["picked_up", "out_for_delivery", "delivered"]
    text = r.text
    for personal in ("Nguyễn", "Bình", "0912345678", "0987654321", "Tràng Tiền", "Lý Thường Kiệt", "staff:an"):
        assert personal not in text
    assert (await ship.http.get("/v1/tracking/EB000000000VN")).status_code == 404
    assert (await ship.http.get("/v1/tracking/not-a-number")).status_code == 400


async def test_tracking_is_rate_limited(ship: ShipWorld, settings: Any) -> None:
    settings.rate_limit_tracking_per_address = 2
    codes = [(await ship.http.get("/v1/tracking/EB000000000VN")).status_code for _ in range(3)]
    assert codes == [404, 404, 429]


async def test_a_bad_check_digit_is_kept_and_logged_masked(ship: ShipWorld, capsys: pytest.CaptureFixture[str]) -> None:
    ship.carrier.item_number = "BK990032289VN"  # MyVNPost's own sample: its check digit computes to 1
    s = await ship.booked()
    assert s["item_number"] == "BK990032289VN"
    out = capsys.readouterr().out
    assert "item_number_check_failed" in out
    assert "Nguyễn" not in out and "0912345678" not in out


async def test_a_dossier_returned_goes_back_to_the_citizen(ship: ShipWorld) -> None:
    s = await ship.booked(shipment_body(kind="dossier_pickup"))
    returned = ev(s, "19", S.RETURNED_TO_AGENCY, 60, description="Chuyển hoàn thành công")
    await ship.push(ship.carrier.push_body([ev(s, "18", S.RETURN_TO_SENDER, 30), returned]))
    last = (await ship.events(s["id"]))[-1]
    assert last["status_after"] == "returned_to_agency"
    assert last["description"].startswith("returned to its sender, the citizen")


async def test_a_push_over_its_size_bound_is_refused_unread(ship: ShipWorld) -> None:
    s = await ship.booked()
    events = [ev(s, "6", S.PICKED_UP, minutes, description="Đã nhận hàng " * 20) for minutes in range(200)]
    body = ship.carrier.push_body(events)
    assert len(body) > ship.settings.carrier_push_max_body_bytes
    r = await ship.push(body)
    assert r.status_code == 413
    assert (await ship.get(s["id"]))["status"] == "pending"


async def test_a_batch_push_larger_than_a_payment_callback_is_read(ship: ShipWorld) -> None:
    """A payment provider's notification fits in a few KB; the carrier's batch of events need not."""
    s = await ship.booked()
    events = [ev(s, "6", S.PICKED_UP, 1), *(ev(s, "7", S.IN_TRANSIT, minutes) for minutes in range(2, 40))]
    body = ship.carrier.push_body(events)
    assert ship.settings.callback_max_body_bytes < len(body) <= ship.settings.carrier_push_max_body_bytes
    r = await ship.push(body)
    assert r.status_code == 200, r.text
    assert (await ship.get(s["id"]))["status"] == "in_transit"


def test_a_push_cap_above_the_request_cap_is_refused_at_start() -> None:
    """Every body is read under request_max_body_bytes first: a larger push cap would silently not apply."""
    with pytest.raises(ValidationError, match="carrier_push_max_body_bytes"):
        Settings(carrier_push_max_body_bytes=128 * 1024, request_max_body_bytes=64 * 1024)
