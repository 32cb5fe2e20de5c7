"""The faults suite: every payment provider (and the carrier) misbehaving through its simulator's faults API,
then the same checks after each (tests/reliability/faults_checks.py): every payment in the state its
provider shows, nothing credited twice, every portal event delivered at least once and no business event
under two ids, the ledger balanced where it exists.

The per-provider tests (tests/gateway/*flow*, tests/conformance) show each protocol works; this suite
shows the gateway stays right when the providers do not, with one parametrized test per fault."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.reliability.faults_checks import check_all
from tests.reliability.faults_world import Everything, everything, gateway_settings

pytestmark = pytest.mark.anyio

PROVIDERS = ["vnpay", "momo", "zalopay", "payos"]
# Creating a payment calls the provider everywhere but at VNPay, whose checkout URL the gateway signs.
CALLED_ON_CREATE = ["momo", "zalopay", "payos"]


@pytest.fixture
async def e(clean_database: str) -> AsyncIterator[Everything]:
    settings = gateway_settings(clean_database, breaker_failures=3, breaker_cooldown_seconds=120.0)
    async with everything(settings) as world:
        yield world


async def _open(e: Everything, provider: str) -> tuple[dict[str, Any], str]:
    """A payment, its checkout open at the provider (VNPay knows a payment once its page is loaded)."""
    payment = await e.created(provider)
    if provider == "vnpay":
        await e.world.open_checkout(payment["checkout_url"])
    return payment, await e.reference(payment["id"])


def _payment_events(e: Everything) -> list[str]:
    """The payment events the portal received, in order (other kinds, receipts say, aside)."""
    return [ev["type"] for ev in e.world.portal.events() if ev["type"].startswith("payment.")]


async def _queries_due(e: Everything) -> None:
    """Time passes until every open payment's query is due, and the resolver runs."""
    e.world.clock.advance(timedelta(seconds=e.settings.payment_first_query_seconds + 1))
    await e.world.run_resolver()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_duplicated_notifications_credit_once(e: Everything, provider: str) -> None:
    rail = e.rails[provider]
    await rail.fault("duplicate")
    _, ref = await _open(e, provider)
    await rail.pay(ref)
    assert (await check_all(e))["succeeded"] == 1
    assert _payment_events(e) == ["payment.succeeded"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_replayed_notifications_after_success_change_nothing(e: Everything, provider: str) -> None:
    rail = e.rails[provider]
    payment, ref = await _open(e, provider)
    await rail.pay(ref)
    await check_all(e)
    before = await e.world.get_payment(payment["id"])
    told = len(e.world.portal.received)
    for _ in range(3):
        await rail.resend(ref)
    assert (await check_all(e))["succeeded"] == 1
    assert await e.world.get_payment(payment["id"]) == before
    assert len(e.world.portal.received) == told  # nothing new to tell the portal
    assert _payment_events(e) == ["payment.succeeded"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_lost_notification_is_found_by_querying(e: Everything, provider: str) -> None:
    rail = e.rails[provider]
    await rail.fault("drop")
    payment, ref = await _open(e, provider)
    await rail.pay(ref)
    assert (await e.world.get_payment(payment["id"]))["status"] == "pending"
    assert await rail.status(ref) == "paid"
    await _queries_due(e)
    assert (await check_all(e))["succeeded"] == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_out_of_order_notifications_each_credit_their_own_payment(e: Everything, provider: str) -> None:
    rail = e.rails[provider]
    await rail.fault("out_of_order")
    _, first_ref = await _open(e, provider)
    _, second_ref = await _open(e, provider)
    await rail.pay(first_ref)  # held back by the provider (or followed later by a stale copy)
    await rail.pay(second_ref)
    assert (await check_all(e))["succeeded"] == 2


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_5xx_and_slow_answers_leave_nothing_wrong(e: Everything, provider: str) -> None:
    """The provider's API answers 503 three times and slowly after that: creates and queries fail or
    wait, the notification is lost; everything ends as the provider shows it."""
    rail = e.rails[provider]
    paid, paid_ref = await _open(e, provider)
    await rail.faults(**(rail.faults_on["api_5xx"] | rail.faults_on["slow"] | rail.faults_on["drop"]))
    refused = [await e.create(provider) for _ in range(2)]
    if provider in CALLED_ON_CREATE:
        assert {r.status_code for r in refused} <= {502, 503, 504}, [r.text for r in refused]
        assert all(r.headers["content-type"].startswith("application/problem+json") for r in refused)
    await rail.pay(paid_ref)
    for _ in range(3):
        await _queries_due(e)
    counts = await check_all(e)
    assert counts["succeeded"] == 1
    assert (await e.world.get_payment(paid["id"]))["status"] == "succeeded"


@pytest.mark.parametrize("provider", CALLED_ON_CREATE)
async def test_a_create_that_times_out_is_never_credited_twice(e: Everything, provider: str) -> None:
    """The provider answers the create after the gateway's deadline: the portal hears the provider did not
    answer, the payment is settled by queries, and a new attempt is a new payment at the provider."""
    rail = e.rails[provider]
    await rail.faults(api_delay_ms=200)
    e.deadline.seconds = 0.05
    timed_out = await e.create(provider)
    assert timed_out.status_code == 504, timed_out.text
    e.deadline.seconds = None
    await rail.clear_faults()
    for _ in range(3):
        await _queries_due(e)
    _, ref = await _open(e, provider)
    await rail.pay(ref)
    counts = await check_all(e)
    assert counts["succeeded"] == 1


class PaysBeforeAnswering(httpx.AsyncBaseTransport):
    """The citizen pays, and the provider's notification reaches the gateway, while the gateway still waits
    for the answer to its create call (the answer is held until the notification has been answered)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, pay: Any) -> None:
        self.inner = inner
        self.pay = pay
        self.paid: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path in {
            "/v2/gateway/api/create",
            "/v2/create",
            "/v2/payment-requests",
        }:
            await response.aread()
            self.paid.append(await self.pay(response))
        return response


@pytest.mark.parametrize("provider", CALLED_ON_CREATE)
async def test_a_notification_before_the_create_returns(e: Everything, provider: str) -> None:
    rail = e.rails[provider]
    refs: list[str] = []

    async def pay_now(_: httpx.Response) -> str:
        # The gateway committed the payment (and its provider reference) before calling the provider.
        ref = await _only_pending_reference(e)
        await rail.pay(ref)
        refs.append(ref)
        return ref

    hook = PaysBeforeAnswering(e.deadline.inner, pay_now)
    e.deadline.inner = hook
    r = await e.create(provider)
    assert r.status_code == 201, r.text
    assert hook.paid == refs and len(refs) == 1
    counts = await check_all(e)
    assert counts["succeeded"] == 1
    assert (await e.world.get_payment(r.json()["id"]))["status"] == "succeeded"


async def _only_pending_reference(e: Everything) -> str:
    from sqlalchemy import select

    from gateway.db.models import Payment

    async with e.app.state.sessionmaker() as session:
        refs = (await session.execute(select(Payment.provider_ref).where(Payment.status == "pending"))).scalars().all()
    assert len(refs) == 1, refs
    return str(refs[0])


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_provider_down_for_minutes_opens_and_closes_its_breaker(e: Everything, provider: str) -> None:
    rail = e.rails[provider]
    waiting = [await _open(e, provider) for _ in range(3)]
    await rail.faults(api_http_5xx=1000, **rail.faults_on["drop"])
    await rail.pay(waiting[0][1])  # paid while the provider's API is down; its notification lost
    await _queries_due(e)  # three queries fail: the breaker opens
    paused = await e.create(provider)
    assert paused.status_code == 503, paused.text
    assert int(paused.headers["Retry-After"]) >= 1
    health = (await e.world.http.get("/v1/providers", headers=e.world.auth())).json()
    assert _health(health, provider) == "down"

    # Minutes later (the injected clock), the provider is back: the trial call closes the breaker.
    await rail.clear_faults()
    e.world.clock.advance(timedelta(minutes=3))
    await _queries_due(e)
    health = (await e.world.http.get("/v1/providers", headers=e.world.auth())).json()
    assert _health(health, provider) == "up"
    again = await e.create(provider)
    assert again.status_code == 201, again.text
    counts = await check_all(e)
    assert counts["succeeded"] == 1


def _health(providers: Any, name: str) -> str:
    rows = providers if isinstance(providers, list) else providers.get("providers", providers)
    if isinstance(rows, dict):
        return str(rows[name]["health"])
    return str(next(p for p in rows if p["name"] == name)["health"])


REFUNDS = ["vnpay", "momo", "zalopay"]  # payOS has no refund API


def _is_refund(request: httpx.Request) -> bool:
    # VNPay's refund shares its URL with querydr: the command in the body tells them apart.
    return request.url.path in {"/v2/gateway/api/refund", "/v2/refund"} or b'"vnp_Command":"refund"' in (
        request.content.replace(b" ", b"")
    )


@pytest.mark.parametrize("provider", REFUNDS)
async def test_a_refund_whose_answer_was_lost_is_refunded_once(e: Everything, provider: str) -> None:
    """The provider refunds, its answer never arrives: the refund is asked about, not sent twice, and a
    second refund of the whole amount is refused."""
    rail = e.rails[provider]
    if provider in ("vnpay", "zalopay"):
        await rail.faults(refund_pending=False)  # completed at once, so the provider's total is final
    payment, ref = await _open(e, provider)
    await rail.pay(ref)
    e.deadline.lose_answer_to = _is_refund
    headers = {**e.world.auth(), "Idempotency-Key": str(uuid.uuid4())}
    body = {"reason": "Hoàn phí nộp thừa"}
    r = await e.world.http.post(f"/v1/payments/{payment['id']}/refunds", json=body, headers=headers)
    assert e.deadline.lost, "the refund never reached the provider"
    assert r.status_code in (201, 504), r.text
    assert await rail.refunded(ref) == payment["amount"]  # the provider did refund
    for _ in range(3):
        await _queries_due(e)
    again = await e.world.http.post(
        f"/v1/payments/{payment['id']}/refunds", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert again.status_code in (409, 422), again.text
    await check_all(e)
    assert await rail.refunded(ref) == payment["amount"]
    assert (await e.world.get_payment(payment["id"]))["refunded_amount"] == payment["amount"]
    refund_events = [ev for ev in e.world.portal.events() if ev["type"].startswith("refund.")]
    assert [ev["type"] for ev in refund_events] == ["refund.succeeded"]


@pytest.mark.parametrize("provider", CALLED_ON_CREATE)
async def test_a_create_whose_answer_was_lost_is_settled_by_the_provider(e: Everything, provider: str) -> None:
    """The provider made the order but its answer was lost: the portal hears 504, the payment stays open
    for the resolver, and if the order is paid after all the payment is credited, once."""
    rail = e.rails[provider]
    e.deadline.lose_answer_to = lambda request: request.method == "POST"
    lost = await e.create(provider)
    assert lost.status_code == 504, lost.text
    ref = await _only_pending_reference(e)
    assert await rail.status(ref) == "unpaid"  # the order exists at the provider
    await _queries_due(e)
    await rail.pay(ref)  # paid there after all (a payment page the citizen still had open)
    counts = await check_all(e)
    assert counts["succeeded"] == 1
