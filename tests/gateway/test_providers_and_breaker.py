"""GET /v1/providers, and a provider's circuit breaker: repeated failures pause its new payments (503 with
Retry-After and the alternatives), a trial after the cooldown closes it, payments already made go on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.errors import ProviderUnavailable
from contracts.providers import Checkout, CheckoutOrder
from tests.harness import World

pytestmark = pytest.mark.anyio


async def providers(world: World) -> dict[str, dict[str, object]]:
    r = await world.http.get("/v1/providers", headers=world.auth())
    assert r.status_code == 200, r.text
    return {p["name"]: p for p in r.json()}


async def test_the_enabled_providers_with_their_limits_and_health(world: World) -> None:
    vnpay = (await providers(world))["vnpay"]
    assert vnpay == {
        "name": "vnpay",
        "display_name": "VNPay",
        "max_amount": 9_999_999_999,
        "refund": True,
        "partial_refund": True,
        "refund_window_days": 30,
        "min_refund_amount": 1,
        "qr": False,
        "health": "up",
    }
    assert (await world.http.get("/v1/providers")).status_code == 401


async def test_repeated_failures_pause_new_payments_until_a_trial_succeeds(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = world.app.state.providers.get("vnpay")
    real = provider.create_checkout
    calls = []

    async def down(order: CheckoutOrder) -> Checkout:
        calls.append(order)
        raise ProviderUnavailable("vnpay", "connection refused")

    monkeypatch.setattr(provider, "create_checkout", down)
    failures = world.app.state.settings.breaker_failures
    for _ in range(failures):
        assert (await world.create_payment()).status_code == 504
    paused = await world.create_payment()
    assert paused.status_code == 503 and len(calls) == failures  # refused without calling VNPay
    assert paused.headers["content-type"].startswith("application/problem+json")
    others = [name for name in world.app.state.providers.names() if name != "vnpay"]
    assert paused.json()["type"].endswith("/provider-down") and paused.json()["alternatives"] == others
    assert 1 <= int(paused.headers["retry-after"]) <= 30
    assert (await providers(world))["vnpay"]["health"] == "down"

    world.clock.advance(timedelta(seconds=world.app.state.settings.breaker_cooldown_seconds))
    assert (await providers(world))["vnpay"]["health"] == "recovering"
    assert (await world.create_payment()).status_code == 504  # the trial fails: paused again
    assert (await world.create_payment()).status_code == 503

    world.clock.advance(timedelta(seconds=world.app.state.settings.breaker_cooldown_seconds))
    monkeypatch.setattr(provider, "create_checkout", real)
    assert (await world.create_payment()).status_code == 201  # the trial succeeds: closed
    assert (await world.create_payment()).status_code == 201
    assert (await providers(world))["vnpay"]["health"] == "up"


async def test_payments_already_made_are_still_resolved_while_paused(world: World) -> None:
    made = (await world.create_payment()).json()
    breaker = world.app.state.providers._breakers["vnpay"]
    for _ in range(world.app.state.settings.breaker_failures):
        breaker.failed()
    assert (await world.create_payment()).status_code == 503
    world.clock.advance(timedelta(hours=1))  # past expiry: the resolver asks VNPay, which never saw it
    await world.run_resolver()
    assert (await world.get_payment(made["id"]))["status"] == "expired"
    assert (await providers(world))["vnpay"]["health"] == "up"  # the query's answer closed the breaker
