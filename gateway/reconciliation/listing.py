"""What the finance page lists: runs a page at a time, and discrepancies across runs with their resolution.

Bounded by construction: a page of runs is `RUNS_PER_PAGE` rows by offset (one run per provider and day,
so the table stays small); discrepancies come `ITEMS_PER_PAGE` at a time by keyset on the item id, newest
first, and without a chosen run only from the newest `RECENT_RUNS` runs (the items table holds every row of
every file; the (run_id, category) index keeps each run's discrepancies apart from its matched rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.models import ReconciliationItem, ReconciliationResolution, ReconciliationRun, Refund
from gateway.reconciliation.matching import CATEGORIES

RUNS_PER_PAGE = 20
ITEMS_PER_PAGE = 50
RECENT_RUNS = 50
DISCREPANCIES = tuple(c for c in CATEGORIES if c != "matched")

State = Literal["open", "resolved", "all"]


@dataclass(frozen=True, slots=True)
class ItemFilter:
    run_id: str = ""
    provider: str = ""
    category: str = ""  # one of DISCREPANCIES, or "" for all of them
    state: State = "open"
    before: int = 0  # the last item id of the page before (0: the first page)


@dataclass(frozen=True, slots=True)
class Discrepancy:
    item: ReconciliationItem
    run: ReconciliationRun
    resolution: ReconciliationResolution | None
    refund_status: str | None = None  # of the refund a `refund` resolution made: whether the money went back


async def runs_page(session: AsyncSession, page: int) -> tuple[list[ReconciliationRun], bool]:
    """Runs newest first, page `page` (from 1); and whether an older page exists."""
    order = (ReconciliationRun.created_at.desc(), ReconciliationRun.id.desc())
    query = select(ReconciliationRun).order_by(*order).offset((page - 1) * RUNS_PER_PAGE).limit(RUNS_PER_PAGE + 1)
    runs = list(await session.scalars(query))
    return runs[:RUNS_PER_PAGE], len(runs) > RUNS_PER_PAGE


async def recent_runs(session: AsyncSession) -> list[ReconciliationRun]:
    order = (ReconciliationRun.created_at.desc(), ReconciliationRun.id.desc())
    return list(await session.scalars(select(ReconciliationRun).order_by(*order).limit(RECENT_RUNS)))


async def discrepancies(session: AsyncSession, where: ItemFilter) -> tuple[list[Discrepancy], int | None]:
    """A page of discrepancies matching `where`, newest item first; and the cursor of the next page."""
    item, run, resolution = ReconciliationItem, ReconciliationRun, ReconciliationResolution
    query = (
        select(item, run, resolution, Refund.status)
        .join(run, run.id == item.run_id)
        .outerjoin(resolution, resolution.item_id == item.id)
        .outerjoin(Refund, Refund.id == resolution.refund_id)
        .where(item.category.in_([where.category] if where.category else DISCREPANCIES))
    )
    if where.run_id:
        query = query.where(item.run_id == where.run_id)
    else:
        recent = select(run.id).order_by(run.created_at.desc(), run.id.desc()).limit(RECENT_RUNS)
        if where.provider:
            recent = recent.where(run.provider == where.provider)
        query = query.where(item.run_id.in_(recent.scalar_subquery()))
    if where.provider:
        query = query.where(run.provider == where.provider)
    if where.state == "open":
        query = query.where(item.resolution.is_(None))
    elif where.state == "resolved":
        query = query.where(item.resolution.is_not(None))
    if where.before:
        query = query.where(item.id < where.before)
    rows = (await session.execute(query.order_by(item.id.desc()).limit(ITEMS_PER_PAGE + 1))).all()
    found = [Discrepancy(i, r, res, refunded) for i, r, res, refunded in rows[:ITEMS_PER_PAGE]]
    return found, (found[-1].item.id if len(rows) > ITEMS_PER_PAGE else None)
