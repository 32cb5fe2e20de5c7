"""Portal webhooks: Standard Webhooks signatures, retries, dead events and re-sending, single delivery."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook

from gateway.db.models import Client
from gateway.webhooks.dispatcher import Dispatcher
from tests.harness import World, signed_ipn

pytestmark = pytest.mark.anyio


async def succeeded_payment(world: World) -> dict:
    payment = (await world.create_payment()).json()
    r = await world.http.get("/callbacks/vnpay/ipn", params=signed_ipn(payment))
    assert r.json()["RspCode"] == "00"
    return payment


async def test_signature_verifies_with_the_reference_library(world: World) -> None:
    payment = await succeeded_payment(world)
    await world.run_dispatcher()
    [delivery] = world.portal.received
    secret = world.client.webhook_secret  # type: ignore[union-attr]
    verified = Webhook(secret).verify(delivery.content, dict(delivery.headers))
    assert verified["type"] == "payment.succeeded"
    assert verified["data"]["id"] == payment["id"]
    with pytest.raises(Exception):  # noqa: B017 - the library raises its own verification error
        Webhook(secret).verify(delivery.content.replace(b"succeeded", b"failed!!!"), dict(delivery.headers))


async def test_endpoint_down_retries_then_dead_then_resend(world: World) -> None:
    await succeeded_payment(world)
    world.portal.status = 503
    assert await world.run_dispatcher() == 1
    for delay in (5, 60, 300):  # the test schedule: 4 tries in all
        assert await world.run_dispatcher() == 0  # not due yet
        world.clock.advance(timedelta(seconds=delay))
        assert await world.run_dispatcher() == 1
    [event] = (await world.http.get("/v1/webhook-events", params={"status": "dead"}, headers=world.auth())).json()
    assert event["attempts"] == 4 and event["last_status_code"] == 503 and event["last_error"] == "HTTP 503"
    world.clock.advance(timedelta(days=1))
    assert await world.run_dispatcher() == 0  # dead stays dead

    world.portal.status = 204
    r = await world.http.post(f"/v1/webhook-events/{event['id']}/resend", headers=world.auth())
    assert r.status_code == 202 and r.json()["status"] == "pending"
    assert await world.run_dispatcher() == 1
    after = (await world.http.get(f"/v1/webhook-events/{event['id']}", headers=world.auth())).json()
    assert after["status"] == "delivered"
    ids = {req.headers["webhook-id"] for req in world.portal.received}
    assert ids == {event["id"]}  # every retry carries the same webhook-id, so the portal can dedupe


async def test_another_clients_events_are_invisible(world: World) -> None:
    await succeeded_payment(world)
    [event] = (await world.http.get("/v1/webhook-events", headers=world.auth())).json()
    _, other = await world.add_client("Cổng khác")
    assert (await world.http.get(f"/v1/webhook-events/{event['id']}", headers=world.auth(other))).status_code == 404
    r = await world.http.post(f"/v1/webhook-events/{event['id']}/resend", headers=world.auth(other))
    assert r.status_code == 404


async def test_endpoint_can_be_registered_through_the_api(world: World) -> None:
    world.dns.records["portal.example.vn"] = ["14.160.0.10"]
    r = await world.http.put(
        "/v1/webhook-endpoint", json={"url": "https://portal.example.vn/hooks"}, headers=world.auth()
    )
    assert r.status_code == 200
    assert r.json()["url"] == "https://portal.example.vn/hooks" and r.json()["secret"].startswith("whsec_")
    bad = await world.http.put("/v1/webhook-endpoint", json={"url": "not a url"}, headers=world.auth())
    assert bad.status_code == 400


async def test_two_dispatchers_deliver_each_event_once(world: World) -> None:
    """Two gateway processes on one database: claims are exclusive (FOR UPDATE SKIP LOCKED on PostgreSQL)."""
    for _ in range(12):
        await succeeded_payment(world)
    state = world.app.state
    transport = world.portal.handler
    a = Dispatcher(state.sessionmaker, state.settings, world.clock, httpx.MockTransport(transport))
    b = Dispatcher(state.sessionmaker, state.settings, world.clock, httpx.MockTransport(transport))
    try:
        while sum(await asyncio.gather(a.run_once(), b.run_once())):
            pass
    finally:
        await a.aclose()
        await b.aclose()
    ids = [req.headers["webhook-id"] for req in world.portal.received]
    assert len(ids) == 12 and len(set(ids)) == 12


async def test_workers_started_with_the_app_deliver_on_their_own(world: World) -> None:
    from gateway.app import create_app

    settings = world.app.state.settings.model_copy(update={"workers_enabled": True, "worker_poll_seconds": 0.02})
    app = create_app(settings, clock=world.clock, webhook_transport=httpx.MockTransport(world.portal.handler))
    async with app.lifespan():
        await succeeded_payment(world)  # written through the test's app; delivered by the other one
        for _ in range(250):  # bounded wait for the background loop, not a speed assertion
            if world.portal.received:
                break
            await asyncio.sleep(0.02)
    assert [e["type"] for e in world.portal.events()] == ["payment.succeeded"]


async def test_a_failing_job_does_not_stop_the_loop() -> None:
    from gateway.workers import Workers

    runs = 0

    async def flaky() -> int:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise RuntimeError("boom")
        return 0

    workers = Workers({"flaky": flaky}, poll_seconds=0.01)
    workers.start()
    for _ in range(200):
        if runs >= 3:
            break
        await asyncio.sleep(0.01)
    await workers.stop()
    assert runs >= 3


@pytest.mark.parametrize(
    ("failure", "shown"),
    [
        (httpx.ConnectError("[Errno 111] Connect call failed ('10.0.0.5', 5432)"), "connection failed"),
        (httpx.ConnectTimeout("timed out connecting to 10.0.0.5:22"), "timed out"),
        (httpx.ReadTimeout("timed out"), "timed out"),
        (httpx.RemoteProtocolError("illegal status line: b'SSH-2.0-OpenSSH_9.6'"), "request failed"),
    ],
)
async def test_a_portal_sees_a_category_not_the_network_error(world: World, failure: Exception, shown: str) -> None:
    """What answered at a target (an SSH banner, a refused port) stays in the gateway's log."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    await succeeded_payment(world)
    state = world.app.state
    dispatcher = Dispatcher(state.sessionmaker, state.settings, world.clock, httpx.MockTransport(handler))
    try:
        assert await dispatcher.run_once() == 1
    finally:
        await dispatcher.aclose()
    [event] = (await world.http.get("/v1/webhook-events", headers=world.auth())).json()
    assert event["last_error"] == shown and event["last_status_code"] is None
    assert event["status"] == "pending" and event["attempts"] == 1  # retried on the schedule


async def test_a_client_without_an_endpoint_is_told_so(world: World) -> None:
    async with world.app.state.sessionmaker() as session:
        await session.execute(update(Client).values(webhook_url=None))
        await session.commit()
    await succeeded_payment(world)
    assert await world.run_dispatcher() == 1
    [event] = (await world.http.get("/v1/webhook-events", headers=world.auth())).json()
    assert event["last_error"] == "no endpoint registered" and world.portal.received == []
