"""The rules of a postal shipment: quoting, booking, reading, cancelling, and recording what happens to it
(carrier events, staff reports, audited corrections).

One session per service; the caller commits, except where a method says it commits itself (booking commits
the pending shipment before the carrier is called, so that a carrier failure loses nothing).
"""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import addresses, s10
from contracts.errors import ProviderError, ProviderRejected
from contracts.shipments import EventSource, PostageMode, QuoteCreate, ShipmentCreate
from contracts.shipping import (
    FINAL_STATUSES,
    Booking,
    BookingOrder,
    Carrier,
    CarrierEvent,
    Parcel,
    PostalAddress,
    Quote,
    QuoteRequest,
    ShipmentKind,
    ShipmentStatus,
)
from contracts.webhooks import EventType
from gateway.auth import Caller
from gateway.clock import VN_TZ, Clock
from gateway.db.models import Payment, Shipment, ShipmentEvent
from gateway.documents.slips import Slip
from gateway.errors import NotFound, Unprocessable
from gateway.ids import new_id
from gateway.ledger.entries import cod_collected
from gateway.ledger.posting import post_once
from gateway.logging import note
from gateway.settings import Settings
from gateway.shipments.errors import CarrierNotConfigured, InvalidAddress, ShipmentTransition
from gateway.shipments.transitions import can_move, event_type
from gateway.shipments.views import shipment_event_data
from gateway.webhooks.outbox import enqueue

log = structlog.get_logger()
S = ShipmentStatus


@dataclass(frozen=True, slots=True)
class StaffEvent:
    """What a postal staff member (or the carrier's own system) reports of a shipment."""

    status: ShipmentStatus
    reason_code: str | None = None  # delivery_failed: a code of the carrier's failure_reasons
    note: str = ""
    recipient_name: str | None = None  # delivered: who received it
    id_document_checked: bool = False
    document_count: int | None = None  # picked_up: the documents counted with the citizen
    fees_collected: int | None = None  # VND collected from the citizen
    proof_id: str | None = None  # a stored proof (photo, signature) of this event
    location: str | None = None  # post office code
    occurred_at: datetime | None = None  # now, if not given


def dedupe_key(event: CarrierEvent) -> str:
    """(carrier order id, raw code, event time): the same event told twice (a push and a poll) is one."""
    return f"{event.carrier_order_id}|{event.code}|{event.occurred_at.timestamp():.0f}"[:200]


def _cut(text: str | None, length: int) -> str | None:
    return text[:length] if text is not None else None


def _stored_address(address: PostalAddress) -> dict[str, Any]:
    return asdict(address)


def _postal_address(stored: dict[str, Any]) -> PostalAddress:
    return PostalAddress(**stored)


def slip_of(shipment: Shipment) -> Slip:
    """What the handover or delivery slip prints of a booked shipment."""
    if shipment.carrier_order_id is None:
        raise ShipmentTransition("The carrier has not booked this shipment yet; its slip has no order to name.")
    return Slip(
        kind=ShipmentKind(shipment.kind),
        item_number=shipment.item_number,
        carrier_order_id=shipment.carrier_order_id,
        dossier_code=shipment.dossier_code,
        procedure=shipment.procedure,
        sender=_postal_address(shipment.sender),
        recipient=_postal_address(shipment.recipient),
        documents=[f"{d['title']} ({d.get('copies', 1)})" for d in shipment.documents],
        weight_grams=int(shipment.parcel["weight_grams"]),
        service=shipment.service,
        created_at=shipment.created_at,
    )


def _parcel(stored: dict[str, Any]) -> Parcel:
    return Parcel(**stored)


