"""Entries and their posting: every builder balances, refunds never give back more than an account got,
nothing unbalanced is written, the ledger is append-only, and a cause is posted once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from gateway.db.engine import create_engine, create_sessionmaker
from gateway.db.models import JournalEntry, Posting
from gateway.ledger import accounts, entries
from gateway.ledger.balances import balances
from gateway.ledger.checks import check_ledger
from gateway.ledger.entries import Cause, NewEntry, UnbalancedEntry
from gateway.ledger.posting import LedgerIsAppendOnly, post, post_once
from tests.ledger.world import UNIT

AT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
LINES = st.lists(
    st.fixed_dictionaries({"kind": st.sampled_from(["fee", "charge", "postage"]), "amount": st.integers(1, 5_000_000)}),
    min_size=1,
    max_size=50,
)
ACCOUNT = st.builds(
    accounts.Account, st.sampled_from(list(accounts.AccountKind)), st.text("abcdef0123456789.", min_size=1, max_size=8)
)


def _sum(entry: NewEntry) -> int:
    return sum(amount for _, amount in entry.postings)


@UNIT
@given(lines=LINES)
def test_a_payment_entry_balances_and_credits_each_part_where_it_belongs(lines: list[dict[str, Any]]) -> None:
    amount = sum(line["amount"] for line in lines)
    entry = entries.payment_succeeded("pay_1", "vnpay", "000.00.12.H29", amount, lines, AT)
    assert _sum(entry) == 0
    posted = dict(entry.postings)
    assert posted[accounts.provider_clearing("vnpay")] == amount
    postage = sum(line["amount"] for line in lines if line["kind"] == "postage")
    assert posted.get(accounts.postage_payable(), 0) == -postage
    assert posted.get(accounts.fees_receivable("000.00.12.H29"), 0) == -(amount - postage)


@UNIT
@given(lines=LINES, data=st.data())
def test_refunds_in_any_parts_balance_and_never_give_back_more_than_an_account_got(
    lines: list[dict[str, Any]], data: st.DataObject
) -> None:
    paid = sum(line["amount"] for line in lines)
    credited = entries.credited_accounts("A", lines)
    given_back: dict[accounts.Account, int] = {}
    refunded = 0
    while refunded < paid:
        amount = data.draw(st.integers(1, paid - refunded))
        entry = entries.refund_succeeded(f"rfd_{refunded}", "pay_1", "vnpay", "A", lines, refunded, amount, AT)
        assert _sum(entry) == 0
        assert dict(entry.postings)[accounts.provider_clearing("vnpay")] == -amount
        for account, value in entries.refund_allocation(credited, refunded, amount).items():
            given_back[account] = given_back.get(account, 0) + value
            assert 0 < given_back[account] <= credited[account]
        refunded += amount
    assert given_back == credited  # refunded in full: every part given back exactly
    with pytest.raises(UnbalancedEntry):
        entries.refund_succeeded("rfd_x", "pay_1", "vnpay", "A", lines, refunded, 1, AT)


@UNIT
@given(postings=st.lists(st.tuples(ACCOUNT, st.integers(-(10**9), 10**9).filter(bool)), min_size=2, max_size=6))
def test_an_entry_that_does_not_balance_is_refused(postings: list[tuple[accounts.Account, int]]) -> None:
    entry = NewEntry(Cause.CORRECTION, "cor_1", "x", AT, tuple(postings), corrects="jrn_1")
    if sum(amount for _, amount in postings) == 0:
        entry.check()
    else:
        with pytest.raises(UnbalancedEntry):
            entry.check()


@pytest.mark.parametrize(
    "entry",
    [
        NewEntry(Cause.COD_COLLECTED, "shp_1", "x", AT, ((accounts.bank(), 0), (accounts.suspense(), 0))),
        NewEntry(Cause.COD_COLLECTED, "shp_1", "x", AT, ((accounts.bank(), 1.5), (accounts.suspense(), -1.5))),  # type: ignore[arg-type]
        NewEntry(Cause.COD_COLLECTED, "shp_1", "x", AT, ((accounts.bank(), 10),)),
        NewEntry(
            Cause.COD_COLLECTED,
            "shp_1",
            "x",
            AT.replace(tzinfo=None),
            ((accounts.bank(), 1), (accounts.suspense(), -1)),
        ),
        NewEntry(Cause.COD_COLLECTED, "", "x", AT, ((accounts.bank(), 1), (accounts.suspense(), -1))),
        NewEntry(
            Cause.COD_COLLECTED, "shp_1", "x", AT, ((accounts.bank(), 1), (accounts.suspense(), -1)), corrects="j"
        ),
    ],
    ids=["zero", "not whole", "one posting", "naive time", "no cause id", "correction of a non-correction"],
)
def test_malformed_entries_are_refused(entry: NewEntry) -> None:
    with pytest.raises(UnbalancedEntry):
        entry.check()


def test_the_named_builders_move_money_between_the_right_accounts() -> None:
    cod = entries.cod_collected("shp_1", "vnpost", "cli_1", 32_000, AT)
    assert dict(cod.postings) == {accounts.cod_receivable("vnpost"): 32_000, accounts.cod_payable("cli_1"): -32_000}
    settled = entries.settlement_received("set_1", accounts.provider_clearing("momo"), 1_000_000, 11_000, AT)
    assert dict(settled.postings) == {
        accounts.bank(): 989_000,
        accounts.provider_charges("momo"): 11_000,
        accounts.provider_clearing("momo"): -1_000_000,
    }
    resolved = entries.discrepancy_resolved("dsc_1", accounts.write_offs(), accounts.provider_clearing("momo"), 500, AT)
    assert dict(resolved.postings) == {accounts.write_offs(): 500, accounts.provider_clearing("momo"): -500}
    with pytest.raises(UnbalancedEntry):
        entries.settlement_received("set_2", accounts.provider_clearing("momo"), 10, 11, AT)
    with pytest.raises(UnbalancedEntry):
        entries.discrepancy_resolved("dsc_2", accounts.write_offs(), accounts.suspense(), 0, AT)


@pytest.mark.anyio
async def test_posting_is_append_only_once_per_cause_and_balanced(clean_database: str) -> None:
    engine = create_engine(clean_database)
    sessions = create_sessionmaker(engine)
    cod = entries.cod_collected("shp_1", "vnpost", "cli_1", 32_000, AT)
    try:
        async with sessions() as session:
            unbalanced = NewEntry(
                Cause.COD_COLLECTED, "shp_9", "x", AT, ((accounts.bank(), 5), (accounts.suspense(), -4))
            )
            with pytest.raises(UnbalancedEntry):
                post(session, unbalanced)
            assert not session.new  # nothing was added
            assert await post_once(session, cod) is True
            assert await post_once(session, cod) is False
            await session.commit()
        async with sessions() as session:
            post(session, cod)
            with pytest.raises(IntegrityError):
                await session.commit()
        async with sessions() as session:
            entry = await session.scalar(select(JournalEntry))
            assert entry is not None
            entry.description = "changed"
            with pytest.raises(LedgerIsAppendOnly):
                await session.flush()
            await session.rollback()
            posting = await session.scalar(select(Posting))
            await session.delete(posting)
            with pytest.raises(LedgerIsAppendOnly):
                await session.flush()
            await session.rollback()
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Posting)) == 2
            assert await check_ledger(session) == []
            by_account = {b.account: b.balance for b in await balances(session)}
            assert by_account == {accounts.cod_receivable("vnpost"): 32_000, accounts.cod_payable("cli_1"): 32_000}
    finally:
        await engine.dispose()
