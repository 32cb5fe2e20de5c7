"""The ledger's invariants under any sequence of what really happens to payments: created, paid with the
IPN delivered once, several times or not at all, the same IPN replayed, settled by the resolver's query,
refunded in parts or whole. The real gateway and the VNPay simulator, on the database the run is for.

After every step: every entry balances; all balances sum to zero; each succeeded payment is posted
exactly once (its clearing account holds its amount, however many notifications and queries reported
it), nothing else is; refunds never exceed what was paid and each succeeded one is posted once; every
succeeded payment has exactly one receipt and every series is numbered without gaps.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select

from gateway.db.models import JournalEntry
from gateway.ledger.balances import balances
from gateway.ledger.checks import check_ledger
from gateway.ledger.entries import Cause
from gateway.receipts.checks import check_receipts
from tests.conftest import empty_tables
from tests.harness import World, payment_body, reference_of, signed_ipn
from tests.ledger.world import PROPERTY, gateway_settings, open_world

FEE_LINE = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["fee", "charge", "postage"]),
        "code": st.sampled_from(["LP-HT", "PHI-01", "BCCI"]),
        "description": st.just("Lệ phí cấp bản sao trích lục hộ tịch"),
        "amount": st.integers(min_value=1_000, max_value=300_000),
    }
)


class LedgerMachine(RuleBasedStateMachine):
    database_url = ""  # set by the test, from the session's database

    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.done = asyncio.Event()
        self.world: World = self.run(self._open())
        self.paid: dict[str, int] = {}  # payment id -> amount, once the gateway says succeeded
        self.at_vnpay: dict[str, dict[str, Any]] = {}  # paid at VNPay: the payment and VNPay's transaction
        self.refunded: dict[str, int] = {}

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)

    async def _open(self) -> World:
        """The world, held open by a task of its own between steps: its lifespans are entered and left in
        that one task, as anyio requires."""
        await empty_tables(self.database_url)
        ready: asyncio.Future[World] = asyncio.get_running_loop().create_future()

        async def hold() -> None:
            async with open_world(gateway_settings(self.database_url)) as world:
                ready.set_result(world)
                await self.done.wait()

        self.holder = asyncio.create_task(hold())
        return await ready

    def teardown(self) -> None:
        async def finish() -> None:
            self.done.set()
            await self.holder

        self.run(finish())
        self.runner.close()

    @initialize()
    def refunds_complete_at_once(self) -> None:
        self.run(self.world.faults(refund_pending=False))

    @rule(target=payments, lines=st.lists(FEE_LINE, min_size=1, max_size=3))
    def create(self, lines: list[dict[str, Any]]) -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            r = await self.world.create_payment(payment_body(fee_lines=lines))
            assert r.status_code == 201, r.text
            payment = dict(r.json())
            await self.world.open_checkout(payment["checkout_url"])
            return payment

        return self.run(go())

    @rule(payment=payments, duplicates=st.integers(0, 3), drop=st.booleans())
    def pay(self, payment: dict[str, Any], duplicates: int, drop: bool) -> None:
        """The citizen pays; VNPay's IPN arrives once, several times, or never (a query finds it)."""

        async def go() -> None:
            await self.world.faults(ipn_drop=drop, ipn_duplicate=duplicates)
            r = await self.world.sim.post(
                f"/_sim/vnpay/transactions/{reference_of(payment)}", json={"response_code": "00"}
            )
            # A transaction already finished at VNPay cannot be paid again: the simulator refuses.
            assert r.status_code in (200, 201, 409), r.text
            txn = (await self.world.sim.get(f"/_sim/vnpay/transactions/{reference_of(payment)}")).json()
            if txn["vnp_ResponseCode"] == "00":  # paid at VNPay (not refused as already finished otherwise)
                self.at_vnpay[payment["id"]] = {"payment": payment, "txn": txn}
            await self.world.faults(ipn_drop=False, ipn_duplicate=0)
            await self._observe(payment["id"])

        self.run(go())

    @precondition(lambda self: bool(self.at_vnpay))
    @rule(data=st.data())
    def replay_ipn(self, data: st.DataObject) -> None:
        """A genuine success IPN of a paid payment, sent again (VNPay retries; an attacker replays)."""
        paid = self.at_vnpay[data.draw(st.sampled_from(sorted(self.at_vnpay)))]
        payment, txn = paid["payment"], paid["txn"]
        # What VNPay really sent: its transaction number is what a refund later names.
        real = {k: txn[k] for k in ("vnp_TransactionNo", "vnp_BankTranNo", "vnp_PayDate", "vnp_BankCode") if txn[k]}

        async def go() -> None:
            await self.world.http.get("/callbacks/vnpay/ipn", params=signed_ipn(payment, **real))
            await self._observe(payment["id"])

        self.run(go())

    @rule()
    def query_everything_due(self) -> None:
        """Time passes and the resolver asks VNPay about every open payment."""

        async def go() -> None:
            self.world.clock.advance(timedelta(minutes=20))
            await self.world.run_resolver()
            for payment_id in self.at_vnpay:
                await self._observe(payment_id)

        self.run(go())

    @precondition(lambda self: bool(self.paid))
    @rule(data=st.data(), whole=st.booleans())
    def refund(self, data: st.DataObject, whole: bool) -> None:
        payment_id = data.draw(st.sampled_from(sorted(self.paid)))
        left = self.paid[payment_id] - self.refunded.get(payment_id, 0)
        amount = None if whole or left <= 1 else data.draw(st.integers(1, left))

        async def go() -> None:
            r = await self.world.http.post(
                f"/v1/payments/{payment_id}/refunds",
                json={"reason": "Hồ sơ bị từ chối", **({} if amount is None else {"amount": amount})},
                headers={**self.world.auth(), "Idempotency-Key": str(uuid.uuid4())},
            )
            if left == 0:
                assert r.status_code == 422, r.text  # nothing left to refund
                return
            assert r.status_code == 201, r.text
            assert r.json()["status"] == "succeeded", r.text
            self.refunded[payment_id] = self.refunded.get(payment_id, 0) + r.json()["amount"]

        self.run(go())

    async def _observe(self, payment_id: str) -> None:
        payment = await self.world.get_payment(payment_id)
        if payment["status"] == "succeeded":
            self.paid[payment_id] = payment["amount"]

    @invariant()
    def ledger_invariants_hold(self) -> None:
        async def go() -> None:
            async with self.world.app.state.sessionmaker() as session:
                assert await check_ledger(session) == []
                assert await check_receipts(session) == []
                rows = await balances(session)
                assert sum(b.debits for b in rows) == sum(b.credits for b in rows)
                posted = await session.scalar(
                    select(func.count()).where(JournalEntry.cause == Cause.PAYMENT_SUCCEEDED.value)
                )
                assert posted == len(self.paid)  # once each, however often it was reported
                refunds = await session.scalar(
                    select(func.count()).where(JournalEntry.cause == Cause.REFUND_SUCCEEDED.value)
                )
                assert refunds is not None
            for payment_id, amount in self.paid.items():
                assert self.refunded.get(payment_id, 0) <= amount
                assert (await self.world.get_payment(payment_id))["refunded_amount"] == self.refunded.get(payment_id, 0)

        self.run(go())


def test_ledger_invariants_hold_whatever_happens(database_url: str) -> None:
    LedgerMachine.database_url = database_url
    LedgerMachine.TestCase.settings = PROPERTY
    LedgerMachine.TestCase().runTest()


pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
