"""Every string the shipment models take fits where it is stored: one longer is refused as bad input and
changes nothing, one as long is stored whole (the rule of tests/gateway/test_api_edges.py, whose walk over
every input model counts these entries as its own)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy import func, select

from contracts.addresses import AddressIn
from contracts.shipments import DocumentIn, QuoteCreate, ShipmentCreate, ShipmentEventIn
from gateway.db.models import Base, Shipment, ShipmentEvent
from tests.gateway.test_api_edges import Stored, _bound, _code, _digits, _email, _text
from tests.shipments.bodies import shipment_body
from tests.shipments.conftest import ShipWorld

pytestmark = pytest.mark.anyio

SHIPMENT_STORED: dict[tuple[type[BaseModel], str], Stored] = {
    (AddressIn, "name"): Stored(Shipment.recipient, _text, key="name"),
    (AddressIn, "phone"): Stored(Shipment.recipient, _digits, key="phone", at_limit=False, longest=13),
    (AddressIn, "email"): Stored(Shipment.recipient, _email, key="email", longest=254),
    (AddressIn, "line"): Stored(Shipment.recipient, _text, key="line"),
    (AddressIn, "province_code"): Stored(Shipment.recipient, _digits, key="province_code", at_limit=False),
    (AddressIn, "ward_code"): Stored(Shipment.recipient, _digits, key="ward_code", at_limit=False),
    (AddressIn, "district"): Stored(Shipment.recipient, _text, key="district_name", longest=200),
    (QuoteCreate, "service"): Stored(Shipment.service, _code, at_limit=False),  # one of the carrier's
    (ShipmentCreate, "service"): Stored(Shipment.service, _code, at_limit=False),
    (ShipmentCreate, "dossier_code"): Stored(Shipment.dossier_code, _code),
    (ShipmentCreate, "procedure"): Stored(Shipment.procedure, _text),
    (ShipmentCreate, "payment_id"): Stored(Shipment.payment_id, _code, at_limit=False),  # the portal's own
    (ShipmentCreate, "note"): Stored(Shipment.note, _text),
    (DocumentIn, "title"): Stored(Shipment.documents, _text, key="title"),
    (ShipmentEventIn, "location"): Stored(ShipmentEvent.location, _code),
    (ShipmentEventIn, "reason_code"): Stored(ShipmentEvent.reason_code, _code, at_limit=False),  # the carrier's
    (ShipmentEventIn, "note"): Stored(ShipmentEvent.description, _text),
    (ShipmentEventIn, "recipient_name"): Stored(ShipmentEvent.details, _text, key="recipient_name", longest=200),
}
IDS = [f"{m.__name__}.{f}" for m, f in SHIPMENT_STORED]


async def _send(ship: ShipWorld, model: type[BaseModel], field: str, value: str, shipment_id: str) -> httpx.Response:
    if model is ShipmentEventIn:
        report: dict[str, Any] = {"status": "delivered", "recipient_name": "Nguyễn Văn An", "id_document_checked": True}
        if field == "reason_code":
            report = {"status": "delivery_failed"}
        report[field] = value
        return await ship.http.post(f"/v1/shipments/{shipment_id}/events", json=report, headers=ship.auth())
    body = shipment_body()
    target = {
        AddressIn: body["recipient"],
        QuoteCreate: body,
        ShipmentCreate: body,
        DocumentIn: body["documents"][0],
    }[model]
    target[field] = value
    if model is QuoteCreate:
        quote = {k: body[k] for k in ("kind", "sender", "recipient", "parcel", "service")}
        return await ship.http.post("/v1/shipments/quotes", json=quote, headers=ship.auth())
    return await ship.book(body)


async def _everything(ship: ShipWorld) -> dict[str, Any]:
    async with ship.world.app.state.sessionmaker() as session:
        return {
            t.name: await session.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
            if t.name != "rate_limit_counters"
        }


@pytest.mark.parametrize(("model", "field"), list(SHIPMENT_STORED), ids=IDS)
async def test_a_string_longer_than_where_it_is_stored_is_refused(
    ship: ShipWorld, model: type[BaseModel], field: str
) -> None:
    shipment = await ship.booked()
    before = await _everything(ship)
    stored = SHIPMENT_STORED[model, field]
    r = await _send(ship, model, field, stored.make(_bound(model, field, stored) + 1), shipment["id"])
    assert r.status_code == 400, r.text
    assert r.json()["type"].endswith("/validation") and r.json()["errors"]
    assert await _everything(ship) == before


@pytest.mark.parametrize(
    ("model", "field"),
    [k for k, v in SHIPMENT_STORED.items() if v.at_limit],
    ids=[i for i, v in zip(IDS, SHIPMENT_STORED.values(), strict=True) if v.at_limit],
)
async def test_a_string_as_long_as_where_it_is_stored_is_stored_whole(
    ship: ShipWorld, model: type[BaseModel], field: str
) -> None:
    shipment = await ship.booked(shipment_body(dossier_code=f"D-{uuid.uuid4().hex[:8]}"))
    stored = SHIPMENT_STORED[model, field]
    value = stored.make(_bound(model, field, stored))
    r = await _send(ship, model, field, value, shipment["id"])
    assert r.status_code in (200, 201), r.text
    async with ship.world.app.state.sessionmaker() as session:
        values = list(await session.scalars(select(stored.column)))
    if stored.key is not None:
        values = [v[stored.key] for v in values if isinstance(v, dict) and stored.key in v] + [
            item[stored.key] for v in values if isinstance(v, list) for item in v
        ]
    assert value in values
