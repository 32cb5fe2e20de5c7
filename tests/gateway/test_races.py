"""Two writers record the same payment's success: the loser's commit fails in a way `lost_race` recognises,
whichever row the unit of work wrote first, and a mistake of the writer's own is not mistaken for a race."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from contracts.payments import PaymentCreate
from contracts.providers import ProviderOutcome, ProviderResult
from gateway.auth import Caller
from gateway.db.models import JournalEntry, Payment, PaymentEvent
from gateway.db.races import RACE_ERRORS, lost_race
from gateway.payments.service import PaymentService, Recorded
from gateway.problems import from_database_error
from tests.harness import ON_POSTGRES, World, payment_body

pytestmark = pytest.mark.anyio


def _paid(payment: Payment) -> ProviderResult:
    return ProviderResult(
        reference=payment.provider_ref,
        outcome=ProviderOutcome.SUCCEEDED,
        amount=payment.amount,
        transaction_id="14226112",
        paid_at=payment.created_at,
        codes={"vnp_ResponseCode": "00"},
    )


@pytest.mark.skipif(
    not ON_POSTGRES, reason="SQLite begins every transaction IMMEDIATE: two writers never overlap, so none can lose"
)
async def test_the_second_writer_of_a_success_loses_a_race_and_nothing_is_posted_twice(world: World) -> None:
    state = world.app.state
    assert world.client is not None
    async with state.sessionmaker() as session:
        service = PaymentService(session, state.providers, state.settings, world.clock)
        created = await service.create(Caller.of(world.client), PaymentCreate.model_validate(payment_body()), "")
        await session.commit()
    async with state.sessionmaker() as first, state.sessionmaker() as second:
        seen = [await s.get_one(Payment, created.id) for s in (first, second)]
        services = [PaymentService(s, state.providers, state.settings, world.clock) for s in (first, second)]
        for service, payment in zip(services, seen, strict=True):
            assert service.record(payment, _paid(payment), "ipn") is Recorded.CHANGED
        await first.commit()
        with pytest.raises(RACE_ERRORS) as lost:
            await second.commit()
        assert lost_race(lost.value)
        # The unit of work inserts the journal entry before it updates the payment: the unique cause is met
        # first. An API request that meets it answers 409 like one that meets a stale version.
        assert isinstance(lost.value, IntegrityError)
        assert from_database_error(lost.value).status_code == 409
    async with state.sessionmaker() as session:
        entries = await session.scalar(select(func.count()).where(JournalEntry.cause_id == created.id))
        assert entries == 1


async def test_a_writers_own_integrity_mistake_is_not_a_race(world: World) -> None:
    async with world.app.state.sessionmaker() as session:
        session.add(PaymentEvent(payment_id="pay_does_not_exist", to_status="succeeded", cause="ipn"))
        with pytest.raises(IntegrityError) as mistake:
            await session.commit()
    assert not lost_race(mistake.value)
    assert from_database_error(mistake.value).status_code == 500
