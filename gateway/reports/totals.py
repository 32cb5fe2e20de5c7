"""Daily and monthly totals by agency, procedure and provider: the one place the reports' figures come from.

From the payments that succeeded in the period (Vietnam's days), their fee lines by kind, the refunds that
succeeded in the period, and the provider's charge for each payment as its settlement file recorded it
(reconciliation items matched to it). When the ledger's balances are on main they may replace this query;
nothing else computes these figures.

net_to_remit = fees + charges − refunds − provider_charges: what the agency is owed. Postage is owed to the
postal service, so it is reported but not remitted to the agency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.models import Payment, ReconciliationItem, Refund
from gateway.reconciliation.layouts import VN_TZ

COLUMNS = (
    "agency_code",
    "procedure_code",
    "provider",
    "payments",
    "fees",
    "charges",
    "postage",
    "refunds",
    "provider_charges",
    "net_to_remit",
)


@dataclass
class Totals:
    agency_code: str
    procedure_code: str
    provider: str
    payments: int = 0
    fees: int = 0
    charges: int = 0
    postage: int = 0
    refunds: int = 0
    provider_charges: int = 0

    @property
    def net_to_remit(self) -> int:
        return self.fees + self.charges - self.refunds - self.provider_charges

    def as_row(self) -> dict[str, str | int]:
        return {c: getattr(self, c) for c in COLUMNS}


@dataclass
class Report:
    period: str
    start: datetime
    end: datetime
    groups: list[Totals] = field(default_factory=list)

    def total(self) -> Totals:
        all_ = Totals("*", "*", "*")
        for g in self.groups:
            for name in ("payments", "fees", "charges", "postage", "refunds", "provider_charges"):
                setattr(all_, name, getattr(all_, name) + getattr(g, name))
        return all_


def day_period(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=VN_TZ)
    return start, start + timedelta(days=1)


def month_period(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=VN_TZ)
    following = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=VN_TZ)
    return start, following


async def build(session: AsyncSession, period: str, start: datetime, end: datetime) -> Report:
    groups: dict[tuple[str, str, str], Totals] = {}

    def group(agency: str, procedure: str, provider: str) -> Totals:
        key = (agency, procedure, provider)
        if key not in groups:
            groups[key] = Totals(agency, procedure, provider)
        return groups[key]

    charged = (
        select(ReconciliationItem.payment_id, func.max(ReconciliationItem.fee).label("fee"))
        .where(ReconciliationItem.kind == "payment", ReconciliationItem.category == "matched")
        .group_by(ReconciliationItem.payment_id)
        .subquery()
    )
    paid = (
        select(Payment.agency_code, Payment.procedure_code, Payment.provider, Payment.lines, charged.c.fee)
        .outerjoin(charged, charged.c.payment_id == Payment.id)
        .where(Payment.status == "succeeded", Payment.paid_at >= start, Payment.paid_at < end)
    )
    # Streamed: a month's payments are read a batch at a time, only the groups' totals are kept.
    async for agency, procedure, provider, lines, provider_fee in await session.stream(
        paid.execution_options(yield_per=2000)
    ):
        totals = group(agency, procedure, provider)
        totals.payments += 1
        totals.provider_charges += int(provider_fee or 0)
        for line in lines:
            kind = line.get("kind")
            if kind == "fee":
                totals.fees += int(line["amount"])
            elif kind == "charge":
                totals.charges += int(line["amount"])
            elif kind == "postage":
                totals.postage += int(line["amount"])
    refunded = (
        select(Payment.agency_code, Payment.procedure_code, Payment.provider, func.sum(Refund.amount))
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.status == "succeeded", Refund.updated_at >= start, Refund.updated_at < end)
        .group_by(Payment.agency_code, Payment.procedure_code, Payment.provider)
    )
    for agency, procedure, provider, amount in await session.execute(refunded):
        group(agency, procedure, provider).refunds += int(amount or 0)
    return Report(period, start, end, [groups[k] for k in sorted(groups)])
