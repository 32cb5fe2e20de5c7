"""Dependency providers: one database session per request, the calling client, the services."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.types import Scope
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth import Caller, authenticate, presented_key
from gateway.idempotency import Idempotency
from gateway.payments.refunds import RefundService
from gateway.payments.service import PaymentService

DB_SESSION = "dvcgw.db_session"


async def provide_db_session(state: State, scope: Scope) -> AsyncSession:
    """One session per request, closed by DbSessionMiddleware whatever happens to the request.

    Not a generator dependency: Litestar 2.25 skips the clean-up of generator dependencies when a later
    dependency raises (resolve_dependencies drops its DependencyCleanupGroup), so every request refused
    by provide_client left a pooled connection checked out until the garbage collector found it."""
    store = scope["state"]
    session: AsyncSession | None = store.get(DB_SESSION)
    if session is None:
        session = store[DB_SESSION] = state.sessionmaker()
    return session


async def provide_client(
    request: Request[Any, Any, Any], state: State, db_session: NamedDependency[AsyncSession]
) -> Caller:
    return await authenticate(db_session, presented_key(request), state.callers)


async def provide_payment_service(state: State, db_session: NamedDependency[AsyncSession]) -> PaymentService:
    return PaymentService(db_session, state.providers, state.settings, state.clock)


async def provide_refund_service(payments: NamedDependency[PaymentService]) -> RefundService:
    return RefundService(payments)


async def provide_idempotency(state: State, db_session: NamedDependency[AsyncSession]) -> Idempotency:
    s = state.settings
    return Idempotency(db_session, state.clock, s.idempotency_lock_seconds, s.idempotency_retention_hours)
