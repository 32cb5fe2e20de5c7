"""Importing a settlement file as a run, and reading runs and items (resolving them: resolutions.py).

An import is one transaction: the file's rows are inserted in batches into reconciliation_items, matched
by set-based SQL (matching.py), the open payments the file proves paid are settled through the payments'
own transition path (audit row and portal webhook included), and the run's summary is written. A bad
row anywhere rolls all of it back. The same file again (same SHA-256) answers the run it made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import IO, Any, cast

import structlog
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.providers import ProviderOutcome, RefundResult
from gateway.clock import Clock
from gateway.db.models import Payment, ReconciliationItem, ReconciliationRun, Refund
from gateway.errors import NotFound, Unprocessable
from gateway.ids import new_id
from gateway.payments.providers import Providers
from gateway.payments.refunds import RefundService
from gateway.payments.service import PaymentService
from gateway.reconciliation.layouts import LAYOUTS
from gateway.reconciliation.matching import match, summarise
from gateway.reconciliation.parsing import Progress, read_rows, sha256_of
from gateway.reconciliation.resolutions import Resolutions, paid_by_row, write_off_entry
from gateway.settings import Settings

__all__ = ["Imported", "ReconciliationService", "Resolutions", "RunReader", "write_off_entry"]
log = structlog.get_logger()
BATCH = 5_000
ACTIONS = ("write_off", "refund", "mark_paid")
ITEMS = cast(Table, ReconciliationItem.__table__)


@dataclass(frozen=True, slots=True)
class Imported:
    run: ReconciliationRun
    created: bool  # False: this file was imported before and this is that run


class ReconciliationService:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        providers: Providers,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.providers = providers
        self.settings = settings
        self.clock = clock

    async def import_file(
        self,
        provider: str,
        business_date: date,
        file: IO[bytes],
        file_name: str,
        actor: str,
        progress: Progress | None = None,
    ) -> Imported:
        layout = LAYOUTS.get(provider)
        if layout is None:
            raise Unprocessable(f"No settlement layout for provider '{provider}'.", field="provider")
        digest = sha256_of(file)
        async with self.sessionmaker() as session:
            earlier = await self._run_of_file(session, provider, digest)
            if earlier is not None:
                session.expunge(earlier)
            await session.rollback()  # SQLite: no write lock held while the refunds are settled
        if earlier is not None:
            await self._settle_refunds(earlier.id)
            return Imported(earlier, created=False)
        async with self.sessionmaker() as session:
            run = ReconciliationRun(
                id=new_id("rcn"),
                provider=provider,
                business_date=business_date.isoformat(),
                file_name=file_name.replace("\x00", "\ufffd")[:255],
                file_sha256=digest,
                file_rows=0,
                summary={},
                created_by=actor[:200],
                created_at=self.clock.now(),
            )
            session.add(run)
            await session.flush()
            rows = 0
            batch: list[dict[str, Any]] = []
            for line, row in read_rows(layout, file, progress):
                batch.append(
                    {
                        "run_id": run.id,
                        "line_no": line,
                        "kind": row.kind,
                        "provider_txn_id": row.provider_txn_id,
                        "order_ref": row.order_ref,
                        "amount": row.amount,
                        "fee": row.fee,
                        "file_status": row.status,
                        "occurred_at": row.occurred_at,
                        "settled_by_file": False,
                    }
                )
                if len(batch) >= BATCH:
                    await session.execute(insert(ITEMS), batch)
                    rows += len(batch)
                    batch = []
            if batch:
                await session.execute(insert(ITEMS), batch)
                rows += len(batch)
            await match(session, run.id, provider, business_date)
            await self._settle_payments(session, run.id)
            run.file_rows = rows
            run.summary = await summarise(session, run.id)
            try:
                await session.commit()
            except IntegrityError:
                # The same file imported at the same moment by another request: that one's run stands.
                await session.rollback()
                earlier = await self._run_of_file(session, provider, digest)
                if earlier is None:
                    raise
                return Imported(earlier, created=False)
            log.info("reconciliation_run", run_id=run.id, provider=provider, rows=rows)
        await self._settle_refunds(run.id)
        return Imported(run, created=True)

    async def _run_of_file(self, session: AsyncSession, provider: str, digest: str) -> ReconciliationRun | None:
        return await session.scalar(
            select(ReconciliationRun).where(
                ReconciliationRun.provider == provider, ReconciliationRun.file_sha256 == digest
            )
        )

    async def _settle_payments(self, session: AsyncSession, run_id: str) -> None:
        """The open payments the file proves paid, through the same path as an IPN (audit row, webhook)."""
        service = PaymentService(session, self.providers, self.settings, self.clock)
        settled = await session.execute(
            select(ReconciliationItem, Payment)
            .join(Payment, Payment.id == ReconciliationItem.payment_id)
            .where(
                ReconciliationItem.run_id == run_id,
                ReconciliationItem.settled_by_file.is_(True),
                ReconciliationItem.kind == "payment",
            )
        )
        for item, payment in settled:
            service.record(payment, paid_by_row(item, payment, f"settlement file, run {run_id}"), "settlement")

    async def _settle_refunds(self, run_id: str) -> None:
        """Refunds the file proves made: each in its own transaction, as RefundService records any answer.
        Run again on a re-import, so a crash between the import's commit and these resumes here."""
        async with self.sessionmaker() as session:
            pending = (
                await session.execute(
                    select(ReconciliationItem.refund_id, ReconciliationItem.provider_txn_id)
                    .join(Refund, Refund.id == ReconciliationItem.refund_id)
                    .where(
                        ReconciliationItem.run_id == run_id,
                        ReconciliationItem.settled_by_file.is_(True),
                        ReconciliationItem.kind == "refund",
                        Refund.status == "processing",
                    )
                )
            ).all()
        for refund_id, txn_id in pending:
            async with self.sessionmaker() as session:
                payments = PaymentService(session, self.providers, self.settings, self.clock)
                result = RefundResult(
                    "", ProviderOutcome.SUCCEEDED, transaction_id=txn_id, message=f"settlement file, run {run_id}"
                )
                await RefundService(payments).record(str(refund_id), result, "settlement")


class RunReader:
    """Runs and their items for finance staff (every provider's, every portal's)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def runs(self, provider: str | None, business_date: str | None, limit: int) -> list[ReconciliationRun]:
        query = select(ReconciliationRun)
        if provider:
            query = query.where(ReconciliationRun.provider == provider)
        if business_date:
            query = query.where(ReconciliationRun.business_date == business_date)
        order = (ReconciliationRun.created_at.desc(), ReconciliationRun.id.desc())
        return list(await self.session.scalars(query.order_by(*order).limit(limit)))

    async def run(self, run_id: str) -> ReconciliationRun:
        run = await self.session.get(ReconciliationRun, run_id)
        if run is None:
            raise NotFound(f"No reconciliation run '{run_id}'.")
        return run

    async def items(
        self, run_id: str, category: str | None, after: int, limit: int
    ) -> tuple[list[ReconciliationItem], int | None]:
        await self.run(run_id)
        query = select(ReconciliationItem).where(ReconciliationItem.run_id == run_id)
        if category:
            query = query.where(ReconciliationItem.category == category)
        query = query.where(ReconciliationItem.id > after)
        rows = list(await self.session.scalars(query.order_by(ReconciliationItem.id).limit(limit + 1)))
        return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)