class ShipmentService:
    def __init__(self, session: AsyncSession, carrier: Carrier | None, settings: Settings, clock: Clock) -> None:
        self.session = session
        self._carrier = carrier
        self.settings = settings
        self.clock = clock

    @property
    def carrier(self) -> Carrier:
        if self._carrier is None:
            raise CarrierNotConfigured(f"No postal carrier '{self.settings.shipment_carrier}' is configured.")
        return self._carrier

    # -- quoting and booking ----------------------------------------------------------------------

    def _resolve(self, data: QuoteCreate) -> tuple[PostalAddress, PostalAddress]:
        try:
            return addresses.resolve(data.sender, "sender"), addresses.resolve(data.recipient, "recipient")
        except addresses.InvalidAddress as exc:
            raise InvalidAddress(exc.message, field=exc.field) from None

    def _service(self, code: str | None) -> str:
        services = self.carrier.services
        if code is None:
            return next(iter(services))
        if code not in services:
            raise Unprocessable(
                f"{self.carrier.display_name} has no service '{code}'; it has {', '.join(services)}.", field="service"
            )
        return code

    async def quote(self, data: QuoteCreate) -> Quote:
        sender, recipient = self._resolve(data)
        request = QuoteRequest(
            sender=sender,
            recipient=recipient,
            parcel=Parcel(**data.parcel.model_dump()),
            service=self._service(data.service),
            pickup_at_address=data.kind is ShipmentKind.DOSSIER_PICKUP,
            cod_amount=data.cod_amount,
            postage_from_recipient=data.postage_mode is PostageMode.COD,
        )
        return await self.carrier.quote(request)

    async def requested_with(self, client: Caller, idempotency_key: str | None) -> Shipment | None:
        """The shipment an earlier request with this key made, if it got that far."""
        if not idempotency_key:
            return None
        return await self.session.scalar(
            select(Shipment).where(Shipment.client_id == client.id, Shipment.idempotency_key == idempotency_key)
        )

    async def create(self, client: Caller, data: ShipmentCreate, idempotency_key: str | None) -> Shipment:
        """A new shipment, committed pending (booking requested) before the carrier is called."""
        sender, recipient = self._resolve(data)
        service = self._service(data.service)
        await self._check_postage(client, data)
        now = self.clock.now()
        shipment = Shipment(
            id=new_id("shp"),
            client_id=client.id,
            kind=data.kind.value,
            dossier_code=data.dossier_code,
            procedure=data.procedure,
            payment_id=data.payment_id,
            postage_mode=data.postage_mode.value,
            cod_amount=data.cod_amount,
            carrier=self.carrier.name,
            service=service,
            booking="requested",
            booking_attempts=0,
            idempotency_key=idempotency_key,
            status=S.PENDING.value,
            failed_attempts=0,
            sender=_stored_address(sender),
            recipient=_stored_address(recipient),
            parcel=data.parcel.model_dump(),
            documents=[d.model_dump() for d in data.documents],
            note=data.note,
            created_at=now,
            updated_at=now,
            # If this process stops before the carrier answers, the poller books it.
            next_poll_at=now + timedelta(seconds=self.settings.shipment_booking_retry_seconds[0]),
        )
        self.session.add(shipment)
        self._record(shipment, EventSource.SYSTEM, S.PENDING, now, applied=True, description="shipment requested")
        await self.session.commit()
        return shipment

    async def _check_postage(self, client: Caller, data: ShipmentCreate) -> None:
        if data.postage_mode is PostageMode.COD:
            if data.payment_id is not None:
                raise Unprocessable(
                    "postage_mode cod takes no payment_id: the carrier collects it.", field="payment_id"
                )
            return
        if data.payment_id is None:
            raise Unprocessable("postage_mode fee_line needs the payment carrying the postage.", field="payment_id")
        await self._check_payment(client, data.payment_id)

    async def _check_payment(self, client: Caller, payment_id: str) -> None:
        payment = await self.session.scalar(
            select(Payment).where(Payment.id == payment_id, Payment.client_id == client.id)
        )
        if payment is None:
            raise Unprocessable(f"No payment '{payment_id}' of this portal.", field="payment_id")
        if not any(line.get("kind") == "postage" for line in payment.lines):
            raise Unprocessable(f"Payment '{payment_id}' has no postage fee line.", field="payment_id")

    def booking_order(self, shipment: Shipment) -> BookingOrder:
        documents = "; ".join(d["title"] for d in shipment.documents)
        contents = f"Ho so {shipment.dossier_code}" + (f": {documents}" if documents else "")
        return BookingOrder(
            reference=shipment.id,
            kind=ShipmentKind(shipment.kind),
            sender=_postal_address(shipment.sender),
            recipient=_postal_address(shipment.recipient),
            parcel=_parcel(shipment.parcel),
            service=shipment.service,
            contents=contents[:500],
            pickup_at_address=shipment.kind == ShipmentKind.DOSSIER_PICKUP.value,
            cod_amount=shipment.cod_amount,
            postage_from_recipient=shipment.postage_mode == PostageMode.COD.value,
            note=shipment.note,
        )

    async def book(self, shipment: Shipment) -> Shipment:
        """Ask the carrier to book a requested shipment, outside any transaction. Booked: recorded (the caller
        commits). Refused: the shipment ends in exception, committed, and the refusal is raised. Outcome
        unknown: a retry is scheduled and committed, and the shipment is returned still requested."""
        if shipment.booking != "requested" or shipment.status != S.PENDING.value:
            return shipment
        # No transaction is held while the carrier answers (on SQLite it would hold every writer back,
        # the carrier's own push of this order included).
        await self.session.commit()
        try:
            booking = await self.carrier.book(self.booking_order(shipment))
        except ProviderRejected as exc:
            if shipment.booking_attempts:
                # An earlier attempt's answer was lost: the carrier may well hold that order (MyVNPost refuses
                # a second one with the same reference). Its first push names this shipment and links it.
                self._booking_unconfirmed(shipment, exc.message)
                await self.session.commit()
                return shipment
            now = self.clock.now()
            shipment.booking = "refused"
            shipment.next_poll_at = None
            self._move(shipment, S.EXCEPTION, now, EventSource.CARRIER, description=f"booking refused: {exc.message}")
            await self.session.commit()
            raise
        except ProviderError as exc:
            self._booking_unknown(shipment, exc.message)
            await self.session.commit()
            return shipment
        self._booked(shipment, booking)
        return shipment

    def _booking_unknown(self, shipment: Shipment, message: str) -> None:
        now = self.clock.now()
        schedule = self.settings.shipment_booking_retry_seconds
        shipment.booking_attempts += 1
        shipment.next_poll_at = now + timedelta(seconds=schedule[min(shipment.booking_attempts, len(schedule) - 1)])
        shipment.updated_at = now
        self._record(
            shipment,
            EventSource.SYSTEM,
            S.PENDING,
            now,
            applied=True,
            description=f"booking outcome unknown, will be tried again: {message}"[:500],
        )
        log.warning("shipment_booking_unknown", shipment_id=shipment.id, attempts=shipment.booking_attempts)

    def _booking_unconfirmed(self, shipment: Shipment, message: str) -> None:
        now = self.clock.now()
        shipment.next_poll_at = None  # booking again would be refused again
        shipment.updated_at = now
        self._record(
            shipment,
            EventSource.SYSTEM,
            S.PENDING,
            now,
            applied=True,
            description=f"booked again and refused, so an earlier attempt may have booked it: {message}"[:500],
        )
        log.error("shipment_booking_unconfirmed", shipment_id=shipment.id, attempts=shipment.booking_attempts)

    async def _adopt(self, carrier_order_id: str, events: list[CarrierEvent]) -> Shipment | None:
        """The shipment whose booking's answer was lost, named by the carrier's events as their order's
        reference (MyVNPost's orderCode, the saleOrderCode it was booked with), linked to that order."""
        reference = next((e.raw["orderCode"] for e in events if e.raw.get("orderCode")), None)
        shipment = await self.session.get(Shipment, reference) if reference else None
        if shipment is None or shipment.carrier != self.carrier.name or shipment.booking != "requested":
            return None
        now = self.clock.now()
        shipment.booking = "booked"
        shipment.carrier_order_id = carrier_order_id[:64]
        shipment.updated_at = now
        shipment.next_poll_at = now + timedelta(seconds=self.settings.shipment_poll_stale_seconds)
        self._record(
            shipment, EventSource.SYSTEM, S.PENDING, now, applied=True, description="linked to the carrier's order"
        )
        enqueue(self.session, shipment.client_id, EventType.SHIPMENT_BOOKED, shipment_event_data(shipment), now)
        note(log, "shipment_adopted", shipment_id=shipment.id, carrier=shipment.carrier)
        return shipment

    def _booked(self, shipment: Shipment, booking: Booking) -> None:
        now = self.clock.now()
        shipment.booking = "booked"
        shipment.carrier_order_id = booking.carrier_order_id[:64]
        shipment.office_code = _cut(booking.office_code, 20)
        shipment.postage = booking.total_fee
        if booking.item_number:
            self._set_item_number(shipment, booking.item_number)
        shipment.updated_at = now
        shipment.next_poll_at = now + timedelta(seconds=self.settings.shipment_poll_stale_seconds)
        self._record(
            shipment,
            EventSource.CARRIER,
            S.PENDING,
            now,
            applied=True,
            code=booking.status_code,
            description="booked with the carrier",
        )
        enqueue(self.session, shipment.client_id, EventType.SHIPMENT_BOOKED, shipment_event_data(shipment), now)
        note(log, "shipment_booked", shipment_id=shipment.id, carrier=shipment.carrier, postage=shipment.postage)

    def _set_item_number(self, shipment: Shipment, item_number: str) -> None:
        if not s10.is_valid(item_number):
            # The carrier's number is the truth: kept, and logged so that someone can ask the carrier.
            log.warning("item_number_check_failed", shipment_id=shipment.id, item_number=item_number[:13])
        shipment.item_number = item_number[:13]

    # -- what happens to a shipment ---------------------------------------------------------------

    def _record(
        self,
        shipment: Shipment,
        source: EventSource,
        target: S,
        occurred_at: datetime,
        *,
        applied: bool,
        before: S | None = None,
        code: str | None = None,
        description: str = "",
        details: dict[str, Any] | None = None,
        **columns: Any,
    ) -> ShipmentEvent:
        event = ShipmentEvent(
            shipment_id=shipment.id,
            source=source.value,
            code=_cut(code, 40),
            description=description[:500],
            occurred_at=occurred_at,
            recorded_at=self.clock.now(),
            status_before=before.value if before else None,
            status_after=target.value,
            applied=applied,
            correction=columns.pop("correction", False),
            details=details or {},
            **columns,
        )
        self.session.add(event)
        return event

    def _move(
        self, shipment: Shipment, target: S, occurred_at: datetime, source: EventSource, **event: Any
    ) -> ShipmentEvent:
        """Set the status (already checked) with its timeline event and the portal's webhook."""
        current = S(shipment.status)
        now = self.clock.now()
        shipment.status = target.value
        shipment.status_at = max(occurred_at, shipment.status_at) if shipment.status_at else occurred_at
        shipment.updated_at = now
        if target is S.DELIVERED:
            shipment.delivered_at = occurred_at
        if target in FINAL_STATUSES:
            shipment.next_poll_at = None
        elif shipment.booking == "booked":
            shipment.next_poll_at = now + timedelta(seconds=self.settings.shipment_poll_stale_seconds)
        recorded = self._record(shipment, source, target, occurred_at, applied=True, before=current, **event)
        enqueue(self.session, shipment.client_id, event_type(target), shipment_event_data(shipment), now)
        note(
            log,
            "shipment_status",
            shipment_id=shipment.id,
            from_status=current.value,
            to_status=target.value,
            source=source.value,
        )
        return recorded

    def _report(
        self,
        shipment: Shipment,
        target: S,
        occurred_at: datetime,
        source: EventSource,
        *,
        strict: bool,
        **event: Any,
    ) -> ShipmentEvent:
        """Apply one reported event forward only. One older than the status it would replace, or one that
        would move the status back, is recorded without applying it; with `strict` (a person's explicit
        action) one that would move it back is refused instead."""
        current = S(shipment.status)
        # A person's report is of now, whatever times the carrier's clock gave earlier events.
        late = not strict and shipment.status_at is not None and occurred_at < shipment.status_at
        movable = target == current or can_move(current, target)
        if strict and (current in FINAL_STATUSES or not movable):
            raise ShipmentTransition(
                f"Shipment is {current.value}; it cannot be reported {target.value} now (a correction can).",
                current_status=current.value,
            )
        counts_attempt = target is S.DELIVERY_FAILED and current not in FINAL_STATUSES
        if counts_attempt:
            # Counted even when late: attempts told out of order are attempts all the same.
            shipment.failed_attempts += 1
        if not late and can_move(current, target):
            recorded = self._move(shipment, target, occurred_at, source, **event)
        else:
            applied = not late and target == current and current not in FINAL_STATUSES
            if applied:
                shipment.status_at = max(occurred_at, shipment.status_at) if shipment.status_at else occurred_at
                shipment.updated_at = self.clock.now()
                if target is S.DELIVERY_FAILED:  # another attempt failed: the portal hears of each
                    data = shipment_event_data(shipment)
                    enqueue(
                        self.session, shipment.client_id, EventType.SHIPMENT_DELIVERY_FAILED, data, self.clock.now()
                    )
            if not applied:  # the status stays; what was reported is kept beside it
                event["details"] = {**event.get("details", {}), "reported_status": target.value}
            after = target if applied else current
            recorded = self._record(shipment, source, after, occurred_at, applied=applied, before=current, **event)
        if counts_attempt:
            self._hold_after_attempts(shipment, occurred_at)
        return recorded

    def _hold_after_attempts(self, shipment: Shipment, occurred_at: datetime) -> None:
        limit = self.settings.shipment_failed_attempts_before_hold
        if shipment.failed_attempts >= limit and shipment.status == S.DELIVERY_FAILED.value:
            at = max(occurred_at, shipment.status_at) if shipment.status_at else occurred_at
            self._move(
                shipment,
                S.ON_HOLD,
                at,
                EventSource.SYSTEM,
                description=f"held at the post office after {shipment.failed_attempts} failed delivery attempts",
            )

    async def apply_events(self, events: list[CarrierEvent]) -> int:
        """Record what the carrier reports (a push or a poll): each event once, in event-time order, forward
        only. Returns how many were new. Events of an order the gateway does not know are logged and left."""
        by_order: dict[str, list[CarrierEvent]] = defaultdict(list)
        for event in events:
            by_order[event.carrier_order_id].append(event)
        new = 0
        for order_id, order_events in by_order.items():
            shipment = await self.session.scalar(
                select(Shipment).where(Shipment.carrier == self.carrier.name, Shipment.carrier_order_id == order_id)
            )
            shipment = shipment or await self._adopt(order_id, order_events)
            if shipment is None:
                log.warning("carrier_event_unknown_order", carrier=self.carrier.name, carrier_order_id=order_id[:64])
                continue
            new += await self._apply_to(shipment, order_events)
        return new

    async def _apply_to(self, shipment: Shipment, events: list[CarrierEvent]) -> int:
        keys = {dedupe_key(e): e for e in events}
        seen = set(
            await self.session.scalars(select(ShipmentEvent.dedupe_key).where(ShipmentEvent.dedupe_key.in_(keys)))
        )
        fresh = sorted((e for k, e in keys.items() if k not in seen), key=lambda e: e.occurred_at)
        for event in fresh:
            if event.item_number and shipment.item_number is None:
                self._set_item_number(shipment, event.item_number)
            if event.cod_amount is not None:
                if event.cod_amount > 0:  # posted once per shipment (the ledger's cause id)
                    collected = cod_collected(
                        shipment.id, shipment.carrier, shipment.client_id, event.cod_amount, event.occurred_at
                    )
                    await post_once(self.session, collected, self.clock.now())
                shipment.cod_collected = event.cod_amount
            self._report(
                shipment,
                event.status,
                event.occurred_at,
                EventSource.CARRIER,
                strict=False,
                code=event.code,
                dedupe_key=dedupe_key(event),
                description=_described(shipment, event),
                location=_cut(event.location, 64),
                reason_code=_cut(event.reason_code, 64),
                reason=_cut(event.reason, 500),
                actor=_cut(event.actor, 200),
                details={"raw": event.raw} if event.raw else {},
            )
        return len(fresh)

    async def record_event(
        self, shipment_id: str, event: StaffEvent, actor: str, source: EventSource = EventSource.STAFF
    ) -> Shipment:
        """A person's report (postal staff, or the carrier's own system through the API): checked, then
        applied forward only; one that would move the status back is refused (409). The caller commits."""
        shipment = await self._by_id(shipment_id)
        self._check_report(shipment, event)
        details = {
            k: v
            for k, v in {
                "recipient_name": event.recipient_name,
                "id_document_checked": event.id_document_checked if event.status is S.DELIVERED else None,
                "document_count": event.document_count,
                "fees_collected": event.fees_collected,
                "note": event.note or None,
            }.items()
            if v is not None
        }
        reason = self.carrier.failure_reasons.get(event.reason_code) if event.reason_code else None
        self._report(
            shipment,
            event.status,
            event.occurred_at or self.clock.now(),
            source,
            strict=True,
            description=(event.note or event.status.value)[:500],
            location=_cut(event.location or shipment.office_code, 64),
            reason_code=event.reason_code,
            reason=reason,
            actor=actor[:200],
            proof_id=event.proof_id,
            details=details,
        )
        return shipment

    def _check_report(self, shipment: Shipment, event: StaffEvent) -> None:
        if event.status is S.DELIVERY_FAILED and event.reason_code not in self.carrier.failure_reasons:
            raise Unprocessable(
                "A failed delivery attempt needs a reason_code of the carrier's list: "
                + ", ".join(self.carrier.failure_reasons),
                field="reason_code",
            )
        if event.status is S.DELIVERED and not event.recipient_name:
            raise Unprocessable("A delivery needs the recipient's name.", field="recipient_name")
        result = shipment.kind == ShipmentKind.RESULT_DELIVERY.value
        if event.status is S.DELIVERED and result and not event.id_document_checked:
            raise Unprocessable(
                "A result is handed over only after the recipient's ID document is checked.",
                field="id_document_checked",
            )
        if event.status in (S.PENDING, S.CANCELLED):
            raise Unprocessable(f"A report cannot set {event.status.value}.", field="status")

    async def correct(self, shipment_id: str, status: ShipmentStatus, reason: str, actor: str) -> Shipment:
        """Set the status to what it really is, whatever it was: an explicit, audited action with a reason.
        The caller commits."""
        reason = reason.strip()
        if not reason:
            raise Unprocessable("A correction needs a reason.", field="reason")
        shipment = await self._by_id(shipment_id)
        if shipment.status == status.value:
            raise ShipmentTransition(f"Shipment is already {status.value}.", current_status=shipment.status)
        now = self.clock.now()
        if status is not S.DELIVERED:
            shipment.delivered_at = None
        self._move(
            shipment,
            status,
            now,
            EventSource.STAFF,
            description=f"corrected from {shipment.status}",
            actor=actor[:200],
            correction=True,
            correction_reason=reason[:500],
        )
        shipment.status_at = now
        return shipment

    # -- reads and the portal's commands ----------------------------------------------------------

    async def _by_id(self, shipment_id: str) -> Shipment:
        return _found(await self.session.get(Shipment, shipment_id), shipment_id)

    async def get(self, client: Caller, shipment_id: str) -> Shipment:
        shipment = await self.session.get(Shipment, shipment_id)
        return _found(shipment if shipment is not None and shipment.client_id == client.id else None, shipment_id)

    async def search(
        self, client: Caller, dossier_code: str | None, status: ShipmentStatus | None, limit: int, cursor: str | None
    ) -> tuple[list[Shipment], str | None]:
        query = select(Shipment).where(Shipment.client_id == client.id)
        if dossier_code:
            query = query.where(Shipment.dossier_code == dossier_code)
        if status:
            query = query.where(Shipment.status == status.value)
        if cursor:
            created_at, last_id = _decode_cursor(cursor)
            query = query.where(
                or_(Shipment.created_at < created_at, and_(Shipment.created_at == created_at, Shipment.id < last_id))
            )
        rows = list(
            await self.session.scalars(query.order_by(Shipment.created_at.desc(), Shipment.id.desc()).limit(limit + 1))
        )
        next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
        return rows[:limit], next_cursor

    async def timeline(self, shipment_id: str) -> list[ShipmentEvent]:
        """Every event of the shipment in the order things happened (then as recorded)."""
        return list(
            await self.session.scalars(
                select(ShipmentEvent)
                .where(ShipmentEvent.shipment_id == shipment_id)
                .order_by(ShipmentEvent.occurred_at, ShipmentEvent.id)
            )
        )

    async def events(self, client: Caller, shipment_id: str) -> list[ShipmentEvent]:
        await self.get(client, shipment_id)
        return await self.timeline(shipment_id)

    async def cancel(self, client: Caller, shipment_id: str) -> Shipment:
        """Cancel before pickup: at the carrier if booked (it may refuse: 409), else at once. The caller commits."""
        shipment = await self.get(client, shipment_id)
        if shipment.status == S.CANCELLED.value:
            return shipment
        if shipment.status != S.PENDING.value:
            raise ShipmentTransition(
                f"Shipment is {shipment.status}; only one not yet picked up can be cancelled.",
                current_status=shipment.status,
            )
        code = None
        if shipment.carrier_order_id is not None:
            # No transaction is held while the carrier answers: its push of the cancellation may come first.
            await self.session.commit()
            result = await self.carrier.cancel(shipment.carrier_order_id)
            await self.session.refresh(shipment)
            if not result.accepted:
                raise ShipmentTransition(f"The carrier refused the cancellation: {result.message}"[:500])
            if shipment.status == S.CANCELLED.value:
                return shipment
            code = result.case_id
        self._move(
            shipment,
            S.CANCELLED,
            self.clock.now(),
            EventSource.PORTAL,
            code=code,
            description="cancelled by the portal",
        )
        return shipment

    async def track(self, item_number: str) -> tuple[Shipment, list[ShipmentEvent]]:
        """The latest shipment with this item number (numbers are reused after a year) and its timeline."""
        shipment = await self.session.scalar(
            select(Shipment).where(Shipment.item_number == item_number).order_by(Shipment.created_at.desc()).limit(1)
        )
        shipment = _found(shipment, item_number)
        return shipment, await self.timeline(shipment.id)

    # -- the postal staff's page (gateway/staff) --------------------------------------------------

    async def list_for_office(self, office_code: str, day: date) -> list[Shipment]:
        """The office's work for `day` (Vietnam's day): every open shipment, and those that changed that day."""
        start = datetime.combine(day, time(0), VN_TZ)
        end = start + timedelta(days=1)
        open_statuses = [s.value for s in S if s not in FINAL_STATUSES]
        return list(
            await self.session.scalars(
                select(Shipment)
                .where(
                    Shipment.office_code == office_code,
                    Shipment.created_at < end,
                    or_(
                        Shipment.status.in_(open_statuses),
                        and_(Shipment.updated_at >= start, Shipment.updated_at < end),
                    ),
                )
                .order_by(Shipment.kind, Shipment.created_at)
                .limit(500)
            )
        )

    async def get_for_office(self, shipment_id: str, office_code: str) -> Shipment:
        """Another office's shipment answers exactly like a missing one."""
        shipment = await self.session.get(Shipment, shipment_id)
        return _found(shipment if shipment is not None and shipment.office_code == office_code else None, shipment_id)

    async def find_by_item_number(self, item_number: str, office_code: str) -> Shipment:
        shipment = await self.session.scalar(
            select(Shipment)
            .where(Shipment.item_number == item_number.strip().upper()[:13], Shipment.office_code == office_code)
            .order_by(Shipment.created_at.desc())
            .limit(1)
        )
        return _found(shipment, item_number[:13])


def _described(shipment: Shipment, event: CarrierEvent) -> str:
    # A dossier's sender is the citizen: "returned" brings it back to them, not to the agency. The status
    # set has one returned end (contracts/shipping.py), so the event says which.
    if event.status is S.RETURNED_TO_AGENCY and shipment.kind == ShipmentKind.DOSSIER_PICKUP.value:
        return f"returned to its sender, the citizen: {event.description}"
    return event.description


def _found(shipment: Shipment | None, shipment_id: str) -> Shipment:
    if shipment is None:
        # Another client's (or office's) shipment answers exactly like a missing one.
        raise NotFound(f"No shipment '{shipment_id[:64]}'.")
    return shipment


def _encode_cursor(s: Shipment) -> str:
    return base64.urlsafe_b64encode(f"{s.created_at.isoformat()}|{s.id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, last_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(created), last_id
    except (ValueError, UnicodeDecodeError):
        raise Unprocessable("The cursor is not one this API gave out.", field="cursor") from None
