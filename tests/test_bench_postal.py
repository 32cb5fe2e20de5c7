"""What `make bench` sends in its postal scenarios (bench/postal.py), checked in process: VNPost's push
verifies with the adapter and each is a new event; a staff report with the bench's headers is accepted."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.vnpost.responses import parse_push
from adapters.vnpost.settings import SIMULATOR_PUSH_PUBLIC_KEY
from adapters.vnpost.signing import load_public_key
from bench import postal
from contracts.shipping import ShipmentStatus
from gateway.app import create_app
from gateway.clock import Clock
from gateway.settings import Settings
from gateway.shipments.service import dedupe_key
from gateway.staff.accounts import Role
from tests.shipments.fake_carrier import OFFICE, FakeCarrier
from tests.staff.helpers import GATEWAY, StaffWorld, add_portal, csrf_of

SHIPMENTS = [
    postal.Booked("shp_bench0001", "VN2612050000001", "EB000000019VN", "011000"),
    postal.Booked("shp_bench0002", "VN2612050000002", None, "011000"),
]
SINCE = dt.datetime(2026, 12, 5, 4, 30, tzinfo=dt.UTC)


def test_a_push_verifies_with_the_adapter_and_reads_as_an_in_transit_event() -> None:
    key = load_public_key(SIMULATOR_PUSH_PUBLIC_KEY)
    [event] = parse_push(key, postal.push_body(SHIPMENTS[0], SINCE))
    assert event.carrier_order_id == "VN2612050000001"
    assert event.status is ShipmentStatus.IN_TRANSIT
    assert event.occurred_at == SINCE
    assert event.item_number == "EB000000019VN"
    assert event.raw["orderCode"] == "shp_bench0001"


def test_every_push_is_a_new_event_in_time_order_per_shipment() -> None:
    key = load_public_key(SIMULATOR_PUSH_PUBLIC_KEY)
    events = [e for body in postal.pushes(SHIPMENTS, 3, 6, SINCE) for e in parse_push(key, body)]
    assert len({dedupe_key(e) for e in events}) == 6
    for shipment in SHIPMENTS:
        times = [e.occurred_at for e in events if e.carrier_order_id == shipment.carrier_order_id]
        assert times == sorted(times) and len(set(times)) == 3


@pytest.fixture
async def world(clean_database: str) -> AsyncIterator[tuple[StaffWorld, str]]:
    settings = Settings(database_url=clean_database, public_base_url=GATEWAY, workers_enabled=False)
    clock = Clock()
    app = create_app(settings, clock=clock, carrier=FakeCarrier())
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as http:
        yield StaffWorld(app=app, http=http, clock=clock), await add_portal(app, clock)


@pytest.mark.anyio
async def test_the_staff_report_the_bench_sends_is_accepted(world: tuple[StaffWorld, str]) -> None:
    staff, api_key = world
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": "bench-test-1"}
    r = await staff.http.post("/v1/shipments", json=postal.shipment_body(1), headers=headers)
    assert r.status_code == 201, r.text
    booked = postal.Booked(r.json()["id"], r.json()["carrier_order_id"], r.json()["item_number"], OFFICE)
    await staff.add_staff(postal.STAFF_USERNAME, Role.POSTAL, OFFICE, postal.STAFF_PASSWORD)
    assert (await staff.login(postal.STAFF_USERNAME, postal.STAFF_PASSWORD)).status_code == 303
    cookie = "; ".join(f"{name}={value}" for name, value in staff.http.cookies.items())
    session = postal.StaffSession(cookie, csrf_of((await staff.http.get("/staff/logout")).text))
    staff.http.cookies.clear()  # only what the bench sends

    report = {"Content-Type": "application/json", **dict(session.headers())}
    r = await staff.http.post(postal.report_path(booked), content=postal.STAFF_REPORT, headers=report)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "out_for_delivery"
    without_token = {k: v for k, v in report.items() if k != "X-CSRF-Token"}
    r = await staff.http.post(postal.report_path(booked), content=postal.STAFF_REPORT, headers=without_token)
    assert r.status_code == 403
