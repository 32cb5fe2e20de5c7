"""Account balances, summed by the database from the postings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.models import Posting
from gateway.ledger.accounts import NORMAL, Account, AccountKind, Side


@dataclass(frozen=True)
class Balance:
    account: Account
    debits: int
    credits: int

    @property
    def balance(self) -> int:
        """In the account's normal side: what the provider owes for a clearing account, what the agency is
        owed for its fees receivable."""
        net = self.debits - self.credits
        return net if NORMAL[self.account.kind] is Side.DEBIT else -net


async def balances(session: AsyncSession, kind: AccountKind | None = None) -> list[Balance]:
    debits = func.coalesce(func.sum(case((Posting.amount > 0, Posting.amount), else_=0)), 0)
    credits = func.coalesce(func.sum(case((Posting.amount < 0, -Posting.amount), else_=0)), 0)
    query = select(Posting.account_kind, Posting.account_key, debits, credits).group_by(
        Posting.account_kind, Posting.account_key
    )
    if kind is not None:
        query = query.where(Posting.account_kind == kind.value)
    rows = await session.execute(query.order_by(Posting.account_kind, Posting.account_key))
    return [Balance(Account(AccountKind(k), key), int(d), int(c)) for k, key, d, c in rows]
