"""What must hold after any run, however often the gateway died: the gateway agrees with every provider and
the carrier, every portal event was delivered, and nothing was made or told twice.

The gateway's side is read from its database; the providers' side from the simulators' control and query
APIs, the way an auditor would compare the two books.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select

from adapters.vnpost.codes import status_of
from contracts.payments import PaymentStatus, RefundStatus
from contracts.webhooks import WebhookEventStatus
from gateway.db.engine import create_engine, create_sessionmaker
from gateway.db.models import Payment, Posting, Refund, Shipment, WebhookEvent
from gateway.ledger.accounts import AccountKind
from gateway.ledger.checks import check_ledger
from gateway.payments import refunds as refund_rules
from gateway.payments.transitions import OPEN
from simulators.payos.config import DEV_MERCHANT as PAYOS_MERCHANT
from tests.reliability.crash_load import Tally
from tests.reliability.crash_world import World

# How long the gateway may take to settle what a crash left open (queries, re-deliveries, leases): a bound
# that turns a lost update into a failure instead of a hung test, not a speed requirement.
SETTLE_BOUND_SECONDS = 240.0
OPEN_PAYMENTS = [s.value for s in OPEN]


@dataclass
class ProviderView:
    paid: bool
    refunded: int


@dataclass
class Report:
    payments: int = 0
    refunds: int = 0
    shipments: int = 0
    events: int = 0
    deliveries: int = 0
    redelivered: int = 0
    problems: list[str] = field(default_factory=list)


class Books:
    """The gateway's database, read only."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url)
        self.sessionmaker = create_sessionmaker(self.engine)

    async def aclose(self) -> None:
        await self.engine.dispose()

    async def provider_ref(self, payment_id: str) -> str:
        async with self.sessionmaker() as session:
            return (await session.get_one(Payment, payment_id)).provider_ref

    async def unsettled(self) -> dict[str, int]:
        """What is still open: payments and refunds not final, events not delivered, bookings not made."""
        async with self.sessionmaker() as session:

            async def count(statement: Any) -> int:
                return int((await session.execute(statement)).scalar_one())

            return {
                "payments": await count(select(func.count()).where(Payment.status.in_(OPEN_PAYMENTS))),
                "refunds": await count(select(func.count()).where(Refund.status.in_(refund_rules.OPEN_VALUES))),
                "events": await count(
                    select(func.count()).where(WebhookEvent.status == WebhookEventStatus.PENDING.value)
                ),
                "bookings": await count(select(func.count()).where(Shipment.booking == "requested")),
                "refused bookings": await count(select(func.count()).where(Shipment.booking == "refused")),
            }


async def provider_view(sim: httpx.AsyncClient, world: World, payment: Payment) -> ProviderView:
    url, ref = world.sim_urls[payment.provider], payment.provider_ref
    if payment.provider == "vnpay":
        r = await sim.get(f"{url}/_sim/vnpay/transactions/{ref}")
        if r.status_code == 404:  # the citizen never reached VNPay's page
            return ProviderView(False, 0)
        t = r.json()
        done = sum(r["amount"] for r in t["refunds"] if r["vnp_TransactionStatus"] == "00")
        return ProviderView(t["status"] == "succeeded", done)
    if payment.provider == "momo":
        r = await sim.get(f"{url}/_sim/momo/orders/{ref}")
        if r.status_code == 404:  # its create never reached MoMo (cut short by a crash)
            return ProviderView(False, 0)
        o = r.json()
        return ProviderView(o["resultCode"] == 0, sum(r["amount"] for r in o["refundTrans"] if r["resultCode"] == 0))
    if payment.provider == "zalopay":
        r = await sim.get(f"{url}/_sim/zalopay/orders/{ref}")
        if r.status_code == 404:
            return ProviderView(False, 0)
        o = r.json()
        return ProviderView(o["status"] == "paid", o["refunded"])
    headers = {"x-client-id": PAYOS_MERCHANT.client_id, "x-api-key": PAYOS_MERCHANT.api_key}
    d = (await sim.get(f"{url}/v2/payment-requests/{ref}", headers=headers)).json()["data"]
    return ProviderView(d is not None and d["status"] == "PAID", 0)  # data null: payOS has no such link


async def settle(books: Books) -> dict[str, int]:
    """Wait until nothing is open any more (returns what is still open if the bound passes)."""
    deadline = time.monotonic() + SETTLE_BOUND_SECONDS
    while True:
        left = await books.unsettled()
        if not any(left.values()) or time.monotonic() > deadline:
            return left
        await asyncio.sleep(1)


async def shipments_agree(books: Books, world: World, sim: httpx.AsyncClient) -> list[str]:
    async with books.sessionmaker() as session:
        shipments = list(await session.scalars(select(Shipment)))
    problems = []
    for s in shipments:
        if s.carrier_order_id is None:
            problems.append(f"shipment {s.id} was never booked ({s.booking})")
            continue
        order = (await sim.get(f"{world.sim_urls['vnpost']}/_sim/vnpost/orders/{s.carrier_order_id}")).json()
        if s.status != status_of(int(order["status"])).value:
            problems.append(f"shipment {s.id}: gateway {s.status}, carrier {order['status']}")
    return problems


