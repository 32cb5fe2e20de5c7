from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, HeaderParameter, JSONBody, PathParameter, QueryParameter

from contracts.payments import (
    PaymentCreate,
    PaymentEventOut,
    PaymentOut,
    PaymentPage,
    PaymentStatus,
    RefundCreate,
    RefundOut,
    RefundStatus,
)
from gateway.db.request_session import READ_ONLY
from gateway.deps import PortalContext, provide_portal
from gateway.openapi import (
    BODY,
    IDEMPOTENCY_KEY,
    IDEMPOTENCY_KEY_SCHEMA,
    NO_NUL,
    PORTAL_KEY,
    IdempotentOperation,
    problems,
)
from gateway.payments.views import event_out, payment_out, refund_out

IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name=IDEMPOTENCY_KEY,
        required=False,
        description="One key per new request; a retry with the same key and body replays it.",
        schema_extra=IDEMPOTENCY_KEY_SCHEMA,
    ),
]
PaymentId = Annotated[str, PathParameter(pattern=NO_NUL)]
Filter = Annotated[str | None, QueryParameter(pattern=NO_NUL)]


def caller_ip(request: Request[Any, Any, Any]) -> str:
    host = request.client.host if request.client else ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:  # a unix socket or a test client has no IP address
        return "127.0.0.1"


def _operation(request: Request[Any, Any, Any]) -> str:
    return f"{request.method} {request.url.path}"


async def idempotent(
    request: Request[Any, Any, Any],
    portal: PortalContext,
    key: str | None,
    work: Callable[[], Awaitable[tuple[int, Any]]],
    current: Callable[[], Awaitable[tuple[int, Any] | None]] | None = None,
) -> Response[Any]:
    """`work` under the Idempotency-Key (gateway/idempotency.py): the key is claimed first, and the
    response is stored and committed with the work's last writes on the request's session.

    A replay answers what `current` says now, if given and it says something, instead of the stored
    response: for what the provider settles later (a refund), the state it has reached."""
    idem = portal.idempotency
    replay = await idem.begin(portal.caller.id, key, _operation(request), await request.body())
    if replay is not None:
        status_code, body = (await current() if current else None) or (replay.status_code, replay.body)
        return Response(body, status_code=status_code, headers={"Idempotent-Replayed": "true"})
    try:
        status_code, body = await work()
        await idem.complete(portal.session, status_code, body)
        await portal.session.commit()
    except BaseException:
        await portal.session.rollback()
        await idem.release()
        raise
    return Response(body, status_code=status_code)


class PaymentController(Controller):
    path = "/v1/payments"
    tags = ["payments"]
    dependencies = {"portal": Provide(provide_portal)}
    security = PORTAL_KEY

    @post(
        "/",
        operation_id="createPayment",
        status_code=201,
        # 502/504: a provider whose checkout is an API call refused it or did not answer; 503: it is paused.
        responses=problems(*BODY, 409, 422, 502, 503, 504),
        operation_class=IdempotentOperation,
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[PaymentCreate],
        portal: NamedDependency[PortalContext],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PaymentOut]:
        """Create a fee payment for a dossier; answers the provider's checkout for the citizen."""

        async def work() -> tuple[int, Any]:
            payment = await portal.payments.requested_with(portal.caller, idempotency_key)
            if payment is None:
                payment = await portal.payments.create(portal.caller, data, caller_ip(request), idempotency_key)
            else:
                payment = await portal.payments.resume(payment)
            # As JSON once: the same bytes are stored for a replay and sent.
            return 201, payment_out(payment).model_dump_json().encode()

        return await idempotent(request, portal, idempotency_key, work)

    @get("/", operation_id="listPayments", opt=READ_ONLY, responses=problems(422))
    async def list_payments(
        self,
        portal: NamedDependency[PortalContext],
        dossier_code: Filter = None,
        status: FromQuery[PaymentStatus | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        cursor: Filter = None,
    ) -> PaymentPage:
        rows, next_cursor = await portal.payments.search(portal.caller, dossier_code, status, limit, cursor)
        return PaymentPage(items=[payment_out(p) for p in rows], next_cursor=next_cursor)

    @get("/{payment_id:str}", operation_id="getPayment", opt=READ_ONLY, responses=problems(404))
    async def get_payment(
        self,
        portal: NamedDependency[PortalContext],
        payment_id: PaymentId,
    ) -> PaymentOut:
        return payment_out(await portal.payments.get(portal.caller, payment_id))

    @get("/{payment_id:str}/events", operation_id="listPaymentEvents", opt=READ_ONLY, responses=problems(404))
    async def list_events(
        self,
        portal: NamedDependency[PortalContext],
        payment_id: PaymentId,
    ) -> list[PaymentEventOut]:
        """The audit trail: every status change with its time, cause and the provider's raw codes."""
        return [event_out(e) for e in await portal.payments.events(portal.caller, payment_id)]

    @post("/{payment_id:str}/cancel", operation_id="cancelPayment", status_code=200, responses=problems(404, 409))
    async def cancel(
        self,
        portal: NamedDependency[PortalContext],
        payment_id: PaymentId,
    ) -> PaymentOut:
        payment = await portal.payments.cancel(portal.caller, payment_id)
        await portal.session.commit()
        return payment_out(payment)

    @post(
        "/{payment_id:str}/refunds",
        operation_id="createRefund",
        status_code=201,
        responses=problems(*BODY, 404, 409, 422, 502, 504),
        operation_class=IdempotentOperation,
    )
    async def create_refund(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[RefundCreate],
        portal: NamedDependency[PortalContext],
        payment_id: PaymentId,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[RefundOut]:
        """Refund all or part of a succeeded payment; the total refunded never exceeds what was paid."""

        async def work() -> tuple[int, Any]:
            # A refund already made for this key means an earlier try died mid-way: finish that one.
            refund = await portal.refunds.requested_with(portal.caller, payment_id, idempotency_key)
            if refund is None:
                refund = await portal.refunds.reserve(
                    portal.caller, payment_id, data, portal.caller.name, idempotency_key
                )
                await portal.session.commit()
            if refund.status == RefundStatus.PENDING.value:
                refund = await portal.refunds.send(refund.id, requested_by=portal.caller.name)
            return 201, refund_out(refund).model_dump(mode="json")

        async def current() -> tuple[int, Any] | None:
            refund = await portal.refunds.requested_with(portal.caller, payment_id, idempotency_key)
            return (201, refund_out(refund).model_dump(mode="json")) if refund else None

        return await idempotent(request, portal, idempotency_key, work, current)

    @get("/{payment_id:str}/refunds", operation_id="listRefunds", opt=READ_ONLY, responses=problems(404))
    async def list_refunds(
        self,
        portal: NamedDependency[PortalContext],
        payment_id: PaymentId,
    ) -> list[RefundOut]:
        return [refund_out(r) for r in await portal.refunds.for_payment(portal.caller, payment_id)]
