"""Several gateway processes on one PostgreSQL: concurrent load with one process SIGKILLed mid-run loses and
doubles nothing, and the claims of a dead process are taken over within its lease, never those of a live one.

PostgreSQL only: SQLite serves one process (`dvc-gateway serve` refuses more, gateway/cli.py).
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from contracts.examples import payment_create_body
from gateway.db.models import Payment, WebhookEvent
from tests.conftest import temporary_database
from tests.harness import ON_POSTGRES
from tests.reliability.crash_checks import Books, check
from tests.reliability.crash_load import Killer, Load
from tests.reliability.crash_world import Proc, World, free_port, world
from tests.reliability.test_crash import describe

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="several gateway processes need PostgreSQL (DVCGW_TEST_DATABASE_URL); SQLite serves one process",
)

LEASE = 10  # seconds: every worker's lease in these runs (the default is 30; shorter keeps the suite short)
POLL = 0.5  # seconds: worker_poll_seconds
ENV = {
    "DVCGW_WORKER_LEASE_SECONDS": str(LEASE),
    "DVCGW_WEBHOOK_LEASE_SECONDS": str(LEASE),
    "DVCGW_WORKER_POLL_SECONDS": str(POLL),
    "DVCGW_IDEMPOTENCY_LOCK_SECONDS": "5",
    "DVCGW_PAYMENT_EXPIRY_GRACE_SECONDS": "5",
    **{f"DVCGW_{p.upper()}_TIMEOUT_SECONDS": "5" for p in ("momo", "zalopay", "payos", "vnpost")},
}


def gateways(w: World, n: int) -> list[Proc]:
    # The first takes the providers' notifications (their configured URL); the load goes to all of them.
    procs = [w.gateway()] + [w.gateway(free_port(), name=f"gateway{i}") for i in range(1, n)]
    for proc in procs:
        proc.start()
    return procs


@pytest.mark.parametrize("processes", [2, 4])
def test_processes_under_load_with_one_killed_lose_and_double_nothing(tmp_path: Path, processes: int) -> None:
    seed = int(os.environ.get("CRASH_SEED") or secrets.randbelow(2**32))
    print(f"several-process suite seed {seed} (CRASH_SEED={seed} replays it)")

    async def run(w: World, procs: list[Proc]) -> str:
        rng = random.Random(seed)
        books = Books(w.database_url)
        load = Load(w, random.Random(rng.random()), procs, books.provider_ref)
        try:
            async with httpx.AsyncClient() as sim:
                for name in ("vnpay", "zalopay"):
                    await sim.put(f"{w.sim_urls[name]}/_sim/{name}/faults", json={"refund_pending": False})
            stop = asyncio.Event()
            citizens = [asyncio.create_task(load.citizen(stop)) for _ in range(3 * processes)]
            await asyncio.sleep(rng.uniform(5, 10))
            # Not the first: it is where the providers send notifications, as a load balancer would be.
            victim = procs[rng.randrange(1, processes)]
            await Killer(load, random.Random(rng.random()), restart=False).kill_one(victim)
            load.gateways = [p for p in procs if p is not victim]
            await asyncio.sleep(15)
            stop.set()
            await asyncio.gather(*citizens)
            report = await check(books, w, load.tally)
        finally:
            await load.aclose()
            await books.aclose()
        summary = describe(seed, load.tally, report)
        assert not report.problems, summary
        return summary

    with temporary_database(tmp_path) as url, world(url, tmp_path, **ENV) as w:
        procs = gateways(w, processes)
        try:
            print(f"{processes} processes: " + asyncio.run(run(w, procs)))
        finally:
            for proc in procs:
                proc.stop()


async def _until(condition: object, bound: float) -> float:
    """Wait until `condition()` (async) is true; the time it became so. A bound, not a speed check."""
    deadline = time.monotonic() + bound
    while not await condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.1)
    return time.monotonic()


def test_a_live_process_keeps_its_claims_and_a_dead_ones_are_taken_over_within_a_lease(tmp_path: Path) -> None:
    """Process A claims a payment whose query hangs at VNPay and a webhook the portal holds; B runs beside it.
    While A lives (over several leases) B takes neither; once A is SIGKILLed, B takes both within the lease
    and one poll (measured from the kill; the margin covers a loaded machine's scheduling, not speed)."""
    margin = 5.0
    # Nothing ends on its own while the test watches: the query and the delivery wait far longer than it.
    env = ENV | {
        "DVCGW_PAYMENT_FIRST_QUERY_SECONDS": "1",
        "DVCGW_VNPAY_TIMEOUT_SECONDS": "200",
        "DVCGW_WEBHOOK_TIMEOUT_SECONDS": "200",
    }

    async def run(w: World, a: Proc, b: Proc) -> dict[str, float]:
        books = Books(w.database_url)
        headers = {"Authorization": f"Bearer {w.api_key}", "Idempotency-Key": secrets.token_hex(8)}
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                # VNPay's API hangs: the resolver's query of this payment stays in flight in A.
                r = await http.put(
                    f"{w.sim_urls['vnpay']}/_sim/vnpay/faults", json={"api_hang": True, "api_hang_seconds": 600}
                )
                assert r.status_code == 200, r.text
                created = await http.post(
                    f"{a.url}/v1/payments", json=payment_create_body(provider="vnpay"), headers=headers
                )
                assert created.status_code == 201, created.text
                payment_id = created.json()["id"]
                # And a portal event A is delivering while the portal holds it.
                w.portal.hold_seconds = 600
                w.portal.hold.set()
                headers["Idempotency-Key"] = secrets.token_hex(8)
                momo = await http.post(
                    f"{a.url}/v1/payments", json=payment_create_body(provider="momo"), headers=headers
                )
                ref = await books.provider_ref(momo.json()["id"])
                await http.post(f"{w.sim_urls['momo']}/_sim/momo/orders/{ref}/pay", json={})

            async def version() -> int:
                async with books.sessionmaker() as session:
                    return (await session.get_one(Payment, payment_id, populate_existing=True)).version

            first = await version()
            await _until(lambda: _gt(version, first), 30)  # A claimed it
            claimed = await version()
            assert await asyncio.to_thread(w.portal.reached.wait, 30)
            held = w.portal.snapshot()[-1].webhook_id

            await asyncio.to_thread(b.start)
            await asyncio.sleep(2 * LEASE)  # two leases: A renews, B must not take over
            assert await version() == claimed, "a live process's claim was taken over"
            assert [d.webhook_id for d in w.portal.snapshot()].count(held) == 1, "a live delivery was taken over"

            async with books.sessionmaker() as session:
                event = await session.scalar(select(WebhookEvent).where(WebhookEvent.id == held))
                assert event is not None and event.locked_until is not None
            killed = time.monotonic()
            await asyncio.to_thread(a.kill)
            payment_taken = await _until(lambda: _gt(version, claimed), 3 * LEASE)

            async def redelivered() -> bool:
                return [d.webhook_id for d in w.portal.snapshot()].count(held) > 1

            event_taken = await _until(redelivered, 3 * LEASE)
            w.portal.hold.clear()
            w.portal.release.set()
            return {"payment": payment_taken - killed, "webhook": event_taken - killed}
        finally:
            await books.aclose()

    with temporary_database(tmp_path) as url, world(url, tmp_path, **env) as w:
        a, b = w.gateway(), w.gateway(free_port(), name="gateway-b")
        a.start()
        try:
            took = asyncio.run(run(w, a, b))
        finally:
            a.stop()
            b.stop()
    print(f"taken over after the kill: {took} (lease {LEASE} s, poll {POLL} s)")
    for what, seconds in took.items():
        assert seconds <= LEASE + POLL + margin, f"{what} taken over {seconds:.1f} s after the kill"


async def _gt(value: object, than: int) -> bool:
    return bool(await value() > than)  # type: ignore[operator]
