from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.webhooks import WebhookEndpointIn, WebhookEndpointOut, WebhookEventOut, WebhookEventStatus
from gateway.auth import Caller
from gateway.clock import Clock
from gateway.db.models import Client, WebhookEvent
from gateway.db.request_session import READ_ONLY
from gateway.deps import provide_client
from gateway.errors import NotFound
from gateway.openapi import BODY, NO_NUL, PORTAL_KEY, problems
from gateway.webhooks.dispatcher import Dispatcher

EventId = Annotated[str, PathParameter(pattern=NO_NUL)]


def _out(e: WebhookEvent) -> WebhookEventOut:
    return WebhookEventOut.model_validate(e, from_attributes=True)


class WebhookController(Controller):
    path = "/v1"
    tags = ["webhooks"]
    dependencies = {"client": Provide(provide_client)}
    security = PORTAL_KEY

    # 404: the client was removed while its key was still cached (gateway/auth.py).
    @get("/webhook-endpoint", operation_id="getWebhookEndpoint", opt=READ_ONLY, responses=problems(404))
    async def get_endpoint(
        self, client: NamedDependency[Caller], db_session: NamedDependency[AsyncSession]
    ) -> WebhookEndpointOut:
        row = await _client_row(db_session, client)
        return WebhookEndpointOut(url=row.webhook_url, secret=row.webhook_secret)

    @put("/webhook-endpoint", operation_id="setWebhookEndpoint", responses=problems(*BODY, 404, 422))
    async def set_endpoint(
        self,
        client: NamedDependency[Caller],
        db_session: NamedDependency[AsyncSession],
        state: State,
        data: JSONBody[WebhookEndpointIn],
    ) -> WebhookEndpointOut:
        """Refused (422) unless the URL is https to a host whose every address is public."""
        url = str(data.url)
        dispatcher: Dispatcher = state.dispatcher
        await dispatcher.targets.check(url)
        row = await _client_row(db_session, client)
        row.webhook_url = url
        await db_session.commit()
        return WebhookEndpointOut(url=row.webhook_url, secret=row.webhook_secret)

    @get("/webhook-events", operation_id="listWebhookEvents", opt=READ_ONLY, responses=problems())
    async def list_events(
        self,
        client: NamedDependency[Caller],
        db_session: NamedDependency[AsyncSession],
        status: FromQuery[WebhookEventStatus | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> list[WebhookEventOut]:
        query = select(WebhookEvent).where(WebhookEvent.client_id == client.id)
        if status:
            query = query.where(WebhookEvent.status == status.value)
        rows = await db_session.scalars(query.order_by(WebhookEvent.created_at.desc()).limit(limit))
        return [_out(e) for e in rows]

    @get("/webhook-events/{event_id:str}", operation_id="getWebhookEvent", opt=READ_ONLY, responses=problems(404))
    async def get_event(
        self,
        client: NamedDependency[Caller],
        db_session: NamedDependency[AsyncSession],
        event_id: EventId,
    ) -> WebhookEventOut:
        return _out(await _own_event(db_session, client, event_id))

    @post(
        "/webhook-events/{event_id:str}/resend",
        operation_id="resendWebhookEvent",
        status_code=202,
        responses=problems(404),
    )
    async def resend(
        self,
        client: NamedDependency[Caller],
        db_session: NamedDependency[AsyncSession],
        clock: NamedDependency[Clock],
        event_id: EventId,
    ) -> WebhookEventOut:
        """Queue the event again with a fresh retry schedule: for a dead event once the endpoint is fixed."""
        event = await _own_event(db_session, client, event_id)
        event.status = WebhookEventStatus.PENDING.value
        event.attempts = 0
        # locked_until stays: if a dispatcher holds the event right now, it finishes first.
        event.next_attempt_at = clock.now()
        await db_session.commit()
        return _out(event)


async def _client_row(session: AsyncSession, client: Caller) -> Client:
    # The caller is cached; its endpoint and secret are read fresh, as another process may change them.
    row = await session.get(Client, client.id)
    if row is None:
        raise NotFound(f"Client {client.id} does not exist.")
    return row


async def _own_event(session: AsyncSession, client: Caller, event_id: str) -> WebhookEvent:
    event = await session.scalar(
        select(WebhookEvent).where(WebhookEvent.id == event_id, WebhookEvent.client_id == client.id)
    )
    if event is None:
        raise NotFound(f"No webhook event '{event_id}'.")
    return event
