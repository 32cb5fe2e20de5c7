"""/staff/postal: a post office's staff on their phone. Today's pickups and deliveries of their office, a
shipment found by its item number (typed, or scanned by a scanner that types), and what happened to it
recorded through the shipments service; each action redirects to the shipment's page, where the timeline
shows it at once. A shipment of another office answers 404, as a missing one does."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import quote

import structlog
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from contracts.shipping import ShipmentKind, ShipmentStatus
from gateway.clock import VN_TZ
from gateway.db.models import Shipment
from gateway.db.request_session import request_session
from gateway.errors import DomainError, NotFound
from gateway.settings import Settings
from gateway.shipments.controller import shipment_service
from gateway.shipments.service import ShipmentService
from gateway.shipments.transitions import can_move
from gateway.staff.controller import STAFF_EXCEPTION_HANDLERS
from gateway.staff.csrf import FORM_FIELD
from gateway.staff.guards import provide_staff, requires_staff
from gateway.staff.pages import page
from gateway.staff.postal_form import ACTION_LABELS, ACTIONS, STATUS_LABELS, read_action
from gateway.staff.proofs import check_proof_async, proof_of_shipment, proof_response, store_proof
from gateway.staff.sessions import StaffUser

log = structlog.get_logger()

PATH = "/staff/postal"
# The action form's text fields, beside the proof file.
FORM_OVERHEAD = 64 * 1024


def _office(staff: StaffUser) -> str:
    assert staff.office_code is not None  # postal accounts always have one (gateway/staff/accounts.py)
    return staff.office_code


def _not_found(_: Request[Any, Any, Any], __: NotFound) -> Response[Any]:
    return page(
        "message.html",
        404,
        title="Không tìm thấy",
        message="Không có bưu gửi này ở bưu cục của bạn.",
    )


class PostalController(Controller):
    path = PATH
    include_in_schema = False
    guards = [requires_staff("postal")]
    exception_handlers = {**STAFF_EXCEPTION_HANDLERS, NotFound: _not_found}
    dependencies = {"staff": Provide(provide_staff)}

    @get("/")
    async def today(
        self, request: Request[Any, Any, Any], state: State, staff: NamedDependency[StaffUser]
    ) -> Response[str]:
        service = _service(request, state)
        day = state.clock.now().astimezone(VN_TZ).date()
        shipments = await service.list_for_office(_office(staff), day)
        pickups = [s for s in shipments if s.kind == ShipmentKind.DOSSIER_PICKUP.value]
        deliveries = [s for s in shipments if s.kind != ShipmentKind.DOSSIER_PICKUP.value]
        return page(
            "postal.html",
            user=staff,
            csrf_field=FORM_FIELD,
            day=day.strftime("%d/%m/%Y"),
            pickups=pickups,
            deliveries=deliveries,
            status_labels=STATUS_LABELS,
            item="",
        )

    @get("/find")
    async def find(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[StaffUser],
        item: FromQuery[str] = "",
    ) -> Response[Any]:
        shipment = await _service(request, state).find_by_item_number(item[:32], _office(staff))
        return Redirect(f"{PATH}/{quote(shipment.id, safe='')}", status_code=303)

    @get("/{shipment_id:str}")
    async def shipment_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[StaffUser],
        shipment_id: FromPath[str],
        done: FromQuery[str] = "",
    ) -> Response[str]:
        service = _service(request, state)
        shipment = await service.get_for_office(shipment_id[:64], _office(staff))
        return await _shipment_view(service, state, staff, shipment, done=done)

    @post("/{shipment_id:str}/events")
    async def record(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[StaffUser],
        shipment_id: FromPath[str],
    ) -> Response[Any]:
        # The guard has read the form already (its CSRF token), within this controller's body limit.
        form = await request.form()
        action = read_action(form, _failure_reasons(state))
        service = _service(request, state)
        office = _office(staff)
        try:
            # The proof is checked (CPU work) before any database work: no transaction, and on SQLite no
            # write lock, is held while an image is decoded.
            checked = None
            if action.event is not None and action.proof is not None:
                checked = await check_proof_async(
                    await action.proof.read(state.settings.proof_max_bytes + 1), state.settings
                )
            shipment = await service.get_for_office(shipment_id[:64], office)
            sid = shipment.id  # a rollback below expires the row; its id is kept
            if action.event is None:
                return await _shipment_view(
                    service, state, staff, shipment, action.errors, status_code=422, action=_requested(form)
                )
            event = action.event
            if checked is not None:
                proof = await store_proof(service.session, checked, sid, office, staff.id, state.clock.now())
                event = replace(event, proof_id=proof.id)
            await service.record_event(sid, event, staff.actor)
            await service.session.commit()
        except NotFound:
            raise
        except DomainError as exc:
            await service.session.rollback()
            errors = {"proof" if exc.type_slug.startswith("proof-") else "status": _message(exc)}
            shipment = await service.get_for_office(shipment_id[:64], office)
            return await _shipment_view(
                service, state, staff, shipment, errors, status_code=exc.status, action=_requested(form)
            )
        log.info("staff_shipment_event", shipment_id=sid, status=event.status.value, staff_id=staff.id)
        return Redirect(f"{PATH}/{quote(sid, safe='')}?done={event.status.value}", status_code=303)

    @get("/{shipment_id:str}/proofs/{proof_id:str}")
    async def proof(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[StaffUser],
        shipment_id: FromPath[str],
        proof_id: FromPath[str],
    ) -> Response[bytes]:
        service = _service(request, state)
        shipment = await service.get_for_office(shipment_id[:64], _office(staff))
        return proof_response(await proof_of_shipment(service.session, proof_id, shipment.id))


def postal_controller(settings: Settings) -> type[PostalController]:
    """The controller with a body limit that lets a proof of `proof_max_bytes` through, and no more."""
    limit = settings.proof_max_bytes + FORM_OVERHEAD
    return type("PostalController", (PostalController,), {"request_max_body_size": limit})


def _failure_reasons(state: State) -> dict[str, str]:
    carrier = state.get("carrier")
    return dict(carrier.failure_reasons) if carrier is not None else {}


def _service(request: Request[Any, Any, Any], state: State) -> ShipmentService:
    return shipment_service(state, request_session(state, request.scope))


_MESSAGES = {
    "proof-too-large": "Tệp chứng từ quá lớn.",
    "proof-type-refused": "Chỉ nhận ảnh JPEG, PNG hoặc tệp PDF.",
    "proof-unreadable": "Không đọc được tệp chứng từ; chụp hoặc chọn lại.",
    "invalid-shipment-transition": "Bưu gửi đang ở trạng thái không cho phép thao tác này.",
}


def _message(exc: DomainError) -> str:
    return _MESSAGES.get(exc.type_slug, exc.detail)


async def _shipment_view(
    service: ShipmentService,
    state: State,
    staff: StaffUser,
    shipment: Shipment,
    errors: dict[str, str] | None = None,
    done: str = "",
    status_code: int = 200,
    action: str = "",
) -> Response[str]:
    current = ShipmentStatus(shipment.status)
    actions = [a for a in ACTIONS if can_move(current, a)]
    return page(
        "shipment.html",
        status_code,
        user=staff,
        csrf_field=FORM_FIELD,
        shipment=shipment,
        timeline=list(reversed(await service.timeline(shipment.id))),
        status_labels=STATUS_LABELS,
        actions=actions,
        action_labels=ACTION_LABELS,
        failure_reasons=_failure_reasons(state),
        errors=errors or {},
        done=ACTION_LABELS.get(ShipmentStatus(done), "") if done in {a.value for a in ACTIONS} else "",
        path=PATH,
        request_action=action,
    )


def _requested(form: Any) -> str:
    value = form.get("status")
    return value[:30] if isinstance(value, str) else ""
