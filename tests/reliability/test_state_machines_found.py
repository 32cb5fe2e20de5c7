"""What the state machines (test_state_machines.py) found, each kept as a plain regression test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.reliability.faults_world import Everything, everything, gateway_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
async def e(clean_database: str) -> AsyncIterator[Everything]:
    async with everything(gateway_settings(clean_database)) as world:
        yield world


async def test_cancelling_an_expired_payment_is_a_409_naming_its_status(e: Everything) -> None:
    # It answered 500: the problem's extension was named `status`, the RFC 9457 member's own name.
    payment = await e.created("vnpay")
    e.world.clock.advance(timedelta(days=2))
    await e.world.run_resolver()
    assert (await e.world.get_payment(payment["id"]))["status"] == "expired"
    r = await e.world.http.post(f"/v1/payments/{payment['id']}/cancel", headers=e.world.auth())
    assert r.status_code == 409, r.text
    body = r.json()
    assert (body["status"], body["current_status"]) == (409, "expired")
    assert body["type"].endswith("/invalid-transition")
    assert (await e.world.get_payment(payment["id"]))["status"] == "expired"
