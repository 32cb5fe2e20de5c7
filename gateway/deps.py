"""Dependency providers: the calling client and the services (the session: gateway/db/request_session.py)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth import Caller, authenticate, presented_key
from gateway.idempotency import Idempotency
from gateway.payments.refunds import RefundService
from gateway.payments.service import PaymentService


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
