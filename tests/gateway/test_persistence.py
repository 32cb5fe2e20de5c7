"""What the payment rules set is what the database holds: for every kind of change, the row is read back
in a new session and every column compared with the payment as the rules left it.

A column the rules change but the write path forgot (a field left out, a JSON value changed in place where
the ORM cannot see it) fails here, whatever the API tests happen to look at.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import inspect

from contracts.payments import PaymentCreate
from contracts.providers import ProviderOutcome, ProviderResult
from gateway.auth import Caller
from gateway.db.models import Payment
from gateway.payments.service import PaymentService, Recorded
from tests.harness import World, payment_body

pytestmark = pytest.mark.anyio

COLUMNS = [column.key for column in inspect(Payment).column_attrs]


def _result(payment: Payment, outcome: ProviderOutcome, **changes: Any) -> ProviderResult:
    values: dict[str, Any] = {
        "reference": payment.provider_ref,
        "outcome": outcome,
        "amount": payment.amount,
        "transaction_id": "14226112",
        "paid_at": payment.created_at + timedelta(minutes=1),
        "message": "from the provider",
        "codes": {"vnp_ResponseCode": "00" if outcome is ProviderOutcome.SUCCEEDED else "24"},
    }
    return ProviderResult(**(values | changes))


Change = Callable[[PaymentService, Payment, World], Awaitable[Any]]


async def _paid_by_notification(service: PaymentService, p: Payment, world: World) -> None:
    assert service.record(p, _result(p, ProviderOutcome.SUCCEEDED), "ipn") is Recorded.CHANGED


async def _failed_by_notification(service: PaymentService, p: Payment, world: World) -> None:
    assert service.record(p, _result(p, ProviderOutcome.FAILED, transaction_id=None), "ipn") is Recorded.CHANGED


async def _under_review(service: PaymentService, p: Payment, world: World) -> None:
    assert service.record(p, _result(p, ProviderOutcome.UNDER_REVIEW), "ipn") is Recorded.CHANGED


async def _still_pending(service: PaymentService, p: Payment, world: World) -> None:
    assert service.record(p, _result(p, ProviderOutcome.PENDING), "query") is Recorded.UNCHANGED
    p.query_attempts += 1
    service.schedule_query(p)


async def _expired_by_query(service: PaymentService, p: Payment, world: World) -> None:
    world.clock.advance(timedelta(hours=1))
    assert service.record(p, _result(p, ProviderOutcome.NOT_FOUND, amount=None), "query") is Recorded.CHANGED


async def _amount_mismatch(service: PaymentService, p: Payment, world: World) -> None:
    world.clock.advance(timedelta(hours=1))  # past expiry: the outcome becomes formally unknown
    result = _result(p, ProviderOutcome.SUCCEEDED, amount=p.amount + 1)
    assert service.record(p, result, "ipn") is Recorded.AMOUNT_MISMATCH


async def _citizen_returned(service: PaymentService, p: Payment, world: World) -> None:
    service.citizen_returned(p)


async def _cancelled(service: PaymentService, p: Payment, world: World) -> None:
    await service.cancel(Caller(id=p.client_id, name="portal"), p.id)


async def _late_success_after_failure(service: PaymentService, p: Payment, world: World) -> None:
    await _failed_by_notification(service, p, world)
    assert service.record(p, _result(p, ProviderOutcome.SUCCEEDED), "query") is Recorded.CHANGED


async def _refunded(service: PaymentService, p: Payment, world: World) -> None:
    await _paid_by_notification(service, p, world)
    p.refunded_amount += 5000  # as RefundService records a refund that succeeded


CHANGES: dict[str, Change] = {
    "paid by a notification": _paid_by_notification,
    "failed by a notification": _failed_by_notification,
    "under review": _under_review,
    "still pending at a query": _still_pending,
    "expired by a query": _expired_by_query,
    "an amount that is not the payment's": _amount_mismatch,
    "the citizen came back": _citizen_returned,
    "cancelled by the portal": _cancelled,
    "paid after it had failed": _late_success_after_failure,
    "refunded": _refunded,
}


def _row(payment: Payment) -> dict[str, Any]:
    return {name: getattr(payment, name) for name in COLUMNS}


@pytest.mark.parametrize("change", list(CHANGES.values()), ids=list(CHANGES))
async def test_every_column_the_rules_set_is_stored(world: World, change: Change) -> None:
    state = world.app.state
    assert world.client is not None
    caller = Caller.of(world.client)
    async with state.sessionmaker() as session:
        service = PaymentService(session, state.providers, state.settings, world.clock)
        payment = await service.create(caller, PaymentCreate.model_validate(payment_body()), "203.0.113.7")
        await session.commit()
        created = _row(payment)
        await change(service, payment, world)
        await session.commit()
        expected = _row(payment)
    assert expected != created, "the change under test changed nothing"
    async with state.sessionmaker() as session:
        stored = _row(await session.get_one(Payment, payment.id))
    assert stored == expected
