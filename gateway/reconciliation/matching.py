"""Set-based matching of a run's file rows (already in reconciliation_items) against the gateway's records.

The database does the join: a handful of UPDATE … FROM and INSERT … SELECT statements whatever the
file's size, each using an index (payments by provider and transaction id or by provider_ref, refunds by
transaction id, items by run). Order of the rules, first one wins:

1. duplicate: a later row with the same kind and provider transaction id as an earlier row of the file,
   or a row whose transaction (same kind and file status) the file of an earlier run of the same
   provider for another business day, at most REPEAT_WINDOW_DAYS away, already listed;
2. the provider's transaction id, then the order reference (our provider_ref), finds the record;
3. none found: missing_in_gateway; amounts differ: amount_mismatch; the file's status and ours disagree:
   status_mismatch, except that a record still open (pending, processing) which the file proves paid is
   matched and settled by the file (service.py); otherwise matched;
4. the gateway's succeeded payments and refunds of the business day that no row names: missing_in_provider.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, case, exists, func, insert, literal, null, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.models import Payment, ReconciliationItem, ReconciliationRun, Refund, Shipment
from gateway.reconciliation.layouts import VN_TZ

ITEM = cast(Table, ReconciliationItem.__table__)
RUN = cast(Table, ReconciliationRun.__table__)
PAY = cast(Table, Payment.__table__)
RFD = cast(Table, Refund.__table__)
SHIP = cast(Table, Shipment.__table__)

OPEN = ("pending", "processing")
NOT_PAID = ("failed", "cancelled", "expired")
# How far apart two business days' files may be for a transaction in both to be a duplicate: a provider
# re-sends within days. Beyond that an id seen again is taken for another transaction (some providers
# number theirs per day or month); within it, a row is a duplicate only with the same amount too.
REPEAT_WINDOW_DAYS = 7
CATEGORIES = ("matched", "missing_in_provider", "missing_in_gateway", "amount_mismatch", "status_mismatch", "duplicate")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=VN_TZ)
    return start, start + timedelta(days=1)


async def match(session: AsyncSession, run_id: str, provider: str, day: date) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # The rows were inserted a moment ago, in this transaction: without fresh statistics PostgreSQL's
        # planner takes the table for empty and joins it by sequential scans (35 s for 10,000 rows).
        await session.execute(text("ANALYZE reconciliation_items"))
    mine = ITEM.c.run_id == run_id
    await _mark_duplicates(session, mine, run_id)
    await _mark_listed_before(session, run_id, provider, day)
    undecided = and_(mine, ITEM.c.category.is_(None))
    if provider == "vnpost":
        await _find_shipments(session, undecided)
    else:
        await _find_payments(session, undecided, provider)
        await _find_refunds(session, undecided, provider, run_id)
    # Whatever found nothing is a transaction the gateway never saw.
    await session.execute(update(ITEM).where(undecided).values(category="missing_in_gateway"))
    if provider != "vnpost":
        await _missing_in_provider(session, run_id, provider, day)


async def _mark_duplicates(session: AsyncSession, mine: object, run_id: str) -> None:
    firsts = (
        select(ITEM.c.kind, ITEM.c.provider_txn_id, func.min(ITEM.c.line_no).label("first"))
        .where(ITEM.c.run_id == run_id)
        .group_by(ITEM.c.kind, ITEM.c.provider_txn_id)
        .having(func.count() > 1)
        .subquery()
    )
    await session.execute(
        update(ITEM)
        .where(
            mine,  # type: ignore[arg-type]
            ITEM.c.kind == firsts.c.kind,
            ITEM.c.provider_txn_id == firsts.c.provider_txn_id,
            ITEM.c.line_no > firsts.c.first,
        )
        .values(category="duplicate")
    )


async def _mark_listed_before(session: AsyncSession, run_id: str, provider: str, day: date) -> None:
    """Rows another day's file already listed: a provider re-sending a transaction (one near midnight in
    both days' files, a day's file sent again under another date). The earlier runs are those within the
    window, a short list; each row is then looked up in them through the (run, kind, transaction) index,
    so the statement's work is bounded by the file's size times the window, whatever the history."""
    low, high = (day - timedelta(days=REPEAT_WINDOW_DAYS)).isoformat(), (day + timedelta(days=REPEAT_WINDOW_DAYS))
    earlier = list(
        await session.scalars(
            select(RUN.c.id).where(
                RUN.c.provider == provider,
                RUN.c.id != run_id,
                RUN.c.business_date != day.isoformat(),
                RUN.c.business_date.between(low, high.isoformat()),
            )
        )
    )
    if not earlier:
        return
    before = ITEM.alias("before")
    listed = exists().where(
        before.c.run_id.in_(earlier),
        before.c.kind == ITEM.c.kind,
        before.c.provider_txn_id == ITEM.c.provider_txn_id,
        before.c.line_no.is_not(None),
        before.c.file_status == ITEM.c.file_status,
        # A provider that numbers its transactions per day reuses an id: the same id with another amount is
        # another transaction.
        before.c.amount == ITEM.c.amount,
    )
    await session.execute(
        update(ITEM).where(ITEM.c.run_id == run_id, ITEM.c.category.is_(None), listed).values(category="duplicate")
    )

    # Each names the record the earlier file's row found: so that a payment or refund both days' files list
    # (one made just after midnight) is not also reported missing from this day's file. Duplicates are few.
    def found_before(column: Any) -> Any:
        return (
            select(column)
            .where(
                before.c.run_id.in_(earlier),
                before.c.kind == ITEM.c.kind,
                before.c.provider_txn_id == ITEM.c.provider_txn_id,
                column.is_not(None),
            )
            .limit(1)
            .scalar_subquery()
        )

    await session.execute(
        update(ITEM)
        .where(ITEM.c.run_id == run_id, ITEM.c.category == "duplicate", ITEM.c.line_no.is_not(None))
        .values(payment_id=found_before(before.c.payment_id), refund_id=found_before(before.c.refund_id))
    )


def _judged(gateway_amount: ColumnElement[Any], gateway_status: ColumnElement[Any]) -> dict[str, object]:
    """A found row's category, and whether the file settles the record, from the record's amount and status
    (set in the statement that finds it: each row is written once after its insert)."""
    paid = ITEM.c.file_status == "succeeded"
    category = case(
        (ITEM.c.amount != gateway_amount, "amount_mismatch"),
        # COD is remitted once the parcel is delivered.
        (and_(ITEM.c.kind == "cod", gateway_status == "delivered"), "matched"),
        (and_(paid, gateway_status == "succeeded"), "matched"),
        (and_(paid, ITEM.c.kind != "cod", gateway_status.in_(OPEN)), "matched"),
        (and_(~paid, gateway_status.in_((*NOT_PAID, *OPEN))), "matched"),
        else_="status_mismatch",
    )
    settles = and_(ITEM.c.amount == gateway_amount, paid, ITEM.c.kind != "cod", gateway_status.in_(OPEN))
    return {
        "gateway_amount": gateway_amount,
        "gateway_status": gateway_status,
        "category": category,
        "settled_by_file": case((settles, True), else_=False),
    }


async def _find_payments(session: AsyncSession, undecided: object, provider: str) -> None:
    rows = and_(undecided, ITEM.c.kind == "payment", PAY.c.provider == provider)  # type: ignore[arg-type]
    found = {"payment_id": PAY.c.id, **_judged(PAY.c.amount, PAY.c.status)}
    await session.execute(
        update(ITEM).where(rows, PAY.c.provider_transaction_id == ITEM.c.provider_txn_id).values(found)
    )
    await session.execute(update(ITEM).where(rows, PAY.c.provider_ref == ITEM.c.order_ref).values(found))


async def _find_refunds(session: AsyncSession, undecided: object, provider: str, run_id: str) -> None:
    rows = and_(undecided, ITEM.c.kind == "refund")  # type: ignore[arg-type]
    of_provider = and_(RFD.c.payment_id == PAY.c.id, PAY.c.provider == provider)
    found = {"refund_id": RFD.c.id, "payment_id": RFD.c.payment_id, **_judged(RFD.c.amount, RFD.c.status)}
    await session.execute(
        update(ITEM).where(rows, of_provider, RFD.c.provider_transaction_id == ITEM.c.provider_txn_id).values(found)
    )
    # A refund the provider answered without its own id (still processing here): the payment's order
    # reference and the refund's amount find it, the oldest such refund not already named by this file.
    taken = select(ITEM.c.refund_id).where(ITEM.c.run_id == run_id, ITEM.c.refund_id.is_not(None))
    candidate = (
        select(func.min(RFD.c.id))
        .where(
            of_provider,
            PAY.c.provider_ref == ITEM.c.order_ref,
            RFD.c.amount == ITEM.c.amount,
            RFD.c.status.in_(("processing", "succeeded")),
            RFD.c.id.not_in(taken),
        )
        .scalar_subquery()
    )
    await session.execute(update(ITEM).where(rows).values(refund_id=candidate))
    await session.execute(update(ITEM).where(rows, ITEM.c.refund_id == RFD.c.id).values(found))


async def _find_shipments(session: AsyncSession, undecided: object) -> None:
    rows = and_(undecided, ITEM.c.kind == "cod", SHIP.c.carrier == "vnpost")  # type: ignore[arg-type]
    found = {"shipment_id": SHIP.c.id, **_judged(SHIP.c.cod_amount, SHIP.c.status)}
    await session.execute(update(ITEM).where(rows, SHIP.c.carrier_order_id == ITEM.c.provider_txn_id).values(found))
    await session.execute(update(ITEM).where(rows, SHIP.c.id == ITEM.c.order_ref).values(found))


async def _missing_in_provider(session: AsyncSession, run_id: str, provider: str, day: date) -> None:
    start, end = day_bounds(day)
    named = exists().where(ITEM.c.run_id == run_id, ITEM.c.payment_id == PAY.c.id, ITEM.c.kind == "payment")
    columns = ["run_id", "kind", "category", "provider_txn_id", "order_ref", "payment_id", "refund_id"]
    columns += ["gateway_amount", "gateway_status", "settled_by_file"]
    payments = select(
        literal(run_id),
        literal("payment"),
        literal("missing_in_provider"),
        PAY.c.provider_transaction_id,
        PAY.c.provider_ref,
        PAY.c.id,
        null(),
        PAY.c.amount,
        PAY.c.status,
        literal(False),
    ).where(
        PAY.c.provider == provider, PAY.c.status == "succeeded", PAY.c.paid_at >= start, PAY.c.paid_at < end, ~named
    )
    await session.execute(insert(ITEM).from_select(columns, payments))
    refund_named = exists().where(ITEM.c.run_id == run_id, ITEM.c.refund_id == RFD.c.id)
    refunds = select(
        literal(run_id),
        literal("refund"),
        literal("missing_in_provider"),
        RFD.c.provider_transaction_id,
        PAY.c.provider_ref,
        PAY.c.id,
        RFD.c.id,
        RFD.c.amount,
        RFD.c.status,
        literal(False),
    ).where(
        RFD.c.payment_id == PAY.c.id,
        PAY.c.provider == provider,
        RFD.c.status == "succeeded",
        RFD.c.updated_at >= start,
        RFD.c.updated_at < end,
        ~refund_named,
    )
    await session.execute(insert(ITEM).from_select(columns, refunds))


async def summarise(session: AsyncSession, run_id: str) -> dict[str, object]:
    rows = await session.execute(
        select(
            ITEM.c.category,
            func.count(),
            func.coalesce(func.sum(ITEM.c.amount), 0),
            func.coalesce(func.sum(ITEM.c.gateway_amount), 0),
            func.coalesce(func.sum(ITEM.c.fee), 0),
        )
        .where(ITEM.c.run_id == run_id)
        .group_by(ITEM.c.category)
    )
    categories = {c: {"count": 0, "amount": 0, "gateway_amount": 0, "fee": 0} for c in CATEGORIES}
    for category, count, amount, gateway_amount, fee in rows:
        categories[category] = {
            "count": count,
            "amount": int(amount),
            "gateway_amount": int(gateway_amount),
            "fee": int(fee),
        }
    totals = (
        await session.execute(
            select(
                func.coalesce(func.sum(case((ITEM.c.kind == "refund", -ITEM.c.amount), else_=ITEM.c.amount)), 0),
                func.coalesce(func.sum(ITEM.c.fee), 0),
                func.count(),
            ).where(ITEM.c.run_id == run_id, ITEM.c.line_no.is_not(None), ITEM.c.file_status == "succeeded")
        )
    ).one()
    gross, fees = int(totals[0]), int(totals[1])
    return {"categories": categories, "file": {"gross": gross, "fees": fees, "net": gross - fees}}
