"""Dependency providers: the calling portal client and the services it uses (the session:
gateway/db/request_session.py)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.types import Scope
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth import Caller
from gateway.db.request_session import request_session
from gateway.idempotency import Idempotency
from gateway.limits import authenticated
from gateway.payments.refunds import RefundService
from gateway.payments.service import PaymentService


def payment_service(state: State, session: AsyncSession) -> PaymentService:
    return PaymentService(session, state.providers, state.settings, state.clock)


async def provide_client(request: Request[Any, Any, Any], state: State) -> Caller:
    return await authenticated(request, state)


class PortalContext:
    """The calling portal client and the services it may use, all on the request's one session
    (opened on first use)."""

    caller: Caller

    def __init__(self, scope: Scope, state: State) -> None:
        self._scope = scope
        self._state = state

    @cached_property
    def session(self) -> AsyncSession:
        return request_session(self._state, self._scope)

    @cached_property
    def payments(self) -> PaymentService:
        return payment_service(self._state, self.session)

    @cached_property
    def refunds(self) -> RefundService:
        return RefundService(self.payments)

    @cached_property
    def idempotency(self) -> Idempotency:
        s = self._state.settings
        return Idempotency(
            self._state.sessionmaker, self._state.clock, s.idempotency_lock_seconds, s.idempotency_retention_hours
        )


async def provide_portal(request: Request[Any, Any, Any], state: State) -> PortalContext:
    portal = PortalContext(request.scope, state)
    portal.caller = await provide_client(request, state)
    return portal


async def provide_payment_service(state: State, db_session: NamedDependency[AsyncSession]) -> PaymentService:
    return payment_service(state, db_session)
