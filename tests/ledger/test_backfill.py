"""`dvc-gateway ledger backfill`: a database from before the ledger (succeeded payments, refunds and COD
with no entries) gets the entries a live success would have posted, once, and then agrees with itself."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.models import JournalEntry, Posting
from gateway.ledger import accounts
from gateway.ledger import backfill as backfill_module
from gateway.ledger.backfill import backfill
from gateway.ledger.balances import balances
from gateway.ledger.checks import check_ledger
from gateway.ledger.entries import NewEntry
from gateway.ledger.posting import post
from tests.harness import ON_POSTGRES, World
from tests.ledger.world import before_the_ledger
from tests.receipts.helpers import paid, refund

pytestmark = pytest.mark.anyio

AGENCY = "000.00.12.H29"  # the agency of tests.harness.payment_body


async def test_old_payments_and_refunds_are_posted_once_as_a_live_success_posts_them(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as old:
        before_the_ledger(old)
        first, second = await paid(world), await paid(world)  # each 8,000 lệ phí + 27,000 postage
        world.clock.advance(timedelta(minutes=1))
        await refund(world, first["id"], amount=30_000)  # the postage, then 3,000 of the agency's
        world.clock.advance(timedelta(minutes=1))
        last = await refund(world, first["id"], amount=5_000)  # the agency's other 5,000
    sessionmaker = world.app.state.sessionmaker
    async with sessionmaker() as session:
        assert {v.rule for v in await check_ledger(session)} == {"payment_status_agrees", "refund_status_agrees"}

    dry = await backfill(sessionmaker, world.clock.now(), dry_run=True)
    assert (dry.payments, dry.refunds, dry.cod) == (2, 2, 0)
    async with sessionmaker() as session:
        assert list(await session.scalars(select(JournalEntry))) == []

    done = await backfill(sessionmaker, world.clock.now())
    assert (done.payments, done.refunds, done.cod, done.refused) == (2, 2, 0, [])
    async with sessionmaker() as session:
        assert await check_ledger(session) == []
        assert {b.account: b.balance for b in await balances(session)} == {
            accounts.provider_clearing("vnpay"): 35_000,
            accounts.fees_receivable(AGENCY): 16_000,
            accounts.refunds(AGENCY): 8_000,
            accounts.postage_payable(): 27_000,
        }
        # The later refund is split after the earlier one, as it was made: nothing of the postage is left.
        postings = await session.execute(
            select(Posting.account_kind, Posting.amount)
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(JournalEntry.cause_id == last["id"])
        )
        assert sorted(postings) == [("provider_clearing", -5_000), ("refunds", 5_000)]
        entry = await session.scalar(select(JournalEntry).where(JournalEntry.cause_id == second["id"]))
        assert entry is not None and entry.recorded_at > entry.occurred_at  # dated when it was paid

    again = await backfill(sessionmaker, world.clock.now())
    assert (again.payments, again.refunds, again.cod) == (0, 0, 0)


@pytest.mark.skipif(
    not ON_POSTGRES, reason="SQLite begins every transaction IMMEDIATE: no live success can post inside the batch"
)
async def test_a_batch_that_loses_a_race_to_a_live_success_is_read_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as old:
        before_the_ledger(old)
        await paid(world)
        await paid(world)
    sessionmaker = world.app.state.sessionmaker
    raced: list[str] = []

    async def live_success_first(session: AsyncSession, entry: NewEntry, recorded_at: datetime | None = None) -> bool:
        """The first entry the backfill posts is committed first by another transaction, as a live success
        posting between the backfill's look and its commit would; the backfill's own copy then goes in
        unchecked, so its commit meets the unique constraint."""
        if not raced:
            raced.append(entry.cause_id)
            async with sessionmaker() as other:
                post(other, entry, recorded_at)
                await other.commit()
        post(session, entry, recorded_at)
        return True

    with monkeypatch.context() as racing:
        racing.setattr(backfill_module, "post_once", live_success_first)
        done = await backfill(sessionmaker, world.clock.now())
    assert raced and (done.payments, done.refused) == (1, [])  # the raced one is the live success's
    async with sessionmaker() as session:
        assert await check_ledger(session) == []
