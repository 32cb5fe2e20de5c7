"""/v1/shipments (the portal's), /v1/tracking (anyone's) and the carrier's push receiver: thin, the rules are
in gateway/shipments/service.py."""

from __future__ import annotations

import asyncio
from functools import cached_property
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter

from contracts.shipments import (
    EventSource,
    QuoteCreate,
    QuoteOut,
    ShipmentCreate,
    ShipmentEventIn,
    ShipmentEventOut,
    ShipmentOut,
    ShipmentPage,
    TrackingOut,
)
from contracts.shipping import ShipmentStatus
from gateway.db.request_session import READ_ONLY, request_session
from gateway.deps import PortalContext, provide_client
from gateway.documents.slips import render_slip
from gateway.errors import NotFound
from gateway.limits import CARRIER_PUSH_PATH, source_address
from gateway.notifications.controller import inbound_of
from gateway.openapi import BODY, NO_NUL, PORTAL_KEY, IdempotentOperation, ok, problems
from gateway.payments.controller import IdempotencyKeyHeader, idempotent
from gateway.request_text import PROVIDER_PROTOCOL
from gateway.shipments.pushes import PushReceiver
from gateway.shipments.service import ShipmentService, StaffEvent, slip_of
from gateway.shipments.views import event_out, shipment_out, tracking_out
from gateway.staff.api_auth import staff_reporter

ShipmentId = Annotated[str, PathParameter(pattern=NO_NUL, max_length=64)]
Filter = Annotated[str | None, QueryParameter(pattern=NO_NUL, max_length=64)]
SlipSize = Annotated[Literal["A5", "A6"], QueryParameter()]
SLIP = {200: ResponseSpec(data_container=bytes, media_type="application/pdf", description="The slip as a PDF")}
ItemNumberPath = Annotated[str, PathParameter(pattern=r"^[A-Za-z]{2}[0-9]{9}[A-Za-z]{2}$")]


def shipment_service(state: State, session: Any) -> ShipmentService:
    return ShipmentService(session, state.carrier, state.settings, state.clock)


class ShipmentPortal(PortalContext):
    @cached_property
    def shipments(self) -> ShipmentService:
        return shipment_service(self._state, self.session)


async def provide_shipment_portal(request: Request[Any, Any, Any], state: State) -> ShipmentPortal:
    portal = ShipmentPortal(request.scope, state)
    portal.caller = await provide_client(request, state)
    return portal


