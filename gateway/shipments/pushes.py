"""Status pushes from the carrier (/callbacks/{carrier}): verified by the carrier's adapter, applied once,
and answered as the carrier expects. A push that fails verification is only counted and sampled, as a
payment provider's forged notification is (gateway/notifications/rejections.py); a failure of ours asks the
carrier to send it again.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker

from contracts.errors import InvalidSignature
from contracts.providers import Acknowledgement, Inbound
from contracts.shipping import Carrier, CarrierEvent
from gateway.clock import Clock
from gateway.db.models import ProviderNotification
from gateway.db.races import RACE_ERRORS, lost_race
from gateway.logging import note
from gateway.notifications.rejections import record_rejection
from gateway.notifications.service import evidence_of
from gateway.settings import Settings
from gateway.shipments.service import ShipmentService

log = structlog.get_logger()


class PushReceiver:
    def __init__(
        self, sessionmaker: async_sessionmaker[Any], carrier: Carrier, settings: Settings, clock: Clock
    ) -> None:
        self.sessionmaker = sessionmaker
        self.carrier = carrier
        self.settings = settings
        self.clock = clock

    async def receive(self, inbound: Inbound) -> Acknowledgement:
        evidence = evidence_of(inbound)
        try:
            events = self.carrier.parse_push(inbound)
        except InvalidSignature as exc:
            log.warning("carrier_push_refused", carrier=self.carrier.name, reason=exc.message)
            ack = self.carrier.acknowledge_push(False)
            async with self.sessionmaker() as session:
                await record_rejection(session, self.carrier.name, evidence, ack.code, self.clock.now())
                await session.commit()
            return ack
        except ValueError:
            # Signed by the carrier, yet a value we cannot read: it is asked to send it again.
            log.warning("carrier_push_unreadable", carrier=self.carrier.name)
            return self.carrier.acknowledge_push(False)
        accepted = False
        # Two tries: a concurrent push or poll of the same shipment may have got there first.
        for _attempt in range(2):
            try:
                new = await self._apply(events, evidence)
                accepted = True
                note(log, "carrier_push", carrier=self.carrier.name, events=len(events), new=new)
                break
            except RACE_ERRORS as exc:
                if not lost_race(exc):
                    log.exception("carrier_push_error", carrier=self.carrier.name)
                    break
            except Exception:
                log.exception("carrier_push_error", carrier=self.carrier.name)
                break
        return self.carrier.acknowledge_push(accepted)

    async def _apply(self, events: list[CarrierEvent], evidence: dict[str, str]) -> int:
        async with self.sessionmaker() as session:
            new = await ShipmentService(session, self.carrier, self.settings, self.clock).apply_events(events)
            session.add(
                ProviderNotification(
                    provider=self.carrier.name,
                    reference=events[0].carrier_order_id[:64] if events else None,
                    payload=evidence,
                    signature_valid=True,
                    ack_code=self.carrier.acknowledge_push(True).code,
                    received_at=self.clock.now(),
                )
            )
            await session.commit()
            return new
