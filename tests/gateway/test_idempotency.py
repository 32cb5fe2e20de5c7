"""Idempotency-Key on POST /v1/payments, as draft-ietf-httpapi-idempotency-key-header describes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select, update

from gateway.db.models import IdempotencyKey, Payment
from tests.harness import World, payment_body

pytestmark = pytest.mark.anyio


async def payments_count(world: World) -> int:
    async with world.app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Payment)) or 0)


async def test_missing_key_is_400_problem(world: World) -> None:
    r = await world.http.post("/v1/payments", json=payment_body(), headers=world.auth())
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("idempotency-key-missing")
    assert await payments_count(world) == 0


async def test_same_key_same_body_replays_first_response(world: World) -> None:
    first = await world.create_payment(idem="k-1")
    again = await world.create_payment(idem="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert await payments_count(world) == 1


async def test_same_body_reformatted_is_the_same_request(world: World) -> None:
    body = payment_body()
    first = await world.create_payment(body, idem="k-fmt")
    raw = json.dumps(dict(reversed(list(body.items()))), indent=2)
    headers = {**world.auth(), "Idempotency-Key": "k-fmt", "Content-Type": "application/json"}
    again = await world.http.post("/v1/payments", content=raw, headers=headers)
    assert again.json()["id"] == first.json()["id"]


async def test_same_key_different_body_is_422(world: World) -> None:
    await world.create_payment(idem="k-2")
    other = await world.create_payment(payment_body(dossier_code="OTHER-1"), idem="k-2")
    assert other.status_code == 422
    assert other.json()["type"].endswith("idempotency-key-reused")
    assert await payments_count(world) == 1


async def test_same_key_while_first_is_running_is_409(world: World) -> None:
    # The first request holds the key (claimed, no response yet), as it does while it runs.
    from gateway.idempotency import fingerprint

    body = payment_body()
    async with world.app.state.sessionmaker() as session:
        session.add(
            IdempotencyKey(
                client_id=world.client.id,  # type: ignore[union-attr]
                key="k-3",
                fingerprint=fingerprint("POST /v1/payments", json.dumps(body).encode()),
                operation="POST /v1/payments",
                locked_until=world.clock.now() + timedelta(seconds=60),
                created_at=world.clock.now(),
            )
        )
        await session.commit()
    r = await world.create_payment(body, idem="k-3")
    assert r.status_code == 409
    assert r.json()["type"].endswith("idempotency-key-in-flight")
    # A first request that died leaves its lock to expire; then the retry goes through.
    world.clock.advance(timedelta(seconds=61))
    assert (await world.create_payment(body, idem="k-3")).status_code == 201


async def test_same_key_sent_twice_at_once_creates_one_payment(world: World) -> None:
    # The second waits for the first's commit on the key's unique index, then replays it.
    import asyncio

    first, second = await asyncio.gather(*(world.create_payment(idem="k-race") for _ in range(2)))
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert sorted(r.headers.get("idempotent-replayed", "") for r in (first, second)) == ["", "true"]
    assert await payments_count(world) == 1


async def test_a_creation_and_its_key_commit_together(world: World) -> None:
    # One transaction: the key row carries the response already, never a claim without one.
    r = await world.create_payment(idem="k-one")
    async with world.app.state.sessionmaker() as session:
        stored = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "k-one"))
    assert stored is not None and stored.response_status == 201 and stored.locked_until is None
    assert json.loads(stored.response_body or "") == r.json()


async def test_an_invalid_request_with_a_used_key_is_told_of_the_key(world: World) -> None:
    # As when the key is claimed first: a key used for another body is the error, not the body's fault.
    await world.create_payment(idem="k-5")
    bad = await world.create_payment(payment_body(expires_in_seconds=10**9), idem="k-5")
    assert bad.status_code == 422
    assert bad.json()["type"].endswith("idempotency-key-reused")
    assert await payments_count(world) == 1


async def test_keys_are_per_client(world: World) -> None:
    _, other_key = await world.add_client("Cổng khác")
    a = await world.create_payment(idem="shared")
    b = await world.create_payment(idem="shared", key=other_key)
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


async def test_rejected_request_releases_the_key(world: World) -> None:
    bad = await world.create_payment(payment_body(expires_in_seconds=10**9), idem="k-4")
    assert bad.status_code == 422
    good = await world.create_payment(payment_body(), idem="k-4")
    assert good.status_code == 201


async def test_keys_are_forgotten_after_retention(world: World) -> None:
    from gateway.idempotency import purge_expired

    first = await world.create_payment(idem="old")
    state = world.app.state
    assert await purge_expired(state.sessionmaker, world.clock, 24) == 0
    world.clock.advance(timedelta(hours=25))
    assert await purge_expired(state.sessionmaker, world.clock, 24) == 1
    again = await world.create_payment(idem="old")  # a new request now
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]


async def test_the_purge_works_in_batches_and_keeps_fresh_keys(world: World) -> None:
    from gateway.idempotency import purge_expired

    for n in range(5):
        assert (await world.create_payment(idem=f"old-{n}")).status_code == 201
    world.clock.advance(timedelta(hours=25))
    fresh = await world.create_payment(idem="fresh")
    deletes: list[str] = []
    engine = world.app.state.engine.sync_engine

    def listener(*args: Any) -> None:
        if args[2].startswith("DELETE"):
            deletes.append(args[2])

    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert await purge_expired(world.app.state.sessionmaker, world.clock, 24, batch=2) == 5
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(deletes) == 3  # 2 + 2 + 1, each in a transaction of its own
    replay = await world.create_payment(idem="fresh")  # still remembered
    assert replay.headers.get("idempotent-replayed") == "true" and replay.json()["id"] == fresh.json()["id"]


async def test_a_key_past_retention_is_free_before_the_purge_runs(world: World) -> None:
    first = await world.create_payment(idem="stale")
    world.clock.advance(timedelta(hours=25))
    again = await world.create_payment(idem="stale")
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    replay = await world.create_payment(idem="stale")
    assert replay.json()["id"] == again.json()["id"]


async def test_releasing_a_key_whose_response_was_stored_keeps_it(world: World) -> None:
    # A request cancelled after its work committed with the key's response (the commit went through, the
    # answer to it was lost) releases the key on its way out: the key must stay, or a retry with it would
    # do the work a second time.
    from gateway.idempotency import Idempotency

    state = world.app.state
    assert world.client is not None
    idem = Idempotency(state.sessionmaker, world.clock, lock_seconds=60, retention_hours=24)
    assert await idem.begin(world.client.id, "k-cancelled", "POST /v1/payments", b"{}") is None
    async with state.sessionmaker() as session:
        await idem.complete(session, 201, {"id": "pay_x"})
        await session.commit()
    await idem.release()
    async with state.sessionmaker() as session:
        kept = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "k-cancelled"))
    assert kept is not None and kept.response_status == 201


async def _crash_after_commit(world: World, idem: str, *, checkout: bool) -> str:
    """A create whose process died after the payment (and, with `checkout`, its checkout) was committed but
    before its response was stored: the key's row is gone once its lock lapsed and nothing was kept."""
    first = await world.create_payment(idem=idem)
    assert first.status_code == 201
    async with world.app.state.sessionmaker() as session:
        await session.execute(delete(IdempotencyKey).where(IdempotencyKey.key == idem))
        if not checkout:
            await session.execute(update(Payment).where(Payment.id == first.json()["id"]).values(checkout_url=None))
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(Payment)) == 1
    return str(first.json()["id"])


async def test_a_create_retried_after_a_crash_answers_the_payment_it_made(world: World) -> None:
    made = await _crash_after_commit(world, "cut-short", checkout=True)
    again = await world.create_payment(idem="cut-short")
    assert again.status_code == 201 and again.json()["id"] == made
    assert again.json()["checkout_url"]


async def test_a_create_cut_short_at_the_provider_makes_no_second_order_on_retry(world: World) -> None:
    await _crash_after_commit(world, "cut-at-provider", checkout=False)
    again = await world.create_payment(idem="cut-at-provider")
    assert again.status_code == 504, again.text
    async with world.app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 1
        payment = await session.scalar(select(Payment))
        assert payment is not None and payment.next_query_at is not None
        assert payment.next_query_at <= world.clock.now()  # the resolver asks the provider at once