class ShipmentController(Controller):
    path = "/v1/shipments"
    tags = ["shipments"]
    dependencies = {"portal": Provide(provide_shipment_portal)}
    security = PORTAL_KEY

    @post("/quotes", operation_id="quoteShipment", status_code=200, responses=problems(*BODY, 422, 502, 503, 504))
    async def quote(self, data: JSONBody[QuoteCreate], portal: NamedDependency[ShipmentPortal]) -> QuoteOut:
        """What the carrier charges for a shipment between these addresses (nothing is booked)."""
        quote = await portal.shipments.quote(data)
        return QuoteOut(
            carrier=portal.shipments.carrier.name,
            service=quote.service,
            main_fee=quote.main_fee,
            addon_fee=quote.addon_fee,
            total=quote.total,
            estimated_days=quote.estimated_days,
        )

    @post(
        "/",
        operation_id="createShipment",
        status_code=201,
        responses=problems(*BODY, 409, 422, 502, 503, 504)
        | ok(ShipmentOut, "Not booked yet: the carrier's answer is awaited (booking: requested)", 202),
        operation_class=IdempotentOperation,
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ShipmentCreate],
        portal: NamedDependency[ShipmentPortal],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[ShipmentOut]:
        """Book a pickup of the dossier or a delivery of the result. 201 when the carrier booked it; 202 when
        its answer is not known yet: the gateway keeps trying and a webhook says when it is booked."""

        async def work() -> tuple[int, Any]:
            service = portal.shipments
            shipment = await service.requested_with(portal.caller, idempotency_key)
            if shipment is None:
                shipment = await service.create(portal.caller, data, idempotency_key)
            shipment = await service.book(shipment)
            return _answer(shipment)

        async def current() -> tuple[int, Any] | None:
            shipment = await portal.shipments.requested_with(portal.caller, idempotency_key)
            return _answer(shipment) if shipment else None

        return await idempotent(request, portal, idempotency_key, work, current)

    @get("/", operation_id="listShipments", opt=READ_ONLY, responses=problems(422))
    async def list_shipments(
        self,
        portal: NamedDependency[ShipmentPortal],
        dossier_code: Filter = None,
        status: FromQuery[ShipmentStatus | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        cursor: Annotated[str | None, QueryParameter(pattern=NO_NUL, max_length=200)] = None,
    ) -> ShipmentPage:
        rows, next_cursor = await portal.shipments.search(portal.caller, dossier_code, status, limit, cursor)
        return ShipmentPage(items=[shipment_out(s) for s in rows], next_cursor=next_cursor)

    @get("/{shipment_id:str}", operation_id="getShipment", opt=READ_ONLY, responses=problems(404))
    async def get_shipment(self, portal: NamedDependency[ShipmentPortal], shipment_id: ShipmentId) -> ShipmentOut:
        return shipment_out(await portal.shipments.get(portal.caller, shipment_id))

    @get(
        "/{shipment_id:str}/slip",
        operation_id="getShipmentSlip",
        opt=READ_ONLY,
        responses={**SLIP, **problems(404, 409)},
        media_type="application/pdf",
    )
    async def slip(
        self, portal: NamedDependency[ShipmentPortal], shipment_id: ShipmentId, size: SlipSize = "A6"
    ) -> Response[bytes]:
        """The dossier handover slip (phiếu gửi hồ sơ) or the result delivery slip, as a PDF label (A6, or
        A5) with the item number's Code 128: 409 until the carrier has booked the shipment."""
        shipment = await portal.shipments.get(portal.caller, shipment_id)
        pdf = await asyncio.to_thread(render_slip, slip_of(shipment), size)
        name = f"{shipment.item_number or shipment.id}.pdf"
        disposition = {"Content-Disposition": f'inline; filename="{name}"'}
        return Response(pdf, media_type="application/pdf", headers=disposition)

    @get("/{shipment_id:str}/events", operation_id="listShipmentEvents", opt=READ_ONLY, responses=problems(404))
    async def list_events(
        self, portal: NamedDependency[ShipmentPortal], shipment_id: ShipmentId
    ) -> list[ShipmentEventOut]:
        """The timeline: every event in the order it happened, applied or only recorded, corrections marked."""
        return [event_out(e) for e in await portal.shipments.events(portal.caller, shipment_id)]

    @post(
        "/{shipment_id:str}/cancel",
        operation_id="cancelShipment",
        status_code=200,
        responses=problems(404, 409, 502, 503, 504),
    )
    async def cancel(self, portal: NamedDependency[ShipmentPortal], shipment_id: ShipmentId) -> ShipmentOut:
        shipment = await portal.shipments.cancel(portal.caller, shipment_id)
        await portal.session.commit()
        return shipment_out(shipment)

    @post(
        "/{shipment_id:str}/events",
        operation_id="reportShipmentEvent",
        status_code=200,
        responses=problems(*BODY, 404, 409, 422, 503),
    )
    async def report(
        self, request: Request[Any, Any, Any], state: State, data: JSONBody[ShipmentEventIn], shipment_id: ShipmentId
    ) -> ShipmentOut:
        """Report what happened: the carrier's own systems with their API key, or a postal staff member's
        browser with its session and X-CSRF-Token (their office's shipments only): forward only; 409 otherwise."""
        staff = await staff_reporter(request)
        if staff is not None:
            service = shipment_service(state, request_session(state, request.scope))
            await service.get_for_office(shipment_id, staff.office_code or "")
            actor, source = staff.actor, EventSource.STAFF
        else:
            portal = await provide_shipment_portal(request, state)
            service = portal.shipments
            await service.get(portal.caller, shipment_id)
            actor, source = portal.caller.name, EventSource.PORTAL
        event = StaffEvent(
            status=ShipmentStatus(data.status),
            reason_code=data.reason_code,
            note=data.note,
            recipient_name=data.recipient_name,
            id_document_checked=data.id_document_checked,
            document_count=data.document_count,
            fees_collected=data.fees_collected,
            location=data.location,
        )
        shipment = await service.record_event(shipment_id, event, actor, source)
        await service.session.commit()
        return shipment_out(shipment)


def _answer(shipment: Any) -> tuple[int, Any]:
    status = 202 if shipment.booking == "requested" else 201
    return status, shipment_out(shipment).model_dump_json().encode()


class TrackingController(Controller):
    path = "/v1/tracking"
    tags = ["tracking"]

    @get("/{item_number:str}", operation_id="trackItem", opt=READ_ONLY, responses=problems(404, 429, portal=False))
    async def track(self, request: Request[Any, Any, Any], state: State, item_number: ItemNumberPath) -> TrackingOut:
        """For the citizen: the status, places and times of an item, and nothing about any person."""
        settings = state.settings
        address = source_address(request.scope, settings.trusted_proxies)
        await state.limiter.hit(
            f"tracking:{address}",
            settings.rate_limit_tracking_per_address,
            "Too many tracking requests from this address.",
        )
        service = shipment_service(state, request_session(state, request.scope))
        shipment, events = await service.track(item_number.upper())
        return tracking_out(shipment, events)


class CarrierPushController(Controller):
    """The carrier's status pushes, answered in its own protocol (never a problem document)."""

    path = CARRIER_PUSH_PATH
    tags = ["provider callbacks"]
    include_in_schema = False

    @post("/", operation_id="carrierPush", status_code=200, opt={PROVIDER_PROTOCOL: True})
    async def push(self, request: Request[Any, Any, Any], state: State) -> Response[bytes]:
        carrier = state.carrier
        if carrier is None or carrier.name != "vnpost":
            raise NotFound("No carrier 'vnpost' on this gateway.")
        receiver = PushReceiver(state.sessionmaker, carrier, state.settings, state.clock)
        ack = await receiver.receive(await inbound_of(request))
        return Response(ack.body, status_code=ack.status_code, media_type=ack.media_type)
