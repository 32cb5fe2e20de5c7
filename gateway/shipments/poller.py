"""Background polling: asks the carrier about shipments whose status has gone stale (its pushes may be lost),
and books again those whose booking's outcome is unknown.

Batches of `shipment_poll_batch_size` (karrio's 10, reference §1.6); a shipment is no longer polled once
final or `shipment_poll_max_days` after it was made.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker

from contracts.errors import ProviderError
from contracts.shipping import Carrier
from gateway.clock import Clock
from gateway.db.claims import Lease, Sleep
from gateway.db.models import Shipment
from gateway.db.races import RACE_ERRORS, lost_race
from gateway.logging import note
from gateway.settings import Settings
from gateway.shipments.service import ShipmentService

log = structlog.get_logger()


class ShipmentPoller:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[Any],
        carrier: Carrier | None,
        settings: Settings,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.carrier = carrier
        self.settings = settings
        self.clock = clock
        self.sleep = sleep  # paces lease renewals; tests drive it by hand
        # Short and renewed while the batch runs (gateway/db/claims.py); a shipment polled or booked gets a new
        # next_poll_at, which ends its renewals.
        self.lease = Lease(
            sessionmaker, Shipment, Shipment.next_poll_at, timedelta(seconds=settings.worker_lease_seconds), clock.now
        )

    async def run_once(self) -> int:
        if self.carrier is None:
            return 0
        now = self.clock.now()
        # Pushing next_poll_at past a lease is the claim (gateway/db/claims.py).
        claimed = await self.lease.claim(
            where=[Shipment.next_poll_at <= now],
            order_by=Shipment.next_poll_at,
            limit=self.settings.shipment_poll_batch_size,
            values={"version": Shipment.version + 1},
        )
        ids = list(claimed.ids)
        if not ids:
            return 0
        async with self.lease.holding(claimed, self.sleep):
            for shipment_id in ids:
                try:
                    await self.poll(shipment_id)
                except RACE_ERRORS as exc:
                    if not lost_race(exc):
                        log.exception("shipment_poll_error", shipment_id=shipment_id)
                    # else a push changed it meanwhile: its next poll is scheduled from that
                except Exception:
                    # Its next_poll_at was pushed by the claim: it is tried again a lease later.
                    log.exception("shipment_poll_error", shipment_id=shipment_id)
        return len(ids)

    async def poll(self, shipment_id: str) -> None:
        async with self.sessionmaker() as session:
            service = ShipmentService(session, self.carrier, self.settings, self.clock)
            shipment = await session.get(Shipment, shipment_id)
            if shipment is None:
                return
            now = self.clock.now()
            if shipment.created_at < now - timedelta(days=self.settings.shipment_poll_max_days):
                shipment.next_poll_at = None
                note(log, "shipment_poll_retired", shipment_id=shipment.id, status=shipment.status)
                await session.commit()
                return
            if shipment.booking == "requested":
                await service.book(shipment)
                await session.commit()
                return
            if shipment.carrier_order_id is None:
                shipment.next_poll_at = None
                await session.commit()
                return
            await session.commit()  # no transaction held while the carrier answers
            try:
                events = await service.carrier.track(shipment.carrier_order_id, shipment.item_number)
            except ProviderError as exc:
                log.warning("shipment_track_failed", shipment_id=shipment.id, error=exc.message[:200])
                shipment.next_poll_at = now + timedelta(seconds=self.settings.shipment_poll_stale_seconds)
                await session.commit()
                return
            await session.refresh(shipment)  # a push may have changed it meanwhile
            await service.apply_events([e for e in events if e.carrier_order_id == shipment.carrier_order_id])
            shipment.last_polled_at = now
            if shipment.next_poll_at is not None:
                shipment.next_poll_at = now + timedelta(seconds=self.settings.shipment_poll_stale_seconds)
            await session.commit()