async def shipments_settle(books: Books, world: World) -> list[str]:
    """The carrier's last pushes may still be on their way (re-delivery, polling): wait for them, bounded."""
    deadline = time.monotonic() + SETTLE_BOUND_SECONDS
    async with httpx.AsyncClient(timeout=30) as sim:
        while True:
            problems = await shipments_agree(books, world, sim)
            if not problems or time.monotonic() > deadline:
                return problems
            await asyncio.sleep(1)


async def check(books: Books, world: World, tally: Tally) -> Report:
    report = Report()
    p = report.problems
    left = await settle(books)
    if any(left.values()):
        p.append(f"still open after {SETTLE_BOUND_SECONDS:.0f} s: {left}")
    p.extend(await shipments_settle(books, world))
    async with books.sessionmaker() as session:
        payments = list(await session.scalars(select(Payment)))
        refunds = list(await session.scalars(select(Refund)))
        events = list(await session.scalars(select(WebhookEvent)))
        report.shipments = int((await session.execute(select(func.count()).select_from(Shipment))).scalar_one())
    report.payments, report.refunds, report.events = len(payments), len(refunds), len(events)

    # One payment, refund and shipment per request, however often the portal had to send it.
    per_key = Counter(payment.idempotency_key for payment in payments)
    if set(per_key) != set(tally.payment_keys) or any(n > 1 for n in per_key.values()):
        p.append(f"{len(tally.payment_keys)} payments asked for, stored per key: {per_key.most_common(3)}")
    answered = [i for i in tally.payment_keys.values() if i]
    if len(set(answered)) != len(answered) or not set(answered) <= {payment.id for payment in payments}:
        p.append("a payment id answered twice, or answered and not stored")
    if len(set(tally.refund_keys.values())) != len(tally.refund_keys) or len(refunds) != len(tally.refund_keys):
        p.append(f"{len(tally.refund_keys)} refunds asked for, {len(refunds)} stored")
    if report.shipments != len(tally.shipment_keys):
        p.append(f"{len(tally.shipment_keys)} shipments asked for, {report.shipments} stored")

    # Every payment and refund as its provider has it.
    succeeded_refunds: dict[str, int] = defaultdict(int)
    for r in refunds:
        if r.status == RefundStatus.SUCCEEDED.value:
            succeeded_refunds[r.payment_id] += r.amount
    providers_hold: dict[str, int] = defaultdict(int)  # per provider: paid less refunded, as it shows
    async with httpx.AsyncClient(timeout=30) as sim:
        for payment in payments:
            view = await provider_view(sim, world, payment)
            providers_hold[payment.provider] += (payment.amount if view.paid else 0) - view.refunded
            ours = payment.status == PaymentStatus.SUCCEEDED.value
            if ours != view.paid:
                p.append(
                    f"payment {payment.id} ({payment.provider}): gateway {payment.status}, provider paid={view.paid}"
                )
            if view.paid != (payment.id in tally.paid_at_provider):
                p.append(f"payment {payment.id} ({payment.provider}): provider paid={view.paid}, citizen paid it?")
            if payment.refunded_amount != view.refunded or succeeded_refunds[payment.id] != view.refunded:
                p.append(
                    f"payment {payment.id} ({payment.provider}): refunded {payment.refunded_amount} "
                    f"(refund rows {succeeded_refunds[payment.id]}), provider {view.refunded}"
                )

    # Money in the gateway's books equals the providers': each clearing account holds what its provider
    # shows as paid less refunded, and the ledger's own invariants hold.
    async with books.sessionmaker() as session:
        violations = await check_ledger(session)
        rows = await session.execute(
            select(Posting.account_key, func.sum(Posting.amount))
            .where(Posting.account_kind == AccountKind.PROVIDER_CLEARING.value)
            .group_by(Posting.account_key)
        )
        cleared = {key: int(total or 0) for key, total in rows}
    p.extend(f"ledger: {v}" for v in violations)
    for provider in set(providers_hold) | set(cleared):
        if cleared.get(provider, 0) != providers_hold[provider]:
            p.append(f"ledger: {provider} clearing {cleared.get(provider)}, provider shows {providers_hold[provider]}")
    # Every portal event delivered at least once, and no business event under two ids.
    delivered = world.portal.snapshot()
    report.deliveries = len(delivered)
    received_ids = Counter(d.webhook_id for d in delivered)
    report.redelivered = sum(n - 1 for n in received_ids.values())
    for event in events:
        if event.status != WebhookEventStatus.DELIVERED.value or event.id not in received_ids:
            p.append(f"event {event.id} ({event.type}) is {event.status}, received {received_ids[event.id]} times")
    ids_of: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for d in delivered:
        data = d.body["data"]
        ids_of[(d.body["type"], data["id"], json.dumps(data.get("status")))].add(d.webhook_id)
    for key, ids in ids_of.items():
        if len(ids) > 1:
            p.append(f"business event {key} delivered under {len(ids)} ids: {sorted(ids)}")
    return report
