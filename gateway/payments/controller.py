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
from gateway.db.direct import DuplicateRow, Transaction
from gateway.db.request_session import READ_ONLY
from gateway.deps import Portal, provide_portal
from gateway.idempotency import usable_key
from gateway.logging import notes_undone_on_error
from gateway.openapi import (
    BODY,
    IDEMPOTENCY_KEY,
    IDEMPOTENCY_KEY_SCHEMA,
    NO_NUL,
    PORTAL_KEY,
    IdempotentOperation,
    problems,
)
from gateway.payments.service import read_payment
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
    portal: Portal,
    key: str | None,
    work: Callable[[], Awaitable[tuple[int, Any]]],
) -> Response[Any]:
    """`work` under the Idempotency-Key: claimed first, committed on its own (gateway/idempotency.py)."""
    idem = portal.idempotency
    replay = await idem.begin(portal.caller.id, key, _operation(request), await request.body())
    if replay is not None:
        return Response(replay.body, status_code=replay.status_code, headers={"Idempotent-Replayed": "true"})
    try:
        status_code, body = await work()
        if not idem.completed:  # else work stored the response in its own transaction
            await idem.complete(status_code, body)
            await idem.session.commit()
    except BaseException:
        await idem.release()
        raise
    return Response(body, status_code=status_code)


async def idempotent_writes(
    request: Request[Any, Any, Any],
    portal: Portal,
    key: str | None,
    work: Callable[[Transaction], tuple[int, Any]],
) -> Response[Any]:
    """`work` that only writes to the database, with the first use of its key and its response in one
    transaction (gateway/idempotency.py). A key used before, found by that transaction's commit, or by
    a look after a failed one, is handed to `idempotent`: a replay, a 409 or a 422, or the work done
    anew where an expired key is taken over."""
    idem = portal.idempotency
    usable = usable_key(key)
    body = await request.body()
    try:
        with notes_undone_on_error():
            async with portal.db.transaction() as tx:
                status_code, response = work(tx)
                idem.record(tx, portal.caller.id, usable, _operation(request), body, status_code, response)
    except DuplicateRow:
        pass
    except Exception:
        if not await idem.known(portal.caller.id, usable):
            raise
    else:
        return Response(response, status_code=status_code)

    async def in_transaction() -> tuple[int, Any]:
        with notes_undone_on_error():
            async with portal.db.transaction() as tx:
                status_code, response = work(tx)
                await idem.complete(status_code, response, tx)
        return status_code, response

    return await idempotent(request, portal, key, in_transaction)


class PaymentController(Controller):
    path = "/v1/payments"
    tags = ["payments"]
    dependencies = {"portal": Provide(provide_portal)}
    security = PORTAL_KEY

    @post(
        "/",
        operation_id="createPayment",
        status_code=201,
        responses=problems(*BODY, 409, 422),
        operation_class=IdempotentOperation,
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[PaymentCreate],
        portal: NamedDependency[Portal],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PaymentOut]:
        """Create a fee payment for a dossier; answers the provider's checkout URL for the citizen."""

        def work(tx: Transaction) -> tuple[int, Any]:
            payment = portal.rules(tx).create(portal.caller, data, caller_ip(request))
            # As JSON once: the same bytes are stored for a replay and sent.
            return 201, payment_out(payment).model_dump_json().encode()

        return await idempotent_writes(request, portal, idempotency_key, work)

    @get("/", operation_id="listPayments", opt=READ_ONLY, responses=problems(422))
    async def list_payments(
        self,
        portal: NamedDependency[Portal],
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
        portal: NamedDependency[Portal],
        payment_id: PaymentId,
    ) -> PaymentOut:
        return payment_out(await read_payment(portal.db, portal.caller, payment_id))

    @get("/{payment_id:str}/events", operation_id="listPaymentEvents", opt=READ_ONLY, responses=problems(404))
    async def list_events(
        self,
        portal: NamedDependency[Portal],
        payment_id: PaymentId,
    ) -> list[PaymentEventOut]:
        """The audit trail: every status change with its time, cause and the provider's raw codes."""
        return [event_out(e) for e in await portal.payments.events(portal.caller, payment_id)]

    @post("/{payment_id:str}/cancel", operation_id="cancelPayment", status_code=200, responses=problems(404, 409))
    async def cancel(
        self,
        portal: NamedDependency[Portal],
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
        portal: NamedDependency[Portal],
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
                await portal.refunds.execute(refund, requested_by=portal.caller.name)
            return 201, refund_out(refund).model_dump(mode="json")

        return await idempotent(request, portal, idempotency_key, work)

    @get("/{payment_id:str}/refunds", operation_id="listRefunds", opt=READ_ONLY, responses=problems(404))
    async def list_refunds(
        self,
        portal: NamedDependency[Portal],
        payment_id: PaymentId,
    ) -> list[RefundOut]:
        return [refund_out(r) for r in await portal.refunds.for_payment(portal.caller, payment_id)]
