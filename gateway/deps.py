"""Dependency providers: the calling client and the services (the session: gateway/db/request_session.py).

A portal handler takes one dependency, `portal`, rather than a client and a service side by side:
Litestar resolves sibling dependencies in an anyio task group, which cost about a sixth of a read's
CPU (bench/README.md); a chain of single dependencies is awaited in place.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth import Caller, authenticate, presented_key
from gateway.db.request_session import provide_db_session
from gateway.idempotency import Idempotency
from gateway.payments.refunds import RefundService
from gateway.payments.service import PaymentService


def payment_service(state: State, session: AsyncSession) -> PaymentService:
    return PaymentService(session, state.providers, state.settings, state.clock)


async def provide_client(
    request: Request[Any, Any, Any], state: State, db_session: NamedDependency[AsyncSession]
) -> Caller:
    return await authenticate(db_session, presented_key(request), state.callers)


class Portal:
    """The calling portal client and the services it may use, all on the request's one session."""

    def __init__(self, caller: Caller, session: AsyncSession, state: State) -> None:
        self.caller = caller
        self.session = session
        self._state = state
        self.payments = payment_service(state, session)

    @cached_property
    def refunds(self) -> RefundService:
        return RefundService(self.payments)

    @cached_property
    def idempotency(self) -> Idempotency:
        s = self._state.settings
        return Idempotency(self.session, self._state.clock, s.idempotency_lock_seconds, s.idempotency_retention_hours)


async def provide_portal(request: Request[Any, Any, Any], state: State) -> Portal:
    # The session is opened here rather than injected: each level of injection costs every request.
    session = await provide_db_session(state, request.scope)
    return Portal(await provide_client(request, state, session), session, state)


async def provide_payment_service(state: State, db_session: NamedDependency[AsyncSession]) -> PaymentService:
    return payment_service(state, db_session)
