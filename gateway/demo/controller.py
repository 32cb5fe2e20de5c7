"""The demo at /demo: a person plays the portal in a browser.

They create a fee payment for a sample dossier, pay it on the VNPay simulator's page, come back, and
watch the status change and the webhook arrive. The demo is a portal of its own (the "Demo portal"
client): it goes through PaymentService in-process instead of the HTTP API, only ever shows that
client's payments, and receives that client's webhooks at /demo/webhooks like any portal would.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import segno
import structlog
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth import Caller, new_client
from gateway.db.models import Client, Payment, PaymentEvent
from gateway.demo.form import (
    KIND_LABELS,
    PROCEDURE_CODE,
    PROCEDURE_NAME,
    STATUS_LABELS,
    DemoForm,
    Errors,
    read_form,
    sample_form,
    validate,
    vn_time,
    vnd,
)
from gateway.deps import provide_payment_service
from gateway.errors import NotFound
from gateway.payments.service import PaymentService
from gateway.webhooks.signing import verify

log = structlog.get_logger()

DEMO_CLIENT_NAME = "Demo portal"
RECENT_PAYMENTS = 10
WEBHOOKS_KEPT = 200

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.filters.update(vnd=vnd, vn_time=vn_time)
_templates.globals.update(
    status_labels=STATUS_LABELS,
    kind_labels=KIND_LABELS,
    procedure_code=PROCEDURE_CODE,
    procedure_name=PROCEDURE_NAME,
)


def _page(template: str, status_code: int = 200, **context: Any) -> Response[str]:
    html = _templates.get_template(template).render(**context)
    return Response(html, media_type=MediaType.HTML, status_code=status_code, headers={"Cache-Control": "no-store"})


def _base_url(state: State) -> str:
    return str(state.settings.public_base_url).rstrip("/")


# -- the demo portal client --------------------------------------------------------------------------


async def demo_client(state: State, session: AsyncSession) -> Client:
    """The "Demo portal" client, created on first use; its id is kept in app.state after the first lookup."""
    client_id = state.get("demo_client_id")
    client = await session.get(Client, client_id) if client_id else None
    if client is not None:
        return client
    hook = f"{_base_url(state)}/demo/webhooks"
    # Oldest first: should two processes both create it on their first request, all agree on one.
    client = await session.scalar(
        select(Client).where(Client.name == DEMO_CLIENT_NAME).order_by(Client.created_at, Client.id).limit(1)
    )
    if client is None:
        # The demo calls PaymentService in-process, so the API key new_client makes is never needed.
        client, _ = new_client(DEMO_CLIENT_NAME, state.clock.now(), hook)
        session.add(client)
        await session.commit()
        log.info("demo_client_created", client_id=client.id)
    elif client.webhook_url != hook:
        # public_base_url changed since the client was made: its webhooks must still reach this receiver.
        client.webhook_url = hook
        await session.commit()
    state["demo_client_id"] = client.id
    return client


async def provide_demo_client(state: State, db_session: NamedDependency[AsyncSession]) -> Client:
    return await demo_client(state, db_session)


# -- webhooks received by the demo portal --------------------------------------------------------------


@dataclass
class ReceivedWebhook:
    webhook_id: str
    type: str
    payment_id: str | None
    received_at: datetime
    signature_valid: bool
    deliveries: int = 1  # at-least-once delivery: a repeat of a webhook-id only counts here

    def view(self) -> dict[str, Any]:
        return {
            "webhook_id": self.webhook_id,
            "type": self.type,
            "received_at": vn_time(self.received_at),
            "signature_valid": self.signature_valid,
            "deliveries": self.deliveries,
        }


def received_webhooks(state: State) -> deque[ReceivedWebhook]:
    # In memory, per process, lost on restart: enough for a demo watched in one browser. A real portal
    # stores what it receives (and the webhook-ids it has seen) in its own database.
    received: deque[ReceivedWebhook] | None = state.get("demo_webhooks")
    if received is None:
        received = state["demo_webhooks"] = deque(maxlen=WEBHOOKS_KEPT)
    return received


def _event_summary(payload: str) -> tuple[str, str | None]:
    try:
        body = json.loads(payload)
    except ValueError:
        return "?", None
    if not isinstance(body, dict):
        return "?", None
    data = body.get("data")
    if not isinstance(data, dict):
        data = {}
    # Refund events carry the refund's id in data.id and the payment's in data.payment_id.
    payment_id = data.get("payment_id") or data.get("id")
    return str(body.get("type", "?"))[:50], str(payment_id)[:40] if payment_id else None


# -- views ---------------------------------------------------------------------------------------------


def _payment_state(payment: Payment, events: list[PaymentEvent], received: deque[ReceivedWebhook]) -> dict[str, Any]:
    """What the payment page shows and polls: one shape for the first render and for /state."""
    return {
        "status": payment.status,
        "status_label": STATUS_LABELS.get(payment.status, payment.status),
        "paid_at": vn_time(payment.paid_at),
        "events": [
            {
                "at": vn_time(e.occurred_at),
                "from": e.from_status,
                "to": e.to_status,
                "change": (
                    STATUS_LABELS.get(e.to_status, e.to_status)
                    if e.from_status is None
                    else f"{STATUS_LABELS.get(e.from_status, e.from_status)} → "
                    f"{STATUS_LABELS.get(e.to_status, e.to_status)}"
                ),
                "cause": e.cause,
                "detail": e.detail,
            }
            for e in events
        ],
        "webhooks": [w.view() for w in received if w.payment_id == payment.id],
    }


def qr_image(payload: str) -> str:
    """The QR of `payload` as an SVG data URI, for an <img> (a citizen scans it with a banking app)."""
    return segno.make(payload, error="m").svg_data_uri(scale=6, border=2)


class DemoController(Controller):
    path = "/demo"
    include_in_schema = False
    dependencies = {"payments": Provide(provide_payment_service), "demo": Provide(provide_demo_client)}

    async def _form_page(
        self, demo: Client, payments: PaymentService, form: DemoForm, errors: Errors, status_code: int = 200
    ) -> Response[str]:
        recent = await payments.session.scalars(
            select(Payment)
            .where(Payment.client_id == demo.id)
            .order_by(Payment.created_at.desc(), Payment.id.desc())
            .limit(RECENT_PAYMENTS)
        )
        providers = {name: payments.providers.get(name).display_name for name in payments.providers.names()}
        form.provider = form.provider or next(iter(providers), "")
        return _page("index.html", status_code, form=form, errors=errors, recent=list(recent), providers=providers)

    @get("/")
    async def index(
        self, state: State, demo: NamedDependency[Client], payments: NamedDependency[PaymentService]
    ) -> Response[str]:
        return await self._form_page(demo, payments, sample_form(state.clock.now()), Errors())

    @post("/payments")
    async def create(
        self,
        request: Request[Any, Any, Any],
        state: State,
        demo: NamedDependency[Client],
        payments: NamedDependency[PaymentService],
    ) -> Response[Any]:
        form = read_form(await request.form())
        # The payment id is not known before creation: the gateway appends payment_id (and status) when
        # it sends the browser back, and /demo/return forwards to the payment's page.
        form.provider = form.provider or next(iter(state.providers.names()), "")
        data, errors = validate(form, f"{_base_url(state)}/demo/return")
        if data is None:
            return await self._form_page(demo, payments, form, errors, status_code=400)
        client_ip = request.client.host if request.client else "127.0.0.1"
        payment = await payments.create(Caller.of(demo), data, client_ip)
        await payments.session.commit()
        return Redirect(f"/demo/payments/{payment.id}", status_code=303)

    @get("/return")
    async def browser_return(self, payment_id: FromQuery[str | None] = None) -> Redirect:
        if not payment_id:
            return Redirect("/demo", status_code=303)
        return Redirect(f"/demo/payments/{quote(payment_id, safe='')}", status_code=303)

    @get("/payments/{payment_id:str}")
    async def payment_page(
        self,
        state: State,
        demo: NamedDependency[Client],
        payments: NamedDependency[PaymentService],
        payment_id: FromPath[str],
    ) -> Response[str]:
        try:
            payment = await payments.get(Caller.of(demo), payment_id)
        except NotFound:
            return _page("not_found.html", 404, payment_id=payment_id)
        events = await payments.events(Caller.of(demo), payment_id)
        view = _payment_state(payment, events, received_webhooks(state))
        provider = state.providers.get(payment.provider).display_name
        qr = qr_image(payment.qr_code) if payment.qr_code else None
        return _page("payment.html", payment=payment, view=view, provider=provider, qr=qr)

    @get("/payments/{payment_id:str}/state")
    async def payment_state(
        self,
        state: State,
        demo: NamedDependency[Client],
        payments: NamedDependency[PaymentService],
        payment_id: FromPath[str],
    ) -> dict[str, Any]:
        payment = await payments.get(Caller.of(demo), payment_id)  # NotFound: a 404 problem
        events = await payments.events(Caller.of(demo), payment_id)
        return _payment_state(payment, events, received_webhooks(state))

    @post("/webhooks", status_code=204)
    async def receive_webhook(
        self, request: Request[Any, Any, Any], state: State, demo: NamedDependency[Client]
    ) -> None:
        """The demo portal's receiver: verify the Standard Webhooks signature, dedupe on webhook-id."""
        raw = await request.body()
        try:
            payload = raw.decode()
        except UnicodeDecodeError:
            payload = ""
        headers = {k.lower(): v for k, v in request.headers.items()}
        valid = bool(payload) and verify(demo.webhook_secret, headers, payload, state.clock.now())
        webhook_id = headers.get("webhook-id", "")[:100]
        event_type, payment_id = _event_summary(payload)
        received = received_webhooks(state)
        seen = next((w for w in received if w.signature_valid and w.webhook_id == webhook_id), None)
        if valid and seen is not None:
            seen.deliveries += 1
        else:
            # Forged or broken ones are kept too, marked invalid, so the page can show them being refused.
            received.append(ReceivedWebhook(webhook_id, event_type, payment_id, state.clock.now(), valid))
        log.info("demo_webhook_received", webhook_id=webhook_id, type=event_type, signature_valid=valid)
        if not valid:
            raise NotAuthorizedException("The webhook signature is not valid.")
